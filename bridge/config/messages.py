"""`[messages]`: the bounds of what the message pipeline holds for ESMEs (all optional).

Long messages waiting for their other parts, receipts waiting for a receiver, and recent
messages kept for query_sm are all made by peers, so each is bounded by count and by time.
README "Messages" explains each key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.config.reader import TableReader
from bridge.pipeline import ReassemblyLimits, ReceiptSettings

_DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesConfig:
    reassembly: ReassemblyLimits = field(default_factory=ReassemblyLimits)
    receipts: ReceiptSettings = field(default_factory=ReceiptSettings)
    query_store_max: int = 100_000
    query_store_age_s: float = _DAY


def parse_messages_section(reader: TableReader) -> MessagesConfig:
    reassembly = ReassemblyLimits(
        timeout=reader.number("reassembly_timeout_s", 120.0, above=0.0, maximum=_DAY),
        max_pending_per_account=reader.integer(
            "max_pending_long_messages", 100, minimum=1, maximum=1_000_000
        ),
        max_buffered_bytes=reader.integer(
            "max_reassembly_bytes", 8 * 1024 * 1024, minimum=1024, maximum=1 << 34
        ),
    )
    receipts = ReceiptSettings(
        max_held_per_account=reader.integer(
            "receipt_hold_max", 10_000, minimum=1, maximum=10_000_000
        ),
        max_held_age_s=reader.number("receipt_hold_s", 3_600.0, above=0.0, maximum=7 * _DAY),
        attempts=reader.integer("receipt_attempts", 3, minimum=1, maximum=100),
        retry_delay_s=reader.number("receipt_retry_delay_s", 1.0, minimum=0.0, maximum=3_600.0),
    )
    config = MessagesConfig(
        reassembly=reassembly,
        receipts=receipts,
        query_store_max=reader.integer("query_store_max", 100_000, minimum=1, maximum=100_000_000),
        query_store_age_s=reader.number("query_store_age_s", _DAY, above=0.0, maximum=30 * _DAY),
    )
    reader.finish()
    return config
