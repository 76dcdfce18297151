"""The SQL of the counters (`reserve`, `reserve_all`, `unreserve`, `unreserve_all`,
`counter_value`), of `claim_record` and of `claim_and_put`, as plain functions of a
connection, run like those of ops.py: the writing ones inside the
writer thread's open transaction, so each is atomic with the others of its group.

A counter past its expiry counts 0; its row is replaced by the next granted reservation
(a few rows per account and period: nothing sweeps them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache

from bridge.state.results import ClaimedAndPut, Record, RecordWrite, Reservation, Reserved
from bridge.state.sqlite import ops


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
    put = ops.RecordPut(
        kind=write.kind,
        key=write.key,
        value=write.value,
        now=now,
        expires_at=write.expires_at,
        max_records=write.max_records,
    )
    if not ops.insert_new_records(connection, [put]):
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
