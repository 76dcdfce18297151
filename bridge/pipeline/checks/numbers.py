"""SMPP destination addresses -> iSMS numbers: digits with the country code, no `+` or `00`.

Every public iSMS integration sends `60123456789` (isms-research.md §2), so that is the one
form produced. The rules, by the address's TON (SMPP 3.4 §5.2.5) and its leading characters:
- `+` or `00` in front: international; the prefix is dropped (`+60123456789`, `0060...`).
- TON 1 (international): the digits already start with the country code.
- TON 2 (national) or 4 (subscriber): a leading trunk `0` is dropped and the default country
  code (60 unless configured) put in front: `0123456789` -> `60123456789`.
- TON 0 (unknown): a single leading `0` means national as above; otherwise the number is
  taken to carry its country code already, which is how most ESMEs send it.
- TON 5 (alphanumeric) and 6 (abbreviated, short codes) cannot be an iSMS destination.
Spaces, dashes, dots and brackets that people type are ignored. The result must be 7 to 15
digits (E.164) not starting with 0; anything else is `InvalidNumber`, which the pipeline
answers with ESME_RINVDSTADR without calling iSMS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

DEFAULT_COUNTRY_CODE = "60"  # Malaysia
_MIN_DIGITS = 7
_MAX_DIGITS = 15  # E.164
_SEPARATORS = str.maketrans("", "", " -.()")


class Ton(enum.IntEnum):
    """type_of_number (SMPP 3.4 §5.2.5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class Npi(enum.IntEnum):
    """numbering_plan_indicator (SMPP 3.4 §5.2.6)."""

    UNKNOWN = 0
    ISDN = 1  # E.163/E.164
    DATA = 3  # X.121
    TELEX = 4  # F.69
    LAND_MOBILE = 6  # E.212
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14  # IP address
    WAP = 18  # WAP client id


# Plans whose addresses are not telephone numbers.
_NOT_PHONE_PLANS = frozenset({Npi.DATA, Npi.TELEX, Npi.ERMES, Npi.INTERNET, Npi.WAP})
_NOT_PHONE_TONS = frozenset({Ton.ALPHANUMERIC, Ton.ABBREVIATED})
# TONs whose numbers take the default country code.
_NATIONAL_TONS = frozenset({Ton.NATIONAL, Ton.SUBSCRIBER_NUMBER})
# Bound once: on Python 3.11 every `Ton.X` lookup goes through EnumType's __getattr__
# hook (docs/performance-notes.md), and isms_number runs for every destination.
_INTERNATIONAL: Final = Ton.INTERNATIONAL


class InvalidNumber(ValueError):
    """An address that cannot be an iSMS destination; `reason` says why, for the log."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"{address!r}: {reason}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberRules:
    default_country_code: str = DEFAULT_COUNTRY_CODE

    def __post_init__(self) -> None:
        code = self.default_country_code
        if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3 and code[0] != "0"):
            raise ValueError(f"a country code is 1 to 3 digits not starting with 0, got {code!r}")


def isms_number(address: str, ton: int = 0, npi: int = 1, rules: NumberRules | None = None) -> str:
    """The iSMS `dstno` for one SMPP address, or `InvalidNumber`."""
    country_code = (rules or NumberRules()).default_country_code
    if ton in _NOT_PHONE_TONS:
        raise InvalidNumber(address, f"TON {ton} ({Ton(ton).name.lower()}) is not a phone number")
    if npi in _NOT_PHONE_PLANS:
        raise InvalidNumber(address, f"NPI {npi} ({Npi(npi).name.lower()}) is not a phone plan")
    # Most addresses are digits already: strip() and translate() would cost ~1 µs more.
    typed = address if address.isdigit() else address.strip().translate(_SEPARATORS)
    if typed.startswith("+"):
        digits = typed[1:]
    elif typed.startswith("00"):
        digits = typed[2:]
    elif typed.startswith("0") and ton != _INTERNATIONAL:
        digits = country_code + typed[1:]
    elif ton in _NATIONAL_TONS:
        digits = country_code + typed
    else:
        digits = typed
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidNumber(address, "not all digits")
    if digits.startswith("0"):
        raise InvalidNumber(address, "no country code (starts with 0 after the prefix)")
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        raise InvalidNumber(address, f"{len(digits)} digits; a full number has 7 to 15")
    return digits
