"""Runs of record puts written together, as the writer takes them (writer.py): each kind's
new records as multi-row INSERTs, the records a run settles deleted in one statement, and
the records put beside a run (`also`) replaced by one UPDATE; each falling back to the
puts one at a time (ops.put_record) when it cannot give the same results.

_BLOB (ops.py): values are bound as a bytearray.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from bridge.state.results import Put, RecordWrite
from bridge.state.sqlite.ops import RecordPut, put_record, record_of_row, row_count

T = TypeVar("T")

NOTHING_DISPLACED = Put(replaced=None, dropped=())
# Rows per multi-row INSERT (5 bound values each, far inside SQLite's limit of 32,766),
# the rest of a run in powers of two, so that a handful of statements (each prepared once,
# then cached by sqlite3) cover a run of any length.
MAX_ROWS_PER_STATEMENT = 256


def put_records(connection: sqlite3.Connection, puts: Sequence[RecordPut]) -> list[Put]:
    """A run of puts of one kind, with the results put_record would give each in turn.

    Tried first as multi-row INSERTs (insert_new_records; at the kind's bound,
    _insert_displacing_oldest); when a chunk cannot go that way (a key already there, or
    twice in the run, or a record to drop that is not older than the whole run), the rest
    of the run is put one at a time. Only chunks that went in whole are kept, with the
    results each put would have had, so the results are the same as each in turn."""
    results: list[Put] = []
    for chunk in _chunks(puts) if len(puts) > 1 else ():
        if insert_new_records(connection, chunk):
            results.extend([NOTHING_DISPLACED] * len(chunk))
        else:
            displacing = _insert_displacing_oldest(connection, chunk)
            if displacing is None:
                break
            results.extend(displacing)
        # Of another kind than the run's (check_deleting): inserting first changes nothing.
        _delete_settled(connection, chunk)
    return results + [put(connection) for put in puts[len(results) :]]


def insert_new_mixed(connection: sqlite3.Connection, puts: Sequence[RecordPut]) -> bool:
    """A run of puts of several kinds (the intents of messages about to leave beside the
    records of messages just settled, which delete other intents) as a multi-row INSERT per
    kind, then the deletions; only if no put would replace or drop anything and none deletes
    a record put in the run. Then the order they came in changes nothing: each kind's
    bound is checked before any deletion (so with the most records the kind can have had),
    and deletions only ever take records of other kinds. False (nothing written)
    otherwise, and the caller puts them in turn."""
    deleted = {put.deleting for put in puts if put.deleting is not None}
    if any((put.kind, put.key) in deleted for put in puts):
        return False
    by_kind: dict[str, list[RecordPut]] = {}
    for put in puts:
        by_kind.setdefault(put.kind, []).append(put)
    connection.execute("SAVEPOINT mixed")
    kept = False
    try:
        for run in by_kind.values():
            if not all(insert_new_records(connection, chunk) for chunk in _chunks(run)):
                return False
        _delete_settled(connection, puts)
        kept = True
    finally:
        if not kept:
            connection.execute("ROLLBACK TO mixed")
        connection.execute("RELEASE mixed")
    return True


def put_replacing(
    connection: sqlite3.Connection, writes: Sequence[tuple[RecordWrite, float]]
) -> None:
    """Each (write, now) put in turn as put_record puts it, its result dropped (the `also`
    of a run of puts: writer.py). When every one replaces a record of its key, in a kind
    within its bound (a duplicate claim settled: the usual case), that is one UPDATE for
    them all, since a replacement changes no count and drops nothing; otherwise, undone,
    each is put in turn."""
    bounds: dict[str, int] = {}
    for write, _now in writes:
        bounds[write.kind] = min(write.max_records, bounds.get(write.kind, write.max_records))
    connection.execute("SAVEPOINT replacing")
    kept = False
    try:
        if all(
            row_count(connection, "SELECT n FROM record_sizes WHERE kind = ?", kind) <= bound
            for kind, bound in bounds.items()
        ):
            cursor = connection.executemany(
                "UPDATE records SET value = ?, stored_at = ?, expires_at = ? "
                "WHERE kind = ? AND key = ?",
                [(bytearray(w.value), now, w.expires_at, w.kind, w.key) for w, now in writes],
            )
            kept = cursor.rowcount == len(writes)
    finally:
        if not kept:
            connection.execute("ROLLBACK TO replacing")
        connection.execute("RELEASE replacing")
    if not kept:
        for w, now in writes:
            put_record(connection, w.kind, w.key, w.value, now, w.expires_at, w.max_records)


def _delete_settled(connection: sqlite3.Connection, puts: Sequence[RecordPut]) -> None:
    deleting = [put.deleting for put in puts if put.deleting is not None]
    if deleting:
        connection.executemany("DELETE FROM records WHERE kind = ? AND key = ?", deleting)


def _insert_displacing_oldest(
    connection: sqlite3.Connection, puts: Sequence[RecordPut]
) -> list[Put] | None:
    """New keys of one kind at its bound: each put drops what put_record would drop (the
    kind's oldest, while over that put's bound), all taken by one DELETE. Kept only when
    every dropped record is older than every put of the chunk (a bound reached the
    ordinary way, each put the newest), since then put after put takes the next of them;
    otherwise undone, None."""
    kind = puts[0].kind
    values = [
        v for put in puts for v in (kind, put.key, bytearray(put.value), put.now, put.expires_at)
    ]
    connection.execute("SAVEPOINT displacing")
    kept = False
    try:
        try:
            connection.execute(_insert_rows_sql(len(puts)), values)
        except sqlite3.IntegrityError:
            return None
        count = row_count(connection, "SELECT n FROM record_sizes WHERE kind = ?", kind) - len(puts)
        drops: list[int] = []
        for put in puts:
            excess = max(0, count + 1 - put.max_records)
            drops.append(excess)
            count += 1 - excess
        rows = connection.execute(
            "DELETE FROM records WHERE kind = ? AND key IN (SELECT key FROM records "
            "WHERE kind = ? ORDER BY stored_at, key LIMIT ?) "
            "RETURNING kind, key, value, stored_at, expires_at",
            (kind, kind, sum(drops)),
        ).fetchall()
        oldest = sorted((record_of_row(row) for row in rows), key=lambda r: (r.stored_at, r.key))
        if oldest and (oldest[-1].stored_at, oldest[-1].key) >= min((p.now, p.key) for p in puts):
            return None
        kept = True
    finally:
        if not kept:
            connection.execute("ROLLBACK TO displacing")
        connection.execute("RELEASE displacing")
    results: list[Put] = []
    taken = 0
    for dropped in drops:
        results.append(Put(replaced=None, dropped=tuple(oldest[taken : taken + dropped])))
        taken += dropped
    return results


def insert_new_records(connection: sqlite3.Connection, puts: Sequence[RecordPut]) -> bool:
    """Insert puts of one kind (at most MAX_ROWS_PER_STATEMENT) with ONE statement, only if
    none would replace or drop anything; False (and nothing written) otherwise.

    One statement, so that a group of nothing else needs no BEGIN and COMMIT around it
    (it is its own transaction): in the writer thread every statement gives the GIL up
    while SQLite works and then waits to take it back from the busy event loop (up to
    the interpreter's switch interval, 5 ms), which is what a commit's latency is made of.
    An existing or repeated key fails the primary key (the statement is undone, and an
    open transaction goes on); the bound is checked against the kind's count before it.

    The statement has room for a power of two of rows, the rest padded with rows of zeros
    that it leaves out: a statement per group size would be parsed anew for most commits
    (sqlite3 keeps 128 prepared statements; groups come in any size up to 256), while
    nine sizes stay prepared, and a padding row costs less than parsing a row."""
    kind = puts[0].kind
    rows = len(puts)
    bound = min(put.max_records for put in puts)
    values = [
        v for put in puts for v in (kind, put.key, bytearray(put.value), put.now, put.expires_at)
    ]
    size = 1 << (rows - 1).bit_length()
    values += _PADDING * (size - rows)
    try:
        cursor = connection.execute(_insert_new_sql(size), (*values, kind, rows, bound))
    except sqlite3.IntegrityError:
        return False
    return cursor.rowcount == rows


_PADDING = [0] * 5  # a row insert_new_records leaves out (its kind is no text)


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    """`items` cut into runs of MAX_ROWS_PER_STATEMENT, the rest into powers of two."""
    found: list[Sequence[T]] = []
    start, size = 0, MAX_ROWS_PER_STATEMENT
    while start < len(items):
        while start + size > len(items):
            size //= 2
        found.append(items[start : start + size])
        start += size
    return found


@cache
def _insert_rows_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    # Built of "?" marks only: every value is bound, never written into the SQL.
    return f"INSERT INTO records (kind, key, value, stored_at, expires_at) VALUES {values}"  # noqa: S608


@cache
def _insert_new_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    # Built of "?" marks only: every value is bound, never written into the SQL.
    return (
        "INSERT INTO records (kind, key, value, stored_at, expires_at) "  # noqa: S608
        f"SELECT * FROM (VALUES {values}) WHERE typeof(column1) = 'text' "
        "AND coalesce((SELECT n FROM record_sizes WHERE kind = ?), 0) + ? <= ?"
    )
