"""Recent messages and their final state, for query_sm (SMPP 3.4 §4.8), in the state store.

Each message_id is a message record (records.py) under `account/message_id`. Bounded two
ways, because every record is made by a peer's submit: at most `max_messages` ids (the store
drops the oldest) and none older than `max_age` seconds (each expires). An id that is
unknown, evicted, or belongs to another account is simply not found (the caller answers
ESME_RQUERYFAIL); one account can never read another's messages.

`now` is Unix seconds (the store's clock); the dates shown are the record's own wall-clock
times, written in the zone the caller asks for; `absolute_time` writes them in SMPP form.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bridge.pipeline.outcome.receipts import MessageState
from bridge.pipeline.outcome.records import (
    MESSAGE_KIND,
    RECEIPT_KIND,
    MessageRecord,
    decode_record,
    encode_record,
    record_key,
)
from bridge.state import RecordStore, RecordWrite


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """What query_sm_resp reports for one message_id."""

    account: str
    message_id: str
    message_state: MessageState
    final_date: datetime | None  # None while the message is not final
    error_code: int  # query_sm_resp error_code, Int1: the receipt's err: number

    def __post_init__(self) -> None:
        if not 0 <= self.error_code <= 255:
            raise ValueError(f"error_code {self.error_code} does not fit query_sm_resp (Int1)")


class MessageStore:
    __slots__ = ("_max_age", "_max_messages", "_state")

    def __init__(
        self, state: RecordStore, *, max_messages: int = 100_000, max_age: float = 86_400.0
    ) -> None:
        if max_messages < 1 or max_age <= 0:
            raise ValueError("message store bounds must be positive")
        self._state = state
        self._max_messages = max_messages
        self._max_age = max_age

    async def record(
        self,
        record: MessageRecord,
        *,
        now: float,
        deleting: tuple[str, str] | None = None,
        also: RecordWrite | None = None,
    ) -> None:
        """Keep `record` under each of its message_ids, or its reference when it has none,
        deleting the record `deleting` and putting `also` in the same step (raises
        StateUnavailable)."""
        if not 0 <= record.error_code <= 255:
            raise ValueError(f"error_code {record.error_code} does not fit query_sm_resp (Int1)")
        value = encode_record(record)
        account, keys = record.account, record.keys
        put, expires_at, bound = self._state.put_record, now + self._max_age, self._max_messages
        if len(keys) == 1:  # one message_id (or its reference): most messages
            await put(
                MESSAGE_KIND,
                record_key(account, keys[0]),
                value,
                now=now,
                expires_at=expires_at,
                max_records=bound,
                deleting=deleting,
                also=also,
            )
            return
        puts = [
            put(
                MESSAGE_KIND,
                record_key(account, message_id),
                value,
                now=now,
                expires_at=expires_at,
                max_records=bound,
                deleting=deleting if index == 0 else None,
                also=also if index == 0 else None,
            )
            for index, message_id in enumerate(keys)
        ]
        # Started together, so they share one group commit.
        for result in await asyncio.gather(*puts, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    async def receipt_fate(self, account: str, message_id: str, fate: str, *, now: float) -> None:
        """What became of a queued receipt (records.py: confirmed, refused, dropped)."""
        await self._state.put_record(
            RECEIPT_KIND,
            record_key(account, message_id),
            fate.encode("ascii"),
            now=now,
            expires_at=now + self._max_age,
            max_records=self._max_messages,
        )

    async def lookup(
        self, *, account: str, message_id: str, now: float, zone: tzinfo | None
    ) -> StoredMessage | None:
        found = await self._state.get_record(MESSAGE_KIND, record_key(account, message_id), now=now)
        if found is None:
            return None
        record = decode_record(found.value)
        final = record.final_at
        return StoredMessage(
            account=account,
            message_id=message_id,
            message_state=MessageState(record.message_state),
            final_date=None if final is None else datetime.fromtimestamp(final, zone),
            error_code=record.error_code,
        )


def absolute_time(moment: datetime) -> str:
    """SMPP 3.4 §7.1.1 absolute time "YYMMDDhhmmsstnnp": tenths of a second, then the offset
    from UTC in quarter hours and its sign. A naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    offset = aware.utcoffset() or timedelta(0)
    quarters, sign = int(abs(offset).total_seconds()) // 900, "-" if offset < timedelta(0) else "+"
    tenths = aware.microsecond // 100_000
    return f"{aware:%y%m%d%H%M%S}{tenths}{quarters:02d}{sign}"
