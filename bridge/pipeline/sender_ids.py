"""SMPP source_addr -> iSMS `sendid`.

iSMS API page: sendid is "A to z 0 to 9 only", "Maximum 11 characters"; its REST reference
adds that an alphanumeric sender ID has at least 3 characters. The ESME's source_addr becomes
the sendid when it fits that rule and the account allows it (an account with no
`allowed_sender_ids` allows any); otherwise the account's `default_sender`, or no sendid at
all (iSMS then shows its own default).

Note for operators, from the same page: "Malaysia Prefix does not support Sender ID".
Malaysian operators replace any sender ID with a 5-digit short code (MCMC rule since 2007),
so an alphanumeric sender ID shows only on numbers outside Malaysia.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

MAX_SENDER_ID = 11
_MIN_ALPHANUMERIC = 3
MALAYSIA = "60"


def is_valid_sender_id(candidate: str) -> bool:
    """A to z and 0 to 9 only, at most 11; with a letter in it, at least 3."""
    # For ASCII text isalnum() is exactly [A-Za-z0-9]+: the regex's test without a regex.
    if not (candidate.isascii() and candidate.isalnum() and len(candidate) <= MAX_SENDER_ID):
        return False
    return candidate.isdigit() or len(candidate) >= _MIN_ALPHANUMERIC


def choose_sender_id(
    source_addr: str,
    *,
    allowed: Collection[str] = (),
    default: str | None = None,
) -> str | None:
    """The sendid for a message from `source_addr`, or None to send without one."""
    candidate = source_addr.strip()
    if candidate.startswith("+") and candidate[1:].isdigit():
        candidate = candidate[1:]  # a phone number as sender: '+' is not allowed in sendid
    if candidate and is_valid_sender_id(candidate) and (not allowed or candidate in allowed):
        return candidate
    if default is not None and is_valid_sender_id(default):
        return default
    return None


def sender_id_replaced_in_malaysia(sender_id: str | None, destinations: Iterable[str]) -> bool:
    """True when an alphanumeric sender ID goes to a Malaysian number, where it won't show."""
    if sender_id is None or sender_id.isdigit():
        return False
    return any(number.startswith(MALAYSIA) for number in destinations)
