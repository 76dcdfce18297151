"""The Redis backend's counters, `claim_record` and `claim_and_put`: one script each
(lua/reserve.lua, reserve_all.lua, unreserve.lua, unreserve_all.lua, counter_value.lua,
claim_record.lua, claim_and_put.lua), so a reservation or a claim is one atomic step for
every instance of one Redis. `RedisState` inherits these; they call its `_run` (one script
in the turn's pipeline) and `_lost` (a loss reported), kept apart so that store.py stays one
idea long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bridge.state.arguments import (
    check_also,
    check_claim_and_put,
    check_put,
    check_reserve,
    check_reserve_all,
    check_unreserve,
)
from bridge.state.redis import scripts as lua
from bridge.state.redis.pipe import Script
from bridge.state.results import ClaimedAndPut, Record, RecordWrite, Reservation, Reserved

_RESERVE = Script(lua.RESERVE)
_UNRESERVE = Script(lua.UNRESERVE)
_COUNTER_VALUE = Script(lua.COUNTER_VALUE)
_CLAIM_RECORD = Script(lua.CLAIM_RECORD)
_RESERVE_ALL = Script(lua.RESERVE_ALL)
_UNRESERVE_ALL = Script(lua.UNRESERVE_ALL)
_CLAIM_AND_PUT = Script(lua.CLAIM_AND_PUT)


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


class _ScriptRunner(Protocol):
    """What these operations need of the store they are part of (RedisState has both)."""

    async def _run(self, script: Script, *args: Any) -> Any: ...

    def _lost(self, kind: str, count: Any) -> None: ...


class RedisCounters:
    """The counter operations and `claim_record` of `RedisState` (the module docstring);
    each runs on a store that is a `_ScriptRunner`."""

    async def claim_record(
        self: _ScriptRunner,
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
        self: _ScriptRunner, counter: str, amount: int, *, limit: int, now: float, expires_at: float
    ) -> Reserved:
        check_reserve(amount, limit)
        granted, used = await self._run(_RESERVE, counter, amount, limit, now, expires_at)
        return Reserved(granted=bool(granted), used=int(used))

    async def unreserve(self: _ScriptRunner, counter: str, amount: int, *, now: float) -> int:
        check_unreserve(amount)
        return int(await self._run(_UNRESERVE, counter, amount, now))

    async def counter_value(self: _ScriptRunner, counter: str, *, now: float) -> int:
        return int(await self._run(_COUNTER_VALUE, counter, now))

    async def reserve_all(
        self: _ScriptRunner, reservations: Sequence[Reservation], *, now: float
    ) -> tuple[Reserved, ...]:
        check_reserve_all(reservations)
        if not reservations:
            return ()
        granted, used = await self._run(_RESERVE_ALL, now, *_flat(reservations))
        return tuple(Reserved(granted=bool(granted), used=int(u)) for u in used)

    async def unreserve_all(
        self: _ScriptRunner, amounts: Sequence[tuple[str, int]], *, now: float
    ) -> None:
        for _counter, amount in amounts:
            check_unreserve(amount)
        if amounts:
            await self._run(_UNRESERVE_ALL, now, *_flat(amounts))

    async def claim_and_put(
        self: _ScriptRunner,
        kind: str,
        key: str,
        value: bytes,
        *,
        now: float,
        expires_at: float,
        max_records: int,
        claim: RecordWrite | None = None,
        reservations: Sequence[Reservation] = (),
    ) -> ClaimedAndPut:
        check_claim_and_put(kind, max_records, claim, reservations)
        claimed: tuple[Any, ...] = ("", "", b"", 0.0, 1)
        if claim is not None:
            claimed = (claim.kind, claim.key, claim.value, claim.expires_at, claim.max_records)
        row, used, done, lost = await self._run(
            _CLAIM_AND_PUT,
            kind, key, value, now, expires_at, max_records, *claimed, *_flat(reservations),
        )  # fmt: skip
        self._lost("record", lost)
        granted = bool(done)
        return ClaimedAndPut(
            held=record_of(row) if row else None,
            reserved=tuple(Reserved(granted=granted, used=int(u)) for u in used),
        )


def also_arguments(
    kind: str, deleting: tuple[str, str] | None, also: RecordWrite
) -> tuple[str, str, bytes, float, int]:
    """put_record.lua's ARGV 10..14: the record put with another (`also`)."""
    check_also(kind, deleting, also.kind)
    check_put(also.max_records)
    return (also.kind, also.key, also.value, also.expires_at, also.max_records)


def _flat(rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [value for row in rows for value in row]
