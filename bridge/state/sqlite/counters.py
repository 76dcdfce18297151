"""The SQL of the counters (`reserve`, `reserve_all`, `unreserve`, `unreserve_all`,
`counter_value`), of `claim_record` and of `claim_and_put`, as plain functions of a
connection, run like those of ops.py: the writing ones inside the
writer thread's open transaction, so each is atomic with the others of its group.

A counter past its expiry counts 0; its row is replaced by the next granted reservation
(a few rows per account and period: nothing sweeps them).

`reserve_all` and `claim_and_put` also come as data (ReserveAll, ClaimAndPut), so that the
writer takes a run of them together (`counted_run`): one read of the counters they name,
each decided in turn in memory as the SQL would decide it, their records in one multi-row
INSERT per kind, and each counter written once. Under traffic every message of a group
reserves on the same few counters (its account's caps), so a group pays a handful of
statements, not several per message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from bridge.state.results import ClaimedAndPut, Record, RecordWrite, Reservation, Reserved
from bridge.state.sqlite import ops, runs


def _live(connection: sqlite3.Connection, counter: str, now: float) -> int | None:
    row = connection.execute(
        "SELECT value FROM counters WHERE name = ? AND expires_at > ?", (counter, now)
    ).fetchone()
    return None if row is None else int(row[0])


def reserve(
    connection: sqlite3.Connection,
    counter: str,
    amount: int,
    limit: int,
    now: float,
    expires_at: float,
) -> Reserved:
    held = _live(connection, counter, now)
    used = 0 if held is None else held
    if used + amount > limit:
        return Reserved(granted=False, used=used)
    if held is None:
        connection.execute(
            "INSERT OR REPLACE INTO counters (name, value, expires_at) VALUES (?, ?, ?)",
            (counter, amount, expires_at),
        )
    else:
        connection.execute(
            "UPDATE counters SET value = value + ? WHERE name = ?", (amount, counter)
        )
    return Reserved(granted=True, used=used + amount)


def unreserve(connection: sqlite3.Connection, counter: str, amount: int, now: float) -> int:
    held = _live(connection, counter, now)
    if held is None:
        return 0
    value = max(0, held - amount)
    connection.execute("UPDATE counters SET value = ? WHERE name = ?", (value, counter))
    return value


def counter_value(connection: sqlite3.Connection, counter: str, now: float) -> int:
    held = _live(connection, counter, now)
    return 0 if held is None else held


def claim_record(
    connection: sqlite3.Connection,
    kind: str,
    key: str,
    value: bytes,
    now: float,
    expires_at: float,
    max_records: int,
) -> Record | None:
    held = ops.get_record(connection, kind=kind, key=key, now=now)
    if held is not None:
        return held
    ops.put_record(
        connection,
        kind=kind,
        key=key,
        value=value,
        now=now,
        expires_at=expires_at,
        max_records=max_records,
    )
    return None


@cache
def _live_many_sql(names: int) -> str:
    marks = ", ".join(["?"] * names)
    # Built of "?" marks only: every value is bound, never written into the SQL.
    return f"SELECT name, value FROM counters WHERE name IN ({marks}) AND expires_at > ?"  # noqa: S608


def reserve_all(
    connection: sqlite3.Connection, reservations: Sequence[Reservation], now: float
) -> tuple[Reserved, ...]:
    if not reservations:
        return ()
    names = [counter for counter, *_rest in reservations]
    live = dict(connection.execute(_live_many_sql(len(names)), (*names, now)).fetchall())
    used = [int(live.get(name, 0)) for name in names]
    if any(u + r[1] > r[2] for u, r in zip(used, reservations, strict=True)):
        return tuple(Reserved(granted=False, used=u) for u in used)
    raised = [(r[1], r[0]) for r in reservations if r[0] in live]
    if raised:
        connection.executemany("UPDATE counters SET value = value + ? WHERE name = ?", raised)
    started = [(r[0], r[1], r[3]) for r in reservations if r[0] not in live]
    if started:
        connection.executemany(
            "INSERT OR REPLACE INTO counters (name, value, expires_at) VALUES (?, ?, ?)", started
        )
    return tuple(
        Reserved(granted=True, used=u + r[1]) for u, r in zip(used, reservations, strict=True)
    )


def unreserve_all(
    connection: sqlite3.Connection, amounts: Sequence[tuple[str, int]], now: float
) -> None:
    for counter, amount in amounts:
        unreserve(connection, counter, amount, now)


def _put(connection: sqlite3.Connection, write: RecordWrite, now: float) -> None:
    """put_record, as one INSERT when it replaces and drops nothing (the usual case)."""
    put = _as_put(write, now)
    if not runs.insert_new_records(connection, [put]):
        put(connection)


def claim_and_put(
    connection: sqlite3.Connection,
    kind: str,
    key: str,
    value: bytes,
    now: float,
    expires_at: float,
    max_records: int,
    claim: RecordWrite | None,
    reservations: Sequence[Reservation],
) -> ClaimedAndPut:
    if claim is not None:
        held = ops.get_record(connection, kind=claim.kind, key=claim.key, now=now)
        if held is not None:
            return ClaimedAndPut(held=held, reserved=())
    reserved = reserve_all(connection, reservations, now)  # all or nothing
    if all(r.granted for r in reserved):
        if claim is not None:
            _put(connection, claim, now)
        _put(
            connection,
            RecordWrite(
                kind=kind, key=key, value=value, expires_at=expires_at, max_records=max_records
            ),
            now,
        )
    return ClaimedAndPut(held=None, reserved=reserved)


@dataclass(slots=True, kw_only=True)
class ReserveAll:
    """`reserve_all` kept as data, for `counted_run`; called alone, it is reserve_all."""

    reservations: Final[Sequence[Reservation]]
    now: Final[float]

    def __call__(self, connection: sqlite3.Connection) -> tuple[Reserved, ...]:
        return reserve_all(connection, self.reservations, self.now)


@dataclass(slots=True, kw_only=True)
class ClaimAndPut:
    """`claim_and_put` kept as data, for `counted_run`; called alone, it is claim_and_put."""

    put: Final[RecordWrite]
    claim: Final[RecordWrite | None]
    reservations: Final[Sequence[Reservation]]
    now: Final[float]

    def __call__(self, connection: sqlite3.Connection) -> ClaimedAndPut:
        put = self.put
        return claim_and_put(
            connection,
            put.kind,
            put.key,
            put.value,
            self.now,
            put.expires_at,
            put.max_records,
            self.claim,
            self.reservations,
        )

    def records(self) -> tuple[tuple[str, str], ...]:
        """The (kind, key) of each record it may write."""
        put, claim = self.put, self.claim
        if claim is None:
            return ((put.kind, put.key),)
        return ((put.kind, put.key), (claim.kind, claim.key))


Counted = ReserveAll | ClaimAndPut


def counted_run(
    connection: sqlite3.Connection, run: Sequence[Counted]
) -> list[tuple[Reserved, ...] | ClaimedAndPut]:
    """A run of reserve_all and claim_and_put, with the results each would give in turn.

    The counters they name are read once and each operation is decided in order against
    what those before it reserved; the records of those that are done are inserted as new
    (runs.insert_new_mixed), then each counter changed is written once. When a record
    cannot go in as new (a claim's key or an intent's already there, a kind at its bound),
    nothing of that is kept and the run is taken one at a time, as each alone would be.
    A claim that is already there is found so, by the INSERT that fails, or (for one
    refused by its caps, which inserts nothing) by a read."""
    names = sorted({r[0] for op in run for r in op.reservations})
    live: dict[str, list[float]] = {}
    if names:
        rows = connection.execute(_rows_of_sql(len(names)), names).fetchall()
        live = {name: [value, expires_at] for name, value, expires_at in rows}
    changed: set[str] = set()
    claimed: dict[tuple[str, str], Record] = {}
    puts: list[ops.RecordPut] = []
    results: list[tuple[Reserved, ...] | ClaimedAndPut] = []
    for op in run:
        now = op.now
        claim = op.claim if isinstance(op, ClaimAndPut) else None
        if claim is not None and (held := claimed.get((claim.kind, claim.key))) is not None:
            results.append(ClaimedAndPut(held=held, reserved=()))
            continue
        reserved = _decide(live, changed, op.reservations, now)
        if isinstance(op, ReserveAll):
            results.append(reserved)
            continue
        if reserved and not reserved[0].granted:
            # Refused, unless its claim is held: the claim is looked at first (claim_and_put).
            held = None if claim is None else ops.get_record(connection, claim.kind, claim.key, now)
            results.append(ClaimedAndPut(held=held, reserved=() if held else reserved))
            continue
        results.append(ClaimedAndPut(held=None, reserved=reserved))
        for write in (op.put,) if claim is None else (claim, op.put):
            puts.append(_as_put(write, now))
        if claim is not None:
            claimed[(claim.kind, claim.key)] = Record(
                kind=claim.kind,
                key=claim.key,
                value=claim.value,
                stored_at=now,
                expires_at=claim.expires_at,
            )
    if puts and not runs.insert_new_mixed(connection, puts):
        return [op(connection) for op in run]
    if changed:
        connection.executemany(
            "INSERT INTO counters (name, value, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
            "expires_at = excluded.expires_at",
            [(name, int(live[name][0]), live[name][1]) for name in sorted(changed)],
        )
    return results


def _decide(
    live: dict[str, list[float]],
    changed: set[str],
    reservations: Sequence[Reservation],
    now: float,
) -> tuple[Reserved, ...]:
    """reserve_all against `live` (name -> [value, expires_at]), changing it when granted."""
    used = []
    for name, _amount, _limit, _ends in reservations:
        row = live.get(name)
        used.append(0 if row is None or row[1] <= now else int(row[0]))
    if any(u + r[1] > r[2] for u, r in zip(used, reservations, strict=True)):
        return tuple(Reserved(granted=False, used=u) for u in used)
    for (name, amount, _limit, ends), u in zip(reservations, used, strict=True):
        row = live.get(name)
        if row is None or row[1] <= now:
            live[name] = [amount, ends]  # a new period: the row is replaced (reserve_all)
        else:
            row[0] = u + amount
        changed.add(name)
    return tuple(
        Reserved(granted=True, used=u + r[1]) for u, r in zip(used, reservations, strict=True)
    )


def _as_put(write: RecordWrite, now: float) -> ops.RecordPut:
    return ops.RecordPut(
        kind=write.kind,
        key=write.key,
        value=write.value,
        now=now,
        expires_at=write.expires_at,
        max_records=write.max_records,
    )


@cache
def _rows_of_sql(names: int) -> str:
    marks = ", ".join(["?"] * names)
    # Built of "?" marks only: every value is bound, never written into the SQL.
    return f"SELECT name, value, expires_at FROM counters WHERE name IN ({marks})"  # noqa: S608
