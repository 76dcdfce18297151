"""The interface every state backend (memory, SQLite, Redis) offers, in five small Protocols.

Rules shared by every backend (tests/state holds them equal):
1. A mutating operation returns only once its effect is committed (durable as far as the
   backend's fsync setting goes; memory: as far as the process lives). If it cannot commit,
   it raises `StateUnavailable` and nothing of it was kept (Redis: unless the request had
   left and only the reply was lost, in which case it may have been applied; the caller's
   temporary error is right either way, and queues are at-least-once).
2. Time is passed in (`now`, seconds since the epoch; results.py says why a wall clock).
3. Queues are at-least-once: an entry leaves only by `ack`, by its queue's bound, or by age.
   `take` leases entries to an owner until now + lease_s; an entry whose lease ends without
   an ack (its owner died) is due again, as dramatiq's Redis broker requeues the messages
   of a consumer that stopped beating. There is no push notification: an instance learns of
   new entries by calling `has_ready` (cheap) on its housekeeping tick.
4. Every take-like operation (`take`, `take_record`, `expire_*`, the completing `add_part`)
   hands each entry, record or group to exactly one caller, across processes sharing Redis.
5. Bounds are enforced by the store, in the same operation that grows it: a bounded store
   stays bounded however the process dies.
6. Entry ids are unique for the life of the data, and never given out again even when the
   data is lost (Redis restarted empty): an acknowledgement meant for an old entry can never
   remove a new one. Only `release` and `ack` by the lease's owner change a leased entry.
7. Data a backend finds gone (an evicted key) is a counted, logged loss (`LossObserver`),
   never an exception: the operation skips it, removes what is left of it, and goes on.
8. Counters (`reserve`) are integers that only a reservation within its limit raises, in
   one atomic step across processes sharing Redis; they outlive a restart (SQLite, Redis)
   and end at the expiry their first reservation gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
    TokensTaken,
)


class QueueStore(Protocol):
    """Per-queue (per-account) queues with acknowledgement."""

    async def enqueue(
        self, queue: str, body: bytes, *, now: float, max_entries: int
    ) -> Enqueued: ...

    async def take(
        self, queue: str, *, owner: str, now: float, lease_s: float, limit: int = 1
    ) -> tuple[QueueEntry, ...]:
        """Lease up to `limit` due entries (not leased, or lease ended; not_before <= now)
        in (due, entry_id) order, where due is the not-before time or the ended lease."""
        ...

    async def ack(self, queue: str, entry_id: int, *, owner: str) -> bool:
        """Remove the entry (done with it). False (and nothing changed) when it is not there
        any more or `owner` does not hold its lease any more (its lease ended and another
        owner took it): a late acknowledgement never removes what someone else delivers."""
        ...

    async def release(
        self, queue: str, entry_id: int, *, owner: str, not_before: float, attempts: int
    ) -> bool:
        """Give a leased entry back, due again at `not_before`, with `attempts` recorded.
        False (and nothing changed) when `owner` does not hold its lease any more."""
        ...

    async def release_leases(self, *, owner: str | None = None) -> int:
        """Make every entry leased by `owner` (every leased entry when None) due again at
        once; how many. For a restart: a file store's previous writer is dead for sure."""
        ...

    async def drop_entries(self, *, made_before: float) -> tuple[QueueEntry, ...]:
        """Remove every entry (any queue, any state) with made_at <= made_before, oldest first."""
        ...

    async def queue_counts(self, *, now: float, queue: str | None = None) -> QueueCounts: ...

    async def queues(self) -> tuple[str, ...]:
        """The queues that hold entries, sorted."""
        ...

    async def has_ready(self, queue: str, *, now: float) -> bool: ...


class RecordStore(Protocol):
    """Records under (kind, key) with an expiry, bounded in count per kind."""

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
        """Store (replacing the same key, which then counts as new); past `max_records`
        the oldest by (stored_at, key) are dropped and returned. `deleting` names a record
        (kind, key) of another kind deleted in the same atomic step: the put that settles
        what that record stood for (it is not counted in the result). `also` is a record of
        a third kind put (stored_at = now) in the same step, neither counted in the result."""
        ...

    async def get_record(self, kind: str, key: str, *, now: float) -> Record | None:
        """The record, or None (also when expires_at <= now: it is waiting for expiry)."""
        ...

    async def take_record(self, kind: str, key: str, *, now: float) -> Record | None:
        """Get and delete in one step: of several callers, exactly one gets the record."""
        ...

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
        """Put the record unless a live one is under its key, in one step: None when it was
        put (bounded as `put_record` is), else the live record, unchanged. Of several
        callers claiming one key, exactly one gets None."""
        ...

    async def delete_record(self, kind: str, key: str) -> bool: ...

    async def scan_records(
        self, kind: str, *, now: float, since: float | None = None, limit: int | None = None
    ) -> tuple[Record, ...]:
        """Live records with stored_at >= since, newest first by (stored_at, key)."""
        ...

    async def expire_records(self, *, now: float) -> tuple[Record, ...]:
        """Remove and return every record (any kind) with expires_at <= now, in
        (expires_at, kind, key) order; each goes to exactly one caller."""
        ...

    async def record_count(self, kind: str) -> int: ...


