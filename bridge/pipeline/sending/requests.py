"""The iSMS requests of one message: one per batch of its destinations, each with the
message's text, its iSMS `type` and its sendid.

Batches: the numbers go in batches of `max_destinations_per_request` (the API page: at most
30 per push), in the order given. A submit_multi's requests carry their batch in their
reference (`esme1/s1/11/batch2`), so that each one's log lines are told apart; the one
request of a submit_sm or data_sm carries the message's reference as it is.

SMPP source_addr -> iSMS `sendid`: the iSMS API page says sendid is "A to z 0 to 9 only",
"Maximum 11 characters"; its REST reference adds that an alphanumeric sender ID has at least
3 characters. The ESME's source_addr becomes the sendid when it fits that rule and the
account allows it (an account with no `allowed_sender_ids` allows any); otherwise the
account's `default_sender`, or no sendid at all (iSMS then shows its own default).

Note for operators, from the same page: "Malaysia Prefix does not support Sender ID".
Malaysian operators replace any sender ID with a 5-digit short code (MCMC rule since 2007),
so an alphanumeric sender ID shows only on numbers outside Malaysia.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bridge.pipeline.checks.encoding import isms_type
from bridge.pipeline.settings import AccountRoute
from bridge.upstream import IsmsMessage, SmsType, split_destinations

MAX_SENDER_ID = 11
_MIN_ALPHANUMERIC = 3
MALAYSIA = "60"

# iSMS `type` by number, without an enum call per message.
_SMS_TYPES = {int(sms_type): sms_type for sms_type in SmsType}


def isms_requests(
    route: AccountRoute,
    numbers: tuple[str, ...],
    *,
    text: str,
    source_addr: str,
    reference: str,
    per_request: int | None,
) -> list[IsmsMessage]:
    """The requests that send `text` to `numbers`: in batches of `per_request`, each batch's
    reference numbered; or, `per_request` None, one request under `reference` itself."""
    credentials, sms_type = route.credentials, _SMS_TYPES[isms_type(text)]
    sender_id = choose_sender_id(
        source_addr, allowed=route.allowed_sender_ids, default=route.default_sender
    )
    if per_request is None:
        return [
            IsmsMessage(
                credentials=credentials,
                destinations=numbers,
                text=text,
                sms_type=sms_type,
                sender_id=sender_id,
                reference=reference,
            )
        ]
    return [
        IsmsMessage(
            credentials=credentials,
            destinations=batch,
            text=text,
            sms_type=sms_type,
            sender_id=sender_id,
            reference=f"{reference}/batch{index}",
        )
        for index, batch in enumerate(split_destinations(numbers, per_request), 1)
    ]


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
