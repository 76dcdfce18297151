"""What the message pipeline is told: one `AccountRoute` per SMPP login, and `PipelineSettings`
(with the bounds of long messages and receipts).

Both are built by the application from the config file (`bridge.config` parses, `bridge.app`
maps); the pipeline never reads a file or the environment itself: `app` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.pipeline.checks.encoding import DefaultAlphabet, Ia5Alphabet
from bridge.pipeline.checks.numbers import NumberRules
from bridge.pipeline.outcome.statuses import StatusMapping
from bridge.pipeline.policy.settings import AccountPolicy, CreditRules
from bridge.upstream import DEFAULT_MAX_DESTINATIONS, IsmsCredentials

# iSMS REST reference: "INVALID BODY LENGTH (1-700)".
DEFAULT_MAX_TEXT_LENGTH = 700
# SMPP 3.4 §5.2.14: priority_flag 0 (bulk) .. 3 (very urgent). 2 and 3 are "urgent" in both
# the GSM and ANSI-136 readings of the field, so OTPs and alerts sent that way jump the queue.
URGENT_PRIORITY = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRoute:
    """How one SMPP account's messages go to iSMS.

    dc0 / dc1: how data_coding 0 and 1 are read (checks/encoding.py). report_delivered:
    receipts say DELIVRD instead of ACCEPTD after an iSMS success, for ESMEs that treat
    anything else as a failure; iSMS never reports handset delivery, so this is an assumption
    the operator opts into. Sender ID rules: sending/requests.py.
    """

    system_id: str
    credentials: IsmsCredentials
    dc0: DefaultAlphabet = "gsm7"
    dc1: Ia5Alphabet = "ascii"
    report_delivered: bool = False
    default_sender: str | None = None
    allowed_sender_ids: tuple[str, ...] = ()
    # Number lists, RM0, caps and duplicates (policy/); None: every policy off.
    policy: AccountPolicy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassemblyLimits:
    """Bounds on the parts of long messages held until their last part (long_messages/
    reassembly.py, rules 6 and 7)."""

    max_pending_per_account: int = 100
    max_buffered_bytes: int = 8 * 1024 * 1024
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.max_pending_per_account < 1 or self.max_buffered_bytes < 1 or self.timeout <= 0:
            raise ValueError("reassembly limits must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptSettings:
    """Bounds on delivery receipts the bridge owes an ESME.

    A receipt for an account with no receiver bound is held (at most `max_held_per_account`,
    the oldest dropped first, and none longer than `max_held_age_s`) and sent when a receiver
    or transceiver binds. A receipt sent but not answered within the session's response
    timer is sent again, `attempts` times in all, `retry_delay_s` apart.
    """

    max_held_per_account: int = 10_000
    max_held_age_s: float = 3_600.0
    attempts: int = 3
    retry_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_held_per_account < 1 or self.max_held_age_s <= 0:
            raise ValueError("held receipt bounds must be positive")
        if self.attempts < 1 or self.retry_delay_s < 0:
            raise ValueError("a receipt is tried at least once, with a delay of 0 or more")


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineSettings:
    """Everything the pipeline needs besides the accounts.

    upstream_concurrency: most iSMS requests in flight per iSMS account; past it, requests
    wait, urgent ones (priority_flag >= 2) first. store_*: the bounds of the query_sm store.
    housekeeping_interval_s: how often expired long messages and held receipts are swept.
    """

    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    max_destinations_per_request: int = DEFAULT_MAX_DESTINATIONS
    numbers: NumberRules = field(default_factory=NumberRules)
    statuses: StatusMapping = field(default_factory=StatusMapping)
    reassembly: ReassemblyLimits = field(default_factory=ReassemblyLimits)
    receipts: ReceiptSettings = field(default_factory=ReceiptSettings)
    upstream_concurrency: int = 100
    store_max_messages: int = 100_000
    store_max_age_s: float = 86_400.0
    housekeeping_interval_s: float = 1.0
    # Keep each message's text in its record (an operator's opt-in; off, no text is stored
    # beyond the 20 characters a receipt carries).
    record_text: bool = False
    # Characters per estimated iSMS credit (policy/credits.py).
    credits: CreditRules = field(default_factory=CreditRules)

    def __post_init__(self) -> None:
        if self.max_text_length < 1 or self.max_destinations_per_request < 1:
            raise ValueError("max_text_length and max_destinations_per_request must be positive")
        if self.upstream_concurrency < 1:
            raise ValueError("upstream_concurrency must be at least 1")
        if self.housekeeping_interval_s <= 0:
            raise ValueError("housekeeping_interval_s must be positive")
