"""The SQL of the counters (`reserve`, `unreserve`, `counter_value`) and of `claim_record`,
as plain functions of a connection, run like those of ops.py: the writing ones inside the
writer thread's open transaction, so each is atomic with the others of its group.

A counter past its expiry counts 0; its row is replaced by the next granted reservation
(a few rows per account and period: nothing sweeps them).
"""

from __future__ import annotations

import sqlite3

from bridge.state.results import Record, Reserved
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
