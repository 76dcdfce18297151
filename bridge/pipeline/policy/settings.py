"""What an account's policy says, as `bridge.app` builds it from the config (policy/*.py
apply it). Every part is optional: None or "off" is not checked at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from bridge.pdu import CommandStatus

Rm0Mode = Literal["off", "insert", "require"]
DuplicateMode = Literal["flag", "suppress"]
DuplicateKey = Literal["content", "user_message_reference"]
AfterUnknown = Literal["send_again", "assume_sent"]
DEFAULT_ZONE = "Asia/Kuala_Lumpur"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRules:
    """Characters per iSMS credit, per destination: the iSMS API page's 153 (type 1, ASCII)
    and 63 (type 2, Unicode)."""

    ascii_chars: int = 153
    unicode_chars: int = 63

    def __post_init__(self) -> None:
        if self.ascii_chars < 1 or self.unicode_chars < 1:
            raise ValueError("characters per credit must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberLists:
    """Destination prefixes allowed (empty: any) and denied, and the numbers opted out (the
    global list and the account's), all in iSMS form (digits with the country code)."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    opted_out: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Caps:
    """Daily and monthly limits on messages (one per destination) and on estimated credits,
    on the calendar of `zone`; past one, the submit is answered with the status of its unit."""

    daily_messages: int | None = None
    monthly_messages: int | None = None
    daily_credits: int | None = None
    monthly_credits: int | None = None
    messages_status: CommandStatus = CommandStatus.ESME_RMSGQFUL
    credits_status: CommandStatus = CommandStatus.ESME_RSUBMITFAIL
    zone: tzinfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))

    def __post_init__(self) -> None:
        if CommandStatus.ESME_RSYSERR in (self.messages_status, self.credits_status):
            raise ValueError("a cap is never answered ESME_RSYSERR (ESMEs resend it blindly)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateRules:
    """`flag`: send and count a resend; `suppress`: answer it with the first's message_id
    and send nothing. The fingerprint is kept `window_s`; `key` "user_message_reference"
    makes that TLV the idempotency key when a submit carries it."""

    mode: DuplicateMode = "suppress"
    window_s: float = 600.0
    key: DuplicateKey = "content"
    after_unknown: AfterUnknown = "send_again"

    def __post_init__(self) -> None:
        if self.window_s <= 0:
            raise ValueError("the duplicate window must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPolicy:
    """One account's policy; `bridge.app` builds none for an account with everything off."""

    lists: NumberLists | None = None
    rm0: Rm0Mode = "off"
    caps: Caps | None = None
    duplicates: DuplicateRules | None = None
