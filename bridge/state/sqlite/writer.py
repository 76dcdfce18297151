"""One writer thread that commits in groups, and a reader thread with its own connection.

Theory of operation:
1. `write(fn)` (on the event loop) appends fn to the list of this loop turn and, for the
   first of the turn, schedules one hand-over with call_soon: everything that became due in
   the same turn goes to the thread as one list.
2. The thread takes every list waiting (those handed over while it was committing the last
   group join the next one), runs them all in ONE transaction (BEGIN IMMEDIATE ... COMMIT)
   and hands the results back to the loop with one call_soon_threadsafe. A loop turn never
   waits for the disk, and 500 submits in flight cost a handful of commits, not 500.
   Inside it, a run of consecutive record puts is written together: of several kinds (the
   intents of messages about to leave beside the records that settle others), one
   multi-row INSERT per kind when nothing is replaced or dropped (runs.insert_new_mixed),
   otherwise each run of one kind (runs.put_records); a group of puts of one kind that
   delete nothing is, when it can be, ONE statement and so its own transaction
   (runs.insert_new_records says why). The account policy's counted operations
   (`reserve_all`, `claim_and_put`) join such runs: when none writes a record a put of the
   run writes or deletes, they go first, together (counters.counted_run), and the puts
   after; they were all started in the same loop turn, so either order is one their
   callers could have seen.
3. If anything in a group fails, the group is rolled back and its operations are run again
   one transaction each, so one failing write (the disk full, a bug) fails only itself, and
   what it would have half-written is never kept. sqlite3 errors become StateUnavailable.
   Before a group the thread asks its guard (watch.py): a reason (the file gone,
   the WAL past its bound) fails the whole group as StateUnavailable, nothing written.
4. An operation whose caller was cancelled may still commit (its result is dropped): the
   caller then does not know, which is why takes are leases and puts are idempotent by key.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Final, Protocol, TypeGuard, TypeVar

from bridge.state.errors import StateUnavailable
from bridge.state.results import Put
from bridge.state.sqlite.counters import ClaimAndPut, Counted, ReserveAll, counted_run
from bridge.state.sqlite.ops import RecordPut
from bridge.state.sqlite.runs import (
    MAX_ROWS_PER_STATEMENT,
    NOTHING_DISPLACED,
    insert_new_mixed,
    insert_new_records,
    put_records,
    put_replacing,
)
from bridge.state.store import CommitObserver

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]


@dataclass(slots=True)
class _Job:
    operation: Final[Operation]
    future: Final[asyncio.Future[Any]]


# (job, ok, result or exception) for each job of a group
_Outcome = tuple[_Job, bool, Any]


class CommitGuard(Protocol):
    """Asked by the writer thread before each group: why nothing may be committed now."""

    def refusal(self, connection: sqlite3.Connection) -> str | None: ...


def unavailable(exc: sqlite3.Error) -> StateUnavailable:
    return StateUnavailable(f"sqlite: {exc}")


class GroupCommitWriter:
    """The one connection that writes, on its own thread."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        observer: CommitObserver,
        name: str,
        guard: CommitGuard | None = None,
    ) -> None:
        self._connection = connection
        self._observer = observer
        self._guard = guard
        self._inbox: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._turn: list[_Job] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def write(self, operation: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._closed:
            future.set_exception(StateUnavailable("the state store is closed"))
            return future
        self._loop = loop
        if not self._turn:
            loop.call_soon(self._hand_over)
        self._turn.append(_Job(operation, future))
        return future

    async def aclose(self) -> None:
        if self._closed:
            return
        self._hand_over()
        self._closed = True
        self._inbox.put(None)
        await asyncio.to_thread(self._thread.join)
        self._connection.close()

    def _hand_over(self) -> None:
        if self._turn:
            turn, self._turn = self._turn, []
            self._inbox.put(turn)

    def _work(self) -> None:
        stopping = False
        while not stopping:
            group = self._inbox.get()
            if group is None:
                return
            while True:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.extend(more)
            reports: list[Callable[[], None]] = []
            refusal = self._refusal()
            if refusal is None:
                outcomes = self._commit(group, reports)
            else:
                reports.append(partial(self._observer.commit_failed, reason=refusal))
                outcomes = [(job, False, StateUnavailable(refusal)) for job in group]
            loop = self._loop
            if loop is not None and not loop.is_closed():
                # One wake-up of the loop per group: the results, then the observer's reports.
                loop.call_soon_threadsafe(_settle, outcomes, reports)

    def _refusal(self) -> str | None:
        if self._guard is None:
            return None
        try:
            return self._guard.refusal(self._connection)
        except Exception as exc:  # a guard that fails must not stop the thread
            return f"the state file could not be checked: {exc!r}"

    def _commit(self, group: list[_Job], reports: list[Callable[[], None]]) -> list[_Outcome]:
        started = time.perf_counter()
        try:
            results = self._transaction(group)
        except Exception as exc:
            if len(group) > 1:
                return [outcome for job in group for outcome in self._commit([job], reports)]
            failure = unavailable(exc) if isinstance(exc, sqlite3.Error) else exc
            reports.append(partial(self._observer.commit_failed, reason=str(failure)))
            return [(group[0], False, failure)]
        reports.append(
            partial(
                self._observer.committed,
                seconds=time.perf_counter() - started,
                operations=len(group),
            )
        )
        return [(job, True, result) for job, result in zip(group, results, strict=True)]

    def _transaction(self, group: list[_Job]) -> list[Any]:
        connection = self._connection
        operations = [job.operation for job in group]
        if _one_kind_of_puts(operations) and insert_new_records(connection, operations):
            return [NOTHING_DISPLACED] * len(group)  # one statement, its own transaction
        connection.execute("BEGIN IMMEDIATE")
        try:
            results: list[Any] = []
            start = 0
            while start < len(group):
                operation = group[start].operation
                end = start + 1
                if isinstance(operation, _RUNS):
                    while end < len(group) and isinstance(group[end].operation, _RUNS):
                        end += 1
                    run = [w for job in group[start:end] if isinstance(w := job.operation, _RUNS)]
                    results.extend(_run_of_writes(connection, run))
                else:
                    results.append(operation(connection))
                start = end
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results


_RUNS = (RecordPut, ReserveAll, ClaimAndPut)


def _run_of_writes(connection: sqlite3.Connection, run: list[RecordPut | Counted]) -> list[Any]:
    """A run of consecutive record puts and counted operations (counters.py). Puts touch
    no counter, so when no counted one writes a record that a put writes or deletes, the
    two sorts commute: the counted ones go first, together (counters.counted_run), then
    the puts, together. Otherwise each stretch of one sort goes in turn."""
    counted = [op for op in run if not isinstance(op, RecordPut)]
    puts = [op for op in run if isinstance(op, RecordPut)]
    if not counted:
        return _run_of_puts(connection, puts)
    if not puts:
        return list(counted_run(connection, counted))
    if _commute(counted, puts):
        done = iter(counted_run(connection, counted))
        put = iter(_run_of_puts(connection, puts))
        return [next(put) if isinstance(op, RecordPut) else next(done) for op in run]
    results: list[Any] = []
    start = 0
    while start < len(run):
        sort = type(run[start]) is RecordPut
        end = start + 1
        while end < len(run) and (type(run[end]) is RecordPut) == sort:
            end += 1
        stretch = run[start:end]
        if sort:
            results.extend(
                _run_of_puts(connection, [p for p in stretch if isinstance(p, RecordPut)])
            )
        else:
            results.extend(
                counted_run(connection, [c for c in stretch if not isinstance(c, RecordPut)])
            )
        start = end
    return results


def _commute(counted: list[Counted], puts: list[RecordPut]) -> bool:
    touched: set[tuple[str, str]] = set()
    for put in puts:
        touched.add((put.kind, put.key))
        if put.deleting is not None:
            touched.add(put.deleting)
        if put.also is not None:
            touched.add((put.also.kind, put.also.key))
    return not any(
        record in touched
        for op in counted
        if isinstance(op, ClaimAndPut)
        for record in op.records()
    )


def _run_of_puts(connection: sqlite3.Connection, puts: list[RecordPut]) -> list[Put]:
    """A run of consecutive puts. Their `also` records are put after the run (in order):
    of kinds no put of the run writes or deletes, they commute with it, and the run keeps
    its multi-row inserts; otherwise the run is put one at a time."""
    alsos = [(put.also, put.now) for put in puts if put.also is not None]
    if alsos:
        touched = {put.kind for put in puts} | {put.deleting[0] for put in puts if put.deleting}
        if any(also.kind in touched for also, _now in alsos):
            return [put(connection) for put in puts]
        puts = [put if put.also is None else replace(put, also=None) for put in puts]
    if len({put.kind for put in puts}) > 1 and insert_new_mixed(connection, puts):
        results = [NOTHING_DISPLACED] * len(puts)
    else:
        results = _in_runs_of_one_kind(connection, puts)
    if alsos:
        put_replacing(connection, alsos)
    return results


def _in_runs_of_one_kind(connection: sqlite3.Connection, puts: list[RecordPut]) -> list[Put]:
    """Each run of consecutive puts of one kind together (put_records), in order."""
    results: list[Put] = []
    start = 0
    while start < len(puts):
        end = start + 1
        while end < len(puts) and puts[end].kind == puts[start].kind:
            end += 1
        results.extend(put_records(connection, puts[start:end]))
        start = end
    return results


def _one_kind_of_puts(operations: list[Operation]) -> TypeGuard[list[RecordPut]]:
    first = operations[0]
    return (
        1 < len(operations) <= MAX_ROWS_PER_STATEMENT
        and isinstance(first, RecordPut)
        # A put that deletes too is two statements, which need a transaction around them.
        and all(
            _same_kind(operation, first) and operation.deleting is None and operation.also is None
            for operation in operations
        )
    )


def _same_kind(operation: Operation, put: RecordPut) -> TypeGuard[RecordPut]:
    return isinstance(operation, RecordPut) and operation.kind == put.kind


def _settle(outcomes: list[_Outcome], reports: list[Callable[[], None]]) -> None:
    for job, ok, result in outcomes:
        if job.future.done():
            continue  # its caller was cancelled
        if ok:
            job.future.set_result(result)
        else:
            job.future.set_exception(result)
    # After the results: an observer that fails costs its report, never an answer.
    for report in reports:
        report()


class ReaderThread:
    """Reads on a connection of their own (WAL: readers never wait for the writer)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, name: str) -> None:
        self._local = threading.local()
        self._connect = connect
        self._connections: list[sqlite3.Connection] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, operation)

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = self._local.connection = self._connect()
                self._connections.append(connection)
            return operation(connection)
        except sqlite3.Error as exc:
            raise unavailable(exc) from exc

    async def aclose(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        for connection in self._connections:
            connection.close()
        self._connections.clear()
