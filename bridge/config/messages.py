"""`[messages]`: the bounds of what the message pipeline holds for ESMEs (all optional).

Long messages waiting for their other parts, receipts waiting for a receiver, and recent
messages kept for query_sm are all made by peers, so each is bounded by count and by time.
README "Messages" explains each key; bridge.app.settings turns them into the pipeline's
settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config.reader import TableReader

_DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesConfig:
    """The `[messages]` keys, by their names in the file."""

    reassembly_timeout_s: float = 120.0
    max_pending_long_messages: int = 100
    max_reassembly_bytes: int = 8 * 1024 * 1024
    receipt_hold_max: int = 10_000
    receipt_hold_s: float = 3_600.0
    receipt_attempts: int = 3
    receipt_retry_delay_s: float = 1.0
    query_store_max: int = 100_000
    query_store_age_s: float = _DAY


def parse_messages_section(reader: TableReader) -> MessagesConfig:
    config = MessagesConfig(
        reassembly_timeout_s=reader.number("reassembly_timeout_s", 120.0, above=0.0, maximum=_DAY),
        max_pending_long_messages=reader.integer(
            "max_pending_long_messages", 100, minimum=1, maximum=1_000_000
        ),
        max_reassembly_bytes=reader.integer(
            "max_reassembly_bytes", 8 * 1024 * 1024, minimum=1024, maximum=1 << 34
        ),
        receipt_hold_max=reader.integer("receipt_hold_max", 10_000, minimum=1, maximum=10_000_000),
        receipt_hold_s=reader.number("receipt_hold_s", 3_600.0, above=0.0, maximum=7 * _DAY),
        receipt_attempts=reader.integer("receipt_attempts", 3, minimum=1, maximum=100),
        receipt_retry_delay_s=reader.number(
            "receipt_retry_delay_s", 1.0, minimum=0.0, maximum=3_600.0
        ),
        query_store_max=reader.integer("query_store_max", 100_000, minimum=1, maximum=100_000_000),
        query_store_age_s=reader.number("query_store_age_s", _DAY, above=0.0, maximum=30 * _DAY),
    )
    reader.finish()
    return config
