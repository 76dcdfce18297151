"""The SQL of every operation, as plain functions of a connection.

The writing ones run inside the writer thread's open transaction (writer.py), so
each is atomic with the others of its group and never commits by itself; the reading ones
run on a reader's connection. Orders follow results.py and are the memory backend's.

_BLOB: the values written per message (a record, a receipt) are bound as a bytearray,
not as the bytes they are. Python 3.11's sqlite3 binds str, int, float and bytearray
directly but sends every other type, bytes included, through its adapter registry, whose
failed `__adapt__`/`__conform__` lookups build and drop two exceptions: ~1 µs a value, more
than the copy. SQLite stores both as the same BLOB, and reads give bytes back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from bridge.state.results import (
    Enqueued,
    ExpiredGroup,
    GroupComplete,
    KeepGroup,
    PartAdded,
    PartConflict,
    PartCounts,
    PartDuplicate,
    PartKept,
    PartLimits,
    PartRefused,
    Put,
    QueueCounts,
    QueueEntry,
    Record,
    RecordWrite,
    encode_kept_group,
)

Row = Sequence[object]
T = TypeVar("T")


def _entry(row: Row) -> QueueEntry:
    queue, entry_id, body, made_at, attempts = row
    assert isinstance(queue, str) and isinstance(entry_id, int) and isinstance(body, bytes)
    assert isinstance(made_at, float) and isinstance(attempts, int)
    return QueueEntry(queue=queue, entry_id=entry_id, body=body, made_at=made_at, attempts=attempts)


def record_of_row(row: Row) -> Record:
    kind, key, value, stored_at, expires_at = row
    assert isinstance(kind, str) and isinstance(key, str) and isinstance(value, bytes)
    assert isinstance(stored_at, float) and isinstance(expires_at, float)
    return Record(kind=kind, key=key, value=value, stored_at=stored_at, expires_at=expires_at)


def row_count(connection: sqlite3.Connection, sql: str, *args: object) -> int:
    row = connection.execute(sql, args).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


# --- queues -------------------------------------------------------------------------------


def enqueue(
    connection: sqlite3.Connection, queue: str, body: bytes, now: float, max_entries: int
) -> Enqueued:
    cursor = connection.execute(
        "INSERT INTO queue_entries (queue, body, made_at, attempts, due) VALUES (?, ?, ?, 0, ?)",
        (queue, bytearray(body), now, now),  # bytearray: see _BLOB below
    )
    entry_id = cursor.lastrowid
    assert entry_id is not None
    excess = row_count(connection, "SELECT n FROM queue_sizes WHERE queue = ?", queue) - max_entries
    dropped: list[QueueEntry] = []
    if excess > 0:
        rows = connection.execute(
            "SELECT queue, id, body, made_at, attempts FROM queue_entries "
            "WHERE queue = ? ORDER BY made_at, id LIMIT ?",
            (queue, excess),
        ).fetchall()
        dropped = [_entry(row) for row in rows]
        connection.executemany(
            "DELETE FROM queue_entries WHERE id = ?", [(e.entry_id,) for e in dropped]
        )
    return Enqueued(entry_id=entry_id, dropped=tuple(dropped))


def take(
    connection: sqlite3.Connection, queue: str, owner: str, now: float, lease_s: float, limit: int
) -> tuple[QueueEntry, ...]:
    rows = connection.execute(
        "SELECT queue, id, body, made_at, attempts FROM queue_entries "
        "WHERE queue = ? AND due <= ? ORDER BY due, id LIMIT ?",
        (queue, now, limit),
    ).fetchall()
    taken = tuple(_entry(row) for row in rows)
    connection.executemany(
        "UPDATE queue_entries SET owner = ?, due = ? WHERE id = ?",
        [(owner, now + lease_s, entry.entry_id) for entry in taken],
    )
    return taken


def ack(connection: sqlite3.Connection, queue: str, entry_id: int, owner: str) -> bool:
    cursor = connection.execute(
        "DELETE FROM queue_entries WHERE id = ? AND queue = ? AND owner = ?",
        (entry_id, queue, owner),
    )
    return cursor.rowcount > 0


def release(
    connection: sqlite3.Connection,
    queue: str,
    entry_id: int,
    owner: str,
    not_before: float,
    attempts: int,
) -> bool:
    cursor = connection.execute(
        "UPDATE queue_entries SET owner = NULL, due = ?, attempts = ? "
        "WHERE id = ? AND queue = ? AND owner = ?",
        (not_before, attempts, entry_id, queue, owner),
    )
    return cursor.rowcount > 0


def release_leases(connection: sqlite3.Connection, owner: str | None) -> int:
    cursor = connection.execute(
        "UPDATE queue_entries SET owner = NULL, due = made_at "
        "WHERE owner IS NOT NULL AND (? IS NULL OR owner = ?)",
        (owner, owner),
    )
    return cursor.rowcount


def drop_entries(
    connection: sqlite3.Connection, made_before: float, limit: int
) -> tuple[QueueEntry, ...]:
    rows = connection.execute(
        "DELETE FROM queue_entries WHERE id IN "
        "(SELECT id FROM queue_entries WHERE made_at <= ? ORDER BY made_at, id LIMIT ?) "
        "RETURNING queue, id, body, made_at, attempts",
        (made_before, limit),
    ).fetchall()
    return tuple(_entry(row) for row in rows)


def queue_counts(connection: sqlite3.Connection, now: float, queue: str | None) -> QueueCounts:
    counts = "SELECT count(*), coalesce(sum(owner IS NOT NULL AND due > ?), 0), min(made_at) "
    where, args = ("", (now,)) if queue is None else ("WHERE queue = ?", (now, queue))
    row = connection.execute(counts + "FROM queue_entries " + where, args).fetchone()
    total, leased = int(row[0]), int(row[1])
    oldest = None if row[2] is None else float(row[2])
    return QueueCounts(ready=total - leased, leased=leased, oldest_made_at=oldest)


def queues(connection: sqlite3.Connection) -> tuple[str, ...]:
    rows = connection.execute("SELECT queue FROM queue_sizes WHERE n > 0 ORDER BY queue")
    return tuple(str(row[0]) for row in rows)


def has_ready(connection: sqlite3.Connection, queue: str, now: float) -> bool:
    row = connection.execute(
        "SELECT 1 FROM queue_entries WHERE queue = ? AND due <= ? LIMIT 1", (queue, now)
    ).fetchone()
    return row is not None


# --- records ------------------------------------------------------------------------------


def put_record(
    connection: sqlite3.Connection,
    kind: str,
    key: str,
    value: bytes,
    now: float,
    expires_at: float,
    max_records: int,
    deleting: tuple[str, str] | None = None,
) -> Put:
    if deleting is not None:
        connection.execute("DELETE FROM records WHERE kind = ? AND key = ?", deleting)
    old = connection.execute(
        "DELETE FROM records WHERE kind = ? AND key = ? "
        "RETURNING kind, key, value, stored_at, expires_at",
        (kind, key),
    ).fetchone()
    connection.execute(
        "INSERT INTO records (kind, key, value, stored_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (kind, key, bytearray(value), now, expires_at),  # bytearray: see _BLOB below
    )
    excess = row_count(connection, "SELECT n FROM record_sizes WHERE kind = ?", kind) - max_records
    dropped: list[Record] = []
    if excess > 0:
        rows = connection.execute(
            "SELECT kind, key, value, stored_at, expires_at FROM records WHERE kind = ? "
            "ORDER BY stored_at, key LIMIT ?",
            (kind, excess),
        ).fetchall()
        dropped = [record_of_row(row) for row in rows]
        connection.executemany(
            "DELETE FROM records WHERE kind = ? AND key = ?", [(kind, r.key) for r in dropped]
        )
    return Put(replaced=None if old is None else record_of_row(old), dropped=tuple(dropped))


@dataclass(slots=True, kw_only=True)
class RecordPut:
    """One put_record kept as data, so that the writer can insert a run of them together
    (runs.put_records); called alone, it is put_record."""

    kind: Final[str]
    key: Final[str]
    value: Final[bytes]
    now: Final[float]
    expires_at: Final[float]
    max_records: Final[int]
    deleting: Final[tuple[str, str] | None] = None
    also: Final[RecordWrite | None] = None  # the writer puts it after its run (writer.py)

    def __call__(self, connection: sqlite3.Connection) -> Put:
        if (w := self.also) is not None:  # of a third kind: commutes with the rest (check_also)
            put_record(connection, w.kind, w.key, w.value, self.now, w.expires_at, w.max_records)
        return put_record(
            connection,
            kind=self.kind,
            key=self.key,
            value=self.value,
            now=self.now,
            expires_at=self.expires_at,
            max_records=self.max_records,
            deleting=self.deleting,
        )


def get_record(connection: sqlite3.Connection, kind: str, key: str, now: float) -> Record | None:
    row = connection.execute(
        "SELECT kind, key, value, stored_at, expires_at FROM records "
        "WHERE kind = ? AND key = ? AND expires_at > ?",
        (kind, key, now),
    ).fetchone()
    return None if row is None else record_of_row(row)


def take_record(connection: sqlite3.Connection, kind: str, key: str, now: float) -> Record | None:
    row = connection.execute(
        "DELETE FROM records WHERE kind = ? AND key = ? AND expires_at > ? "
        "RETURNING kind, key, value, stored_at, expires_at",
        (kind, key, now),
    ).fetchone()
    return None if row is None else record_of_row(row)


def delete_record(connection: sqlite3.Connection, kind: str, key: str) -> bool:
    cursor = connection.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
    return cursor.rowcount > 0


def scan_records(
    connection: sqlite3.Connection, kind: str, now: float, since: float | None, limit: int | None
) -> tuple[Record, ...]:
    rows = connection.execute(
        "SELECT kind, key, value, stored_at, expires_at FROM records "
        "WHERE kind = ? AND expires_at > ? AND stored_at >= ? "
        "ORDER BY stored_at DESC, key DESC LIMIT ?",
        (kind, now, float("-inf") if since is None else since, -1 if limit is None else limit),
    ).fetchall()
    return tuple(record_of_row(row) for row in rows)


def expire_records(connection: sqlite3.Connection, now: float, limit: int) -> tuple[Record, ...]:
    rows = connection.execute(
        "DELETE FROM records WHERE (kind, key) IN (SELECT kind, key FROM records "
        "WHERE expires_at <= ? ORDER BY expires_at, kind, key LIMIT ?) "
        "RETURNING kind, key, value, stored_at, expires_at",
        (now, limit),
    ).fetchall()
    return tuple(record_of_row(row) for row in rows)


def record_count(connection: sqlite3.Connection, kind: str) -> int:
    return row_count(connection, "SELECT n FROM record_sizes WHERE kind = ?", kind)


# --- parts --------------------------------------------------------------------------------


def add_part(
    connection: sqlite3.Connection,
    group: str,
    index: int,
    value: bytes,
    *,
    total: int,
    scope: str,
    meta: bytes,
    now: float,
    expires_at: float,
    limits: PartLimits,
    keep: KeepGroup | None = None,
) -> PartAdded:
    added = _add_part(connection, group, index, value, total, scope, meta, now, expires_at, limits)
    if keep is not None and isinstance(added, GroupComplete):
        # In the same transaction as the parts' removal: kept, or still parts, never neither.
        kept = encode_kept_group(added.meta, added.first_at, index, added.parts)
        put_record(connection, keep.kind, keep.key, kept, now, keep.expires_at, keep.max_records)
    return added


def _add_part(
    connection: sqlite3.Connection,
    group: str,
    index: int,
    value: bytes,
    total: int,
    scope: str,
    meta: bytes,
    now: float,
    expires_at: float,
    limits: PartLimits,
) -> PartAdded:
    held = connection.execute(
        "SELECT meta, total, first_at FROM part_groups WHERE grp = ?", (group,)
    ).fetchone()
    if held is not None:
        stored = connection.execute(
            "SELECT value FROM parts WHERE grp = ? AND idx = ?", (group, index)
        ).fetchone()
        if stored is not None:
            return PartDuplicate(stored=bytes(stored[0]))
        held_meta, held_total, first_at = bytes(held[0]), int(held[1]), float(held[2])
        if held_meta != meta or held_total != total:
            return PartConflict(meta=held_meta, total=held_total)
        received = row_count(connection, "SELECT count(*) FROM parts WHERE grp = ?", group)
        if received + 1 == total:
            rows = connection.execute(
                "DELETE FROM parts WHERE grp = ? RETURNING idx, value", (group,)
            ).fetchall()
            connection.execute("DELETE FROM part_groups WHERE grp = ?", (group,))
            parts = {int(idx): bytes(part) for idx, part in rows}
            parts[index] = value
            return GroupComplete(
                group=group,
                meta=held_meta,
                parts=tuple(parts[i] for i in range(1, total + 1)),
                first_at=first_at,
            )
    elif total == 1:
        return GroupComplete(group=group, meta=meta, parts=(value,), first_at=now)
    else:
        in_scope = row_count(connection, "SELECT count(*) FROM part_groups WHERE scope = ?", scope)
        if in_scope >= limits.max_groups_per_scope:
            return PartRefused(reason="groups")
    octets = row_count(connection, "SELECT sum(octets) FROM part_groups")
    if octets + len(value) > limits.max_bytes:
        return PartRefused(reason="bytes")
    if held is None:
        connection.execute(
            "INSERT INTO part_groups (grp, scope, meta, total, first_at, expires_at, octets) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)",
            (group, scope, meta, total, now, expires_at),
        )
    connection.execute(
        "UPDATE part_groups SET octets = octets + ? WHERE grp = ?", (len(value), group)
    )
    connection.execute(
        "INSERT INTO parts (grp, idx, value) VALUES (?, ?, ?)", (group, index, value)
    )
    return PartKept(
        received=row_count(connection, "SELECT count(*) FROM parts WHERE grp = ?", group)
    )


def expire_groups(
    connection: sqlite3.Connection, now: float, limit: int
) -> tuple[ExpiredGroup, ...]:
    groups = connection.execute(
        "DELETE FROM part_groups WHERE grp IN (SELECT grp FROM part_groups "
        "WHERE expires_at <= ? ORDER BY expires_at, grp LIMIT ?) "
        "RETURNING grp, scope, meta, total, first_at, expires_at",
        (now, limit),
    ).fetchall()
    expired: list[ExpiredGroup] = []
    for group, scope, meta, total, first_at, expires_at in groups:
        parts = connection.execute(
            "DELETE FROM parts WHERE grp = ? RETURNING idx, value", (group,)
        ).fetchall()
        expired.append(
            ExpiredGroup(
                group=str(group),
                scope=str(scope),
                meta=bytes(meta),
                total=int(total),
                parts=tuple(sorted((int(idx), bytes(value)) for idx, value in parts)),
                first_at=float(first_at),
                expires_at=float(expires_at),
            )
        )
    return tuple(expired)


def part_counts(connection: sqlite3.Connection, scope: str | None) -> PartCounts:
    row = connection.execute(
        "SELECT count(*), coalesce(sum(octets), 0) FROM part_groups WHERE ? IS NULL OR scope = ?",
        (scope, scope),
    ).fetchone()
    return PartCounts(groups=int(row[0]), octets=int(row[1]))


def probe(connection: sqlite3.Connection, now: float) -> bool:
    """Room for a few pages (tried and rolled back), and a real commit of one row."""
    connection.execute("SAVEPOINT room")
    try:
        connection.execute("INSERT INTO probe (id, at) VALUES (2, zeroblob(16384))")
    finally:
        connection.execute("ROLLBACK TO room")
        connection.execute("RELEASE room")
    connection.execute("UPDATE probe SET at = ? WHERE id = 1", (now,))
    return True
