"""The pipeline's clock for dates, and what it reports for metrics: running totals of what
it did, and what its upkeep (recovery at start, the sweep) found."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol


class WallClock(Protocol):
    """The wall-clock time: Unix seconds for message records, local dates for receipts.

    Two steps, because most messages need only the seconds: a local datetime is made
    only for a receipt's dates or a query_sm's final_date (~2 µs a date, twice per
    message, when every message made them).
    """

    def now(self) -> float:
        """Unix seconds now."""
        ...

    def local(self, at: float) -> datetime:
        """`at` (Unix seconds) as an aware local datetime."""
        ...


class LocalTime:
    """The local wall-clock time of this machine.

    `datetime.now().astimezone()` looks the zone up on every call (a few µs); the zone's
    offset is looked up once a minute instead, so a change of offset (daylight saving)
    shows within a minute.
    """

    __slots__ = ("_until", "_zone")

    def __init__(self) -> None:
        self._zone: tzinfo | None = None
        self._until = 0.0

    def now(self) -> float:
        return time.time()

    def local(self, at: float) -> datetime:
        if at >= self._until or self._zone is None:
            self._zone = datetime.now().astimezone().tzinfo
            self._until = time.time() + 60.0
        return datetime.fromtimestamp(at, self._zone)


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovered:
    """What the store held at start (the `state_recovered` line and its metrics)."""

    receipts: int
    long_messages: int
    retries: int
    records: int
    intents: int  # messages a crash left at iSMS, settled as unknown outcomes (sending/intents.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSizes:
    """What the state store holds, as of the last sweep (metrics read it at each scrape)."""

    long_messages: int = 0
    long_message_octets: int = 0
    receipts_held: int = 0  # queued, not being delivered
    receipts_sent: int = 0  # being delivered: leased, not yet confirmed


@dataclass(slots=True)
class PipelineCounters:
    """Running totals of what the pipeline did, for metrics (read, never reset, by the app).

    refusals: messages the bridge refused before iSMS, by reason kind ("binary",
    "too_long", "destination", ...)."""

    refusals: Counter[str] = field(default_factory=Counter)
    # Estimated credits of what iSMS accepted, per account (policy/credits.py).
    credits: Counter[str] = field(default_factory=Counter)
    # Resends within a duplicate window, per (account, action) (policy/duplicates.py).
    duplicates: Counter[tuple[str, str]] = field(default_factory=Counter)
    long_messages: int = 0
    reassembly_expired: int = 0
    unicode_retries: int = 0
    # Intents a crash left, settled as unknown outcomes (outcome/unsettled.py).
    intents_unsettled: int = 0
    receipts_sent: int = 0
    receipts_held: int = 0
    receipts_retried: int = 0
    receipts_refused: int = 0  # the ESME answered the deliver_sm with an error status
    receipts_dropped: int = 0  # too many or too old while held, or out of attempts