class PartStore(Protocol):
    """Groups of numbered parts (the parts of long messages) completed atomically."""

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
        """Add part `index` (1..total). Checked in this order: an index already stored is
        `PartDuplicate`; another meta or total is `PartConflict`; the part that makes the
        group whole gets `GroupComplete` (and the group is removed; never refused for
        space); a new group past `limits.max_groups_per_scope` or octets past
        `limits.max_bytes` is `PartRefused`; else `PartKept`. A group's `meta`, `scope`,
        `first_at` (= now) and `expires_at` are fixed by its first part: the deadline
        never slides. With `keep`, a group this part completes is also stored as that
        record (`encode_kept_group`), in the same atomic step that removes it."""
        ...

    async def expire_groups(self, *, now: float) -> tuple[ExpiredGroup, ...]:
        """Remove and return every group with expires_at <= now, in (expires_at, group) order."""
        ...

    async def part_counts(self, *, scope: str | None = None) -> PartCounts: ...


class ClusterStore(Protocol):
    """What instances sharing a store share besides data: rate buckets and leases.

    The file and memory backends keep these in the process (one process owns the file, and
    binds die with it); Redis keeps them for every instance."""

    async def take_tokens(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        """Token bucket, atomic: a new bucket is full (`burst`); it refills at `rate`/s."""
        ...

    async def bucket_level(self, bucket: str, *, rate: float, burst: float, now: float) -> float:
        """The tokens `take_tokens` would find in the bucket at `now` (a new bucket is
        full), changing nothing: what an operator is shown."""
        ...

    async def acquire_lease(
        self, group: str, holder: str, *, limit: int, now: float, ttl_s: float
    ) -> bool:
        """Hold a lease in `group` until now + ttl_s if fewer than `limit` live leases are
        held there (a holder that has one already renews it). False when full."""
        ...

    async def renew_leases(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        """Extend each (group, holder) lease to now + ttl_s; False for one that ended."""
        ...

    async def release_lease(self, group: str, holder: str) -> bool: ...

    async def lease_count(self, group: str, *, now: float) -> int: ...


class CounterStore(Protocol):
    """Integer counters raised only within a limit (an account's daily or monthly cap),
    atomically across every instance sharing the store (rule 8)."""

    async def reserve(
        self, counter: str, amount: int, *, limit: int, now: float, expires_at: float
    ) -> Reserved:
        """Add `amount` when the counter's value plus `amount` stays within `limit`, else
        nothing. A counter that is absent or past its expiry counts 0 and, when granted,
        starts again with `expires_at` (later reservations keep that expiry)."""
        ...

    async def unreserve(self, counter: str, amount: int, *, now: float) -> int:
        """Take `amount` back (not below 0): a reservation whose message was never sent.
        The value after it; a counter absent or past its expiry stays so (0)."""
        ...

    async def counter_value(self, counter: str, *, now: float) -> int:
        """The live value (0 when absent or past its expiry)."""
        ...

    async def reserve_all(
        self, reservations: Sequence[Reservation], *, now: float
    ) -> tuple[Reserved, ...]:
        """`reserve` each (counter, amount, limit, expires_at), each counter once, in one
        atomic step: all granted, or none (nothing added, each `Reserved` refused with the
        counter's value as it stands)."""
        ...

    async def unreserve_all(self, amounts: Sequence[tuple[str, int]], *, now: float) -> None:
        """`unreserve` each (counter, amount), in one step."""
        ...

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
        """In one atomic step: `claim_record` the `claim` (of another kind), `reserve_all`
        the reservations, and `put_record` the record; all of it, or nothing when the claim
        finds a live record (`held`) or a reservation would pass its limit."""
        ...


class CommitObserver(Protocol):
    """Told about every commit (metrics: latency histogram, batch size, failures)."""

    def committed(self, *, seconds: float, operations: int) -> None: ...

    def commit_failed(self, *, reason: str) -> None: ...


class NoCommitObserver:
    __slots__ = ()

    def committed(self, *, seconds: float, operations: int) -> None:
        """Nobody is counting."""

    def commit_failed(self, *, reason: str) -> None:
        """Nobody is counting."""


class LossObserver(Protocol):
    """Told when a backend finds data it had committed gone (Redis: a key evicted, a server
    restarted empty). Counted and logged by the backend; never raised to the caller."""

    def entries_lost(self, *, kind: str, count: int) -> None:
        """`count` items of `kind` ("entry", "record", "group") were found gone and their
        remains removed; the operation went on without them."""
        ...

    def state_lost(self, *, reason: str) -> None:
        """Everything stored before may be gone (the store's epoch marker vanished or
        changed): once per detection."""
        ...


class NoLossObserver:
    __slots__ = ()

    def entries_lost(self, *, kind: str, count: int) -> None:
        """Nobody is counting (the backend still logs it)."""

    def state_lost(self, *, reason: str) -> None:
        """Nobody is counting (the backend still logs it)."""


class StateStore(QueueStore, RecordStore, PartStore, ClusterStore, CounterStore, Protocol):
    """One backend: everything above, plus health and lifecycle."""

    @property
    def backend(self) -> str:
        """ "memory", "sqlite" or "redis"."""
        ...

    async def writable(self) -> bool:
        """Could a write commit now? For /readyz; never raises."""
        ...

    def file_size(self) -> int | None:
        """Bytes on disk (database and its WAL), None when the backend has no file."""
        ...

    async def aclose(self) -> None: ...
