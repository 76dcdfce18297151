"""What the iSMS client takes (`IsmsMessage`) and what it gives back (`SendResult`).

These speak iSMS, not SMPP: destinations are iSMS digits, `type` is the iSMS SMS type, and
the result carries the iSMS code. Turning them into SMPP statuses is the pipeline's job.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

# iSMS API page: "Suggest maximum 30 numbers per push."
DEFAULT_MAX_DESTINATIONS = 30
# E.164: a full international number has at most 15 digits.
_MAX_NUMBER_DIGITS = 15


class SmsType(enum.IntEnum):
    """The iSMS `type` parameter (API page: 1 - ASCII, 2 - Unicode)."""

    ASCII = 1
    UNICODE = 2


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # iSMS answered 2000: pushed to the operator, and charged
    REJECTED = "rejected"  # iSMS answered a negative code: not sent
    UNKNOWN = "unknown"  # the request may have reached iSMS; its answer was lost
    NOT_SENT = "not_sent"  # certainly never reached iSMS (every mirror unreachable)

    # Members are singletons compared by identity, so the identity hash is the right one;
    # Enum's own is a Python call hashing the name, and tables keyed by an outcome are
    # looked up several times per message.
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True, kw_only=True)
class IsmsCredentials:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.username:
            raise ValueError("an iSMS username must not be empty")


@dataclass(frozen=True, slots=True, kw_only=True)
class IsmsMessage:
    """One iSMS send request: up to `max_destinations_per_request` numbers, one text.

    `reference` is the caller's identity for the message (e.g. the ESME's system_id and
    sequence_number); it appears in every log line about the message, never the text.
    """

    credentials: IsmsCredentials
    destinations: tuple[str, ...]
    text: str
    sms_type: SmsType
    sender_id: str | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        if not self.destinations:
            raise ValueError("an iSMS message needs at least one destination")
        for number in self.destinations:
            # dstno is digits with the country code and no '+' or '00'; the pipeline's
            # number rules produce that, so anything else here is a caller bug.
            if not (number.isascii() and number.isdigit()) or len(number) > _MAX_NUMBER_DIGITS:
                raise ValueError(f"destination {number!r} is not an iSMS number (digits only)")

    def with_type(self, sms_type: SmsType) -> IsmsMessage:
        return IsmsMessage(
            credentials=self.credentials,
            destinations=self.destinations,
            text=self.text,
            sms_type=sms_type,
            sender_id=self.sender_id,
            reference=self.reference,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What became of one `IsmsMessage`.

    `code` is the iSMS result code when iSMS answered (2000 or a negative code), else None.
    `trx_id` is iSMS's id on success; None when iSMS answered a blank success.
    `mirror` is the log-safe name of the mirror that answered or was last tried.
    `reason` says in words why the outcome is UNKNOWN or NOT_SENT (empty otherwise).
    """

    outcome: Outcome
    code: int | None
    trx_id: str | None
    mirror: str
    elapsed_s: float
    attempts: int
    reason: str = ""
    description: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


def split_destinations(
    destinations: Sequence[str], max_per_request: int = DEFAULT_MAX_DESTINATIONS
) -> Iterator[tuple[str, ...]]:
    """Destinations in request-sized batches, order kept (iSMS joins them with ';')."""
    if max_per_request < 1:
        raise ValueError("max_per_request must be at least 1")
    for start in range(0, len(destinations), max_per_request):
        yield tuple(destinations[start : start + max_per_request])
