"""The SQLite backend (the default): one file, WAL, one writer thread committing in groups.

`SqliteState.open(path)` takes the file's lock, checks and migrates it, and starts the
writer (writer.py); reads go to a reader thread with its own connection.
`SqliteReadOnly.open(path)` reads the same file without the lock, for `isms-bridge messages`
while `serve` runs. Token buckets and bind leases live in the process (in_process.py says why).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from bridge.state.arguments import (
    check_also,
    check_claim_and_put,
    check_deleting,
    check_enqueue,
    check_part,
    check_put,
    check_reserve,
    check_reserve_all,
    check_take,
    check_unreserve,
)
from bridge.state.errors import StateUnavailable
from bridge.state.in_process import InProcessCluster
from bridge.state.results import (
    ClaimedAndPut,
    Enqueued,
    ExpiredGroup,
    KeepGroup,
    PartAdded,
    PartCounts,
    PartLimits,
    Put,
    QueueCounts,
    QueueEntry,
    Record,
    RecordWrite,
    Reservation,
    Reserved,
)
from bridge.state.sqlite import counters, ops
from bridge.state.sqlite.file import (
    Fsync,
    drop_lock,
    file_size,
    open_reader,
    open_writer,
    take_lock,
)
from bridge.state.sqlite.watch import FileWatch, wal_bytes
from bridge.state.sqlite.writer import GroupCommitWriter, ReaderThread
from bridge.state.store import CommitObserver, NoCommitObserver

T = TypeVar("T")
# Items one sweep transaction removes (expiry, drop by age) before the next one.
SWEEP_CHUNK = 1000


class SqliteReadOnly:
    """The reading half of the store, also usable alone on a file another process writes."""

    def __init__(self, reader: ReaderThread) -> None:
        self._reader = reader

    @classmethod
    async def open(cls, path: str | Path) -> SqliteReadOnly:
        file = Path(path)
        await asyncio.to_thread(lambda: open_reader(file, read_only_file=True).close())
        return cls(ReaderThread(partial(open_reader, file, read_only_file=True), name="state-read"))

    async def aclose(self) -> None:
        await self._reader.aclose()

    async def get_record(self, kind: str, key: str, *, now: float) -> Record | None:
        return await self._reader.read(partial(ops.get_record, kind=kind, key=key, now=now))

    async def scan_records(
        self, kind: str, *, now: float, since: float | None = None, limit: int | None = None
    ) -> tuple[Record, ...]:
        return await self._reader.read(
            partial(ops.scan_records, kind=kind, now=now, since=since, limit=limit)
        )

    async def record_count(self, kind: str) -> int:
        return await self._reader.read(partial(ops.record_count, kind=kind))

    async def queue_counts(self, *, now: float, queue: str | None = None) -> QueueCounts:
        return await self._reader.read(partial(ops.queue_counts, now=now, queue=queue))

    async def queues(self) -> tuple[str, ...]:
        return await self._reader.read(ops.queues)

    async def has_ready(self, queue: str, *, now: float) -> bool:
        return await self._reader.read(partial(ops.has_ready, queue=queue, now=now))

    async def part_counts(self, *, scope: str | None = None) -> PartCounts:
        return await self._reader.read(partial(ops.part_counts, scope=scope))

    async def counter_value(self, counter: str, *, now: float) -> int:
        return await self._reader.read(partial(counters.counter_value, counter=counter, now=now))


class SqliteState(SqliteReadOnly, InProcessCluster):
    """A `StateStore` in one SQLite file that this process alone writes."""

    def __init__(
        self, path: Path, *, lock: int, writer: GroupCommitWriter, reader: ReaderThread
    ) -> None:
        super().__init__(reader)
        self.path = path
        self._lock: int | None = lock
        self._writer = writer
        self._start_cluster()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        fsync: Fsync = "normal",
        observer: CommitObserver | None = None,
        max_pages: int | None = None,
        max_wal_bytes: int | None = None,
    ) -> SqliteState:
        """Lock, check, migrate. StateFileError (path, reason) when the file is unusable.

        `max_pages` caps the file (PRAGMA max_page_count; pages are 4 KiB): past it every
        write is StateUnavailable, which is how a full disk is tested without one.
        `max_wal_bytes` caps its write-ahead log the same way, and every write is
        StateUnavailable once the file is gone from its path (watch.py)."""
        file = Path(path)
        lock = await asyncio.to_thread(take_lock, file)
        try:
            connection = await asyncio.to_thread(
                open_writer, file, fsync=fsync, max_pages=max_pages
            )
        except BaseException:
            drop_lock(lock)
            raise
        writer = GroupCommitWriter(
            connection,
            observer=observer or NoCommitObserver(),
            name="state-writer",
            guard=FileWatch(file, max_wal_bytes=max_wal_bytes),
        )
        reader = ReaderThread(partial(open_reader, file, read_only_file=False), name="state-read")
        return cls(file, lock=lock, writer=writer, reader=reader)

    @property
    def backend(self) -> str:
        return "sqlite"

    async def writable(self) -> bool:
        try:
            return await self._writer.write(partial(ops.probe, now=time.time()))
        except StateUnavailable:
            return False

    def file_size(self) -> int | None:
        return file_size(self.path)

    def wal_size(self) -> int:
        """Bytes in the write-ahead log now: large while a reader holds an old snapshot."""
        return wal_bytes(self.path)

    async def aclose(self) -> None:
        await self._writer.aclose()
        await super().aclose()
        if self._lock is not None:
            drop_lock(self._lock)
            self._lock = None

    # --- queues ---------------------------------------------------------------------------

    async def enqueue(self, queue: str, body: bytes, *, now: float, max_entries: int) -> Enqueued:
        check_enqueue(max_entries)
        return await self._writer.write(
            partial(ops.enqueue, queue=queue, body=body, now=now, max_entries=max_entries)
        )

    async def take(
        self, queue: str, *, owner: str, now: float, lease_s: float, limit: int = 1
    ) -> tuple[QueueEntry, ...]:
        check_take(lease_s, limit)
        return await self._writer.write(
            partial(ops.take, queue=queue, owner=owner, now=now, lease_s=lease_s, limit=limit)
        )

    async def ack(self, queue: str, entry_id: int, *, owner: str) -> bool:
        return await self._writer.write(
            partial(ops.ack, queue=queue, entry_id=entry_id, owner=owner)
        )

    async def release(
        self, queue: str, entry_id: int, *, owner: str, not_before: float, attempts: int
    ) -> bool:
        return await self._writer.write(
            partial(
                ops.release,
                queue=queue,
                entry_id=entry_id,
                owner=owner,
                not_before=not_before,
                attempts=attempts,
            )
        )

    async def release_leases(self, *, owner: str | None = None) -> int:
        return await self._writer.write(partial(ops.release_leases, owner=owner))

    async def drop_entries(self, *, made_before: float) -> tuple[QueueEntry, ...]:
        dropped = await self._sweep(partial(ops.drop_entries, made_before=made_before))
        return tuple(sorted(dropped, key=lambda e: (e.made_at, e.entry_id)))

    async def _sweep(self, operation: Callable[..., tuple[T, ...]]) -> list[T]:
        """A sweep in transactions of SWEEP_CHUNK items, so that the writes of submits
        arriving meanwhile commit between them instead of waiting for all of it."""
        found: list[T] = []
        while True:
            chunk = await self._writer.write(partial(operation, limit=SWEEP_CHUNK))
            found.extend(chunk)
            if len(chunk) < SWEEP_CHUNK:
                return found

    # --- records --------------------------------------------------------------------------

    async def put_record(
        self,
        kind: str,
        key: str,
        value: bytes,
        *,
        now: float,
        expires_at: float,
        max_records: int,
        deleting: tuple[str, str] | None = None,
        also: RecordWrite | None = None,
    ) -> Put:
        check_put(max_records)
        check_deleting(kind, deleting)
        if also is not None:
            check_also(kind, deleting, also.kind)
            check_put(also.max_records)
        return await self._writer.write(
            ops.RecordPut(
                kind=kind,
                key=key,
                value=value,
                now=now,
                expires_at=expires_at,
                max_records=max_records,
                deleting=deleting,
                also=also,
            )
        )

    async def take_record(self, kind: str, key: str, *, now: float) -> Record | None:
        return await self._writer.write(partial(ops.take_record, kind=kind, key=key, now=now))

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
        return await self._writer.write(
            partial(
                counters.claim_record,
                kind=kind,
                key=key,
                value=value,
                now=now,
                expires_at=expires_at,
                max_records=max_records,
            )
        )

    async def delete_record(self, kind: str, key: str) -> bool:
        return await self._writer.write(partial(ops.delete_record, kind=kind, key=key))

    # --- counters -------------------------------------------------------------------------

    async def reserve(
        self, counter: str, amount: int, *, limit: int, now: float, expires_at: float
    ) -> Reserved:
        check_reserve(amount, limit)
        return await self._writer.write(
            partial(
                counters.reserve,
                counter=counter,
                amount=amount,
                limit=limit,
                now=now,
                expires_at=expires_at,
            )
        )

    async def unreserve(self, counter: str, amount: int, *, now: float) -> int:
        check_unreserve(amount)
        return await self._writer.write(
            partial(counters.unreserve, counter=counter, amount=amount, now=now)
        )

    async def reserve_all(
        self, reservations: Sequence[Reservation], *, now: float
    ) -> tuple[Reserved, ...]:
        check_reserve_all(reservations)
        return await self._writer.write(counters.ReserveAll(reservations=reservations, now=now))

    async def unreserve_all(self, amounts: Sequence[tuple[str, int]], *, now: float) -> None:
        for _counter, amount in amounts:
            check_unreserve(amount)
        await self._writer.write(partial(counters.unreserve_all, amounts=amounts, now=now))

    async def claim_and_put(
        self,
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
        put = RecordWrite(
            kind=kind, key=key, value=value, expires_at=expires_at, max_records=max_records
        )
        return await self._writer.write(
            counters.ClaimAndPut(put=put, claim=claim, reservations=reservations, now=now)
        )

    async def expire_records(self, *, now: float) -> tuple[Record, ...]:
        expired = await self._sweep(partial(ops.expire_records, now=now))
        return tuple(sorted(expired, key=lambda r: (r.expires_at, r.kind, r.key)))

    # --- parts ----------------------------------------------------------------------------

    async def add_part(
        self,
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
        check_part(index, total)
        if keep is not None:
            check_put(keep.max_records)
        return await self._writer.write(
            partial(
                ops.add_part,
                group=group,
                index=index,
                value=value,
                total=total,
                scope=scope,
                meta=meta,
                now=now,
                expires_at=expires_at,
                limits=limits,
                keep=keep,
            )
        )

    async def expire_groups(self, *, now: float) -> tuple[ExpiredGroup, ...]:
        expired = await self._sweep(partial(ops.expire_groups, now=now))
        return tuple(sorted(expired, key=lambda group: (group.expires_at, group.group)))
