"""Recent messages and their final state, for query_sm (SMPP 3.4 §4.8).

Bounded two ways, because every entry is made by a peer's submit: at most `max_messages`
entries (the oldest goes first) and none older than `max_age` seconds. An id that is unknown,
evicted, or belongs to another account is simply not found (the caller answers
ESME_RQUERYFAIL); one account can never read another's messages.

Time is passed in (`now`, seconds, from a clock that never goes backwards). `final_date`
is a wall-clock datetime chosen by the caller; `absolute_time` writes it in SMPP form.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bridge.pipeline.receipts import MessageState


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """What query_sm_resp reports for one message_id."""

    account: str
    message_id: str
    message_state: MessageState
    final_date: datetime | None  # None while the message is not final
    error_code: int  # query_sm_resp error_code, Int1: the receipt's err: number
    recorded_at: float

    def __post_init__(self) -> None:
        if not 0 <= self.error_code <= 255:
            raise ValueError(f"error_code {self.error_code} does not fit query_sm_resp (Int1)")


class MessageStore:
    def __init__(self, *, max_messages: int = 100_000, max_age: float = 86_400.0) -> None:
        if max_messages < 1 or max_age <= 0:
            raise ValueError("message store bounds must be positive")
        self._max_messages = max_messages
        self._max_age = max_age
        # Insertion order is record order, hence age order (a re-recorded id moves to the end).
        self._messages: OrderedDict[tuple[str, str], StoredMessage] = OrderedDict()

    def __len__(self) -> int:
        return len(self._messages)

    def record(
        self,
        *,
        account: str,
        message_id: str,
        message_state: MessageState,
        final_date: datetime | None,
        error_code: int = 0,
        now: float,
    ) -> None:
        key = (account, message_id)
        self._messages.pop(key, None)
        self._messages[key] = StoredMessage(
            account=account,
            message_id=message_id,
            message_state=message_state,
            final_date=final_date,
            error_code=error_code,
            recorded_at=now,
        )
        while len(self._messages) > self._max_messages:
            self._messages.popitem(last=False)
        self._drop_old(now)

    def lookup(self, *, account: str, message_id: str, now: float) -> StoredMessage | None:
        self._drop_old(now)
        return self._messages.get((account, message_id))

    def _drop_old(self, now: float) -> None:
        cutoff = now - self._max_age
        while self._messages:
            oldest = next(iter(self._messages.values()))
            if oldest.recorded_at > cutoff:
                break
            self._messages.popitem(last=False)


def absolute_time(moment: datetime) -> str:
    """SMPP 3.4 §7.1.1 absolute time "YYMMDDhhmmsstnnp": tenths of a second, then the offset
    from UTC in quarter hours and its sign. A naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    offset = aware.utcoffset() or timedelta(0)
    quarters, sign = int(abs(offset).total_seconds()) // 900, "-" if offset < timedelta(0) else "+"
    tenths = aware.microsecond // 100_000
    return f"{aware:%y%m%d%H%M%S}{tenths}{quarters:02d}{sign}"
