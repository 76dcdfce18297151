"""The Redis backend's counters and `claim_record`: one script each (lua/reserve.lua,
unreserve.lua, counter_value.lua, claim_record.lua), so a reservation or a claim is one
atomic step for every instance of one Redis. `RedisState` inherits these; they call its
`_run` (one script in the turn's pipeline) and `_lost` (a loss reported), kept apart so
that store.py stays one idea long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.state.arguments import check_put, check_reserve, check_unreserve
from bridge.state.redis import scripts as lua
from bridge.state.redis.pipe import Script
from bridge.state.results import Record, Reserved

_RESERVE = Script(lua.RESERVE)
_UNRESERVE = Script(lua.UNRESERVE)
_COUNTER_VALUE = Script(lua.COUNTER_VALUE)
_CLAIM_RECORD = Script(lua.CLAIM_RECORD)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def record_of(row: Sequence[Any]) -> Record:
    kind, key, value, stored_at, expires_at = row
    return Record(
        kind=_text(kind),
        key=_text(key),
        value=bytes(value),
        stored_at=float(stored_at),
        expires_at=float(expires_at),
    )


class RedisCounters:
    """The counter operations and `claim_record` of `RedisState` (the module docstring)."""

    async def _run(self, script: Script, *args: Any) -> Any:
        raise NotImplementedError  # RedisState's

    def _lost(self, kind: str, count: Any) -> None:
        raise NotImplementedError  # RedisState's

    async def claim_record(
        self,
        kind: str,
        key: str,
        value: bytes,
        *,
        now: float,
        expires_at: float,
        max_records: int,
    ) -> Record | None:
        check_put(max_records)
        row, lost = await self._run(_CLAIM_RECORD, kind, key, value, now, expires_at, max_records)
        self._lost("record", lost)
        return record_of(row) if row else None

    async def reserve(
        self, counter: str, amount: int, *, limit: int, now: float, expires_at: float
    ) -> Reserved:
        check_reserve(amount, limit)
        granted, used = await self._run(_RESERVE, counter, amount, limit, now, expires_at)
        return Reserved(granted=bool(granted), used=int(used))

    async def unreserve(self, counter: str, amount: int, *, now: float) -> int:
        check_unreserve(amount)
        return int(await self._run(_UNRESERVE, counter, amount, now))

    async def counter_value(self, counter: str, *, now: float) -> int:
        return int(await self._run(_COUNTER_VALUE, counter, now))
