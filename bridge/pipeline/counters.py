"""Running totals of what the pipeline did, for metrics (read, never reset, by the app)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class PipelineCounters:
    """refusals: messages the bridge refused before iSMS, by reason kind ("binary",
    "too_long", "destination", ...)."""

    refusals: Counter[str] = field(default_factory=Counter)
    long_messages: int = 0
    reassembly_expired: int = 0
    unicode_retries: int = 0
    receipts_sent: int = 0
    receipts_held: int = 0
    receipts_retried: int = 0
    receipts_refused: int = 0  # the ESME answered the deliver_sm with an error status
    receipts_dropped: int = 0  # too many or too old while held, or out of attempts
