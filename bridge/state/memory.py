"""The memory backend: everything in this process, lost when it ends (the bridge's old
behaviour, and the model the shared test holds the other backends to).

It keeps the orders results.py promises with heaps that are cleaned lazily: an item whose
entry or record has gone is skipped when it reaches the top, and a heap grown to twice
what it indexes is rebuilt, so memory stays proportional to what is stored.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

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
from bridge.state.in_process import InProcessCluster
from bridge.state.results import (
    ClaimedAndPut,
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
    Reservation,
    Reserved,
    encode_kept_group,
)


@dataclass(slots=True, kw_only=True)
class _Entry:
    body: bytes
    made_at: float
    attempts: int
    # The not-before time while not leased, the lease's end while leased: due <= now means
    # "can be taken" in both cases.
    due: float
    owner: str | None = None


@dataclass(slots=True, kw_only=True)
class _Group:
    scope: str
    meta: bytes
    total: int
    first_at: float
    expires_at: float
    parts: dict[int, bytes] = field(default_factory=dict)
    octets: int = 0


def _entry(queue: str, entry_id: int, entry: _Entry) -> QueueEntry:
    return QueueEntry(
        queue=queue,
        entry_id=entry_id,
        body=entry.body,
        made_at=entry.made_at,
        attempts=entry.attempts,
    )


class MemoryState(InProcessCluster):
    """A `StateStore` in this process's memory."""

    def __init__(self) -> None:
        self._next_id = 1
        self._queues: dict[str, dict[int, _Entry]] = {}
        self._ages: dict[str, list[tuple[float, int]]] = {}
        self._seq = 0
        self._records: dict[str, dict[str, tuple[Record, int]]] = {}
        self._record_ages: dict[str, list[tuple[float, str, int]]] = {}
        self._expiries: list[tuple[float, str, str, int]] = []
        self._groups: dict[str, _Group] = {}
        self._groups_per_scope: dict[str, int] = {}
        self._octets = 0
        # counter -> (value, expires_at)
        self._counters: dict[str, tuple[int, float]] = {}
        self._start_cluster()

    @property
    def backend(self) -> str:
        return "memory"

    async def writable(self) -> bool:
        return True

    def file_size(self) -> int | None:
        return None

    async def aclose(self) -> None:
        """Nothing to release: the data lives as long as this object."""

    # --- queues ---------------------------------------------------------------------------

    async def enqueue(self, queue: str, body: bytes, *, now: float, max_entries: int) -> Enqueued:
        check_enqueue(max_entries)
        entry_id = self._next_id
        self._next_id += 1
        entries = self._queues.setdefault(queue, {})
        entries[entry_id] = _Entry(body=body, made_at=now, attempts=0, due=now)
        ages = self._ages.setdefault(queue, [])
        heapq.heappush(ages, (now, entry_id))
        dropped: list[QueueEntry] = []
        while len(entries) > max_entries:
            _made_at, oldest = heapq.heappop(ages)
            if oldest in entries:
                dropped.append(_entry(queue, oldest, entries.pop(oldest)))
        self._compact_ages(queue)
        return Enqueued(entry_id=entry_id, dropped=tuple(dropped))

    async def take(
        self, queue: str, *, owner: str, now: float, lease_s: float, limit: int = 1
    ) -> tuple[QueueEntry, ...]:
        check_take(lease_s, limit)
        entries = self._queues.get(queue, {})
        due = heapq.nsmallest(
            limit,
            ((entry.due, entry_id) for entry_id, entry in entries.items() if entry.due <= now),
        )
        taken: list[QueueEntry] = []
        for _due, entry_id in due:
            entry = entries[entry_id]
            entry.owner = owner
            entry.due = now + lease_s
            taken.append(_entry(queue, entry_id, entry))
        return tuple(taken)

    async def ack(self, queue: str, entry_id: int, *, owner: str) -> bool:
        entries = self._queues.get(queue, {})
        entry = entries.get(entry_id)
        if entry is None or entry.owner != owner:
            return False
        del entries[entry_id]
        self._forget_queue_if_empty(queue)
        return True

    async def release(
        self, queue: str, entry_id: int, *, owner: str, not_before: float, attempts: int
    ) -> bool:
        entry = self._queues.get(queue, {}).get(entry_id)
        if entry is None or entry.owner != owner:
            return False
        entry.owner = None
        entry.due = not_before
        entry.attempts = attempts
        return True

    async def release_leases(self, *, owner: str | None = None) -> int:
        released = 0
        for entries in self._queues.values():
            for entry in entries.values():
                if entry.owner is not None and (owner is None or entry.owner == owner):
                    entry.owner = None
                    entry.due = entry.made_at
                    released += 1
        return released

    async def drop_entries(self, *, made_before: float) -> tuple[QueueEntry, ...]:
        dropped: list[tuple[float, int, QueueEntry]] = []
        for queue in tuple(self._queues):
            entries, ages = self._queues[queue], self._ages[queue]
            while ages and ages[0][0] <= made_before:
                made_at, entry_id = heapq.heappop(ages)
                entry = entries.pop(entry_id, None)
                if entry is not None:
                    dropped.append((made_at, entry_id, _entry(queue, entry_id, entry)))
            self._forget_queue_if_empty(queue)
        dropped.sort(key=lambda item: (item[0], item[1]))
        return tuple(entry for _made_at, _entry_id, entry in dropped)

    async def queue_counts(self, *, now: float, queue: str | None = None) -> QueueCounts:
        names = (queue,) if queue is not None else tuple(self._queues)
        ready = leased = 0
        oldest: float | None = None
        for name in names:
            for entry in self._queues.get(name, {}).values():
                if entry.owner is not None and entry.due > now:
                    leased += 1
                else:
                    ready += 1
                if oldest is None or entry.made_at < oldest:
                    oldest = entry.made_at
        return QueueCounts(ready=ready, leased=leased, oldest_made_at=oldest)

    async def queues(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, entries in self._queues.items() if entries))

    async def has_ready(self, queue: str, *, now: float) -> bool:
        return any(entry.due <= now for entry in self._queues.get(queue, {}).values())

    def _forget_queue_if_empty(self, queue: str) -> None:
        if queue in self._queues and not self._queues[queue]:
            del self._queues[queue]
            del self._ages[queue]

    def _compact_ages(self, queue: str) -> None:
        entries, ages = self._queues[queue], self._ages[queue]
        if len(ages) > 2 * len(entries) + 64:
            self._ages[queue] = ages = [(entry.made_at, i) for i, entry in entries.items()]
            heapq.heapify(ages)

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
            self._put(also, now)
        if deleting is not None:
            self._records.get(deleting[0], {}).pop(deleting[1], None)
        return self._put_record(kind, key, value, now, expires_at, max_records)

    def _put_record(
        self, kind: str, key: str, value: bytes, now: float, expires_at: float, max_records: int
    ) -> Put:
        records = self._records.setdefault(kind, {})
        ages = self._record_ages.setdefault(kind, [])
        old = records.pop(key, None)
        self._seq += 1
        record = Record(kind=kind, key=key, value=value, stored_at=now, expires_at=expires_at)
        records[key] = (record, self._seq)
        heapq.heappush(ages, (now, key, self._seq))
        heapq.heappush(self._expiries, (expires_at, kind, key, self._seq))
        dropped: list[Record] = []
        while len(records) > max_records:
            _stored_at, oldest, seq = heapq.heappop(ages)
            held = records.get(oldest)
            if held is not None and held[1] == seq:
                dropped.append(records.pop(oldest)[0])
        self._compact_records(kind)
        return Put(replaced=None if old is None else old[0], dropped=tuple(dropped))

    def _put(self, write: RecordWrite, now: float) -> None:
        self._put_record(
            write.kind, write.key, write.value, now, write.expires_at, write.max_records
        )

    async def get_record(self, kind: str, key: str, *, now: float) -> Record | None:
        held = self._records.get(kind, {}).get(key)
        if held is None or held[0].expires_at <= now:
            return None
        return held[0]

    async def take_record(self, kind: str, key: str, *, now: float) -> Record | None:
        record = await self.get_record(kind, key, now=now)
        if record is not None:
            del self._records[kind][key]
        return record

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
        held = await self.get_record(kind, key, now=now)
        if held is not None:
            return held
        await self.put_record(
            kind, key, value, now=now, expires_at=expires_at, max_records=max_records
        )
        return None

    async def delete_record(self, kind: str, key: str) -> bool:
        return self._records.get(kind, {}).pop(key, None) is not None

    async def scan_records(
        self, kind: str, *, now: float, since: float | None = None, limit: int | None = None
    ) -> tuple[Record, ...]:
        live = [
            record
            for record, _seq in self._records.get(kind, {}).values()
            if record.expires_at > now and (since is None or record.stored_at >= since)
        ]
        live.sort(key=lambda record: (record.stored_at, record.key), reverse=True)
        return tuple(live if limit is None else live[:limit])

    async def expire_records(self, *, now: float) -> tuple[Record, ...]:
        expired: list[Record] = []
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _expires_at, kind, key, seq = heapq.heappop(expiries)
            records = self._records.get(kind, {})
            held = records.get(key)
            if held is not None and held[1] == seq:
                expired.append(records.pop(key)[0])
        return tuple(expired)

    async def record_count(self, kind: str) -> int:
        return len(self._records.get(kind, {}))

    def _compact_records(self, kind: str) -> None:
        records = self._records[kind]
        ages = self._record_ages[kind]
        if len(ages) > 2 * len(records) + 64:
            self._record_ages[kind] = ages = [
                (record.stored_at, key, seq) for key, (record, seq) in records.items()
            ]
            heapq.heapify(ages)
        live = sum(len(kind_records) for kind_records in self._records.values())
        if len(self._expiries) > 2 * live + 64:
            self._expiries = [
                (record.expires_at, record.kind, record.key, seq)
                for kind_records in self._records.values()
                for record, seq in kind_records.values()
            ]
            heapq.heapify(self._expiries)

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
        done = self._add_part(group, index, value, total, scope, meta, now, expires_at, limits)
        if keep is not None and isinstance(done, GroupComplete):
            await self.put_record(
                keep.kind,
                keep.key,
                encode_kept_group(done.meta, done.first_at, index, done.parts),
                now=now,
                expires_at=keep.expires_at,
                max_records=keep.max_records,
            )
        return done

    def _add_part(
        self,
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
        held = self._groups.get(group)
        if held is not None:
            stored = held.parts.get(index)
            if stored is not None:
                return PartDuplicate(stored=stored)
            if held.meta != meta or held.total != total:
                return PartConflict(meta=held.meta, total=held.total)
            if len(held.parts) + 1 == total:
                self._forget_group(group, held)
                parts = {**held.parts, index: value}
                return GroupComplete(
                    group=group,
                    meta=held.meta,
                    parts=tuple(parts[i] for i in range(1, total + 1)),
                    first_at=held.first_at,
                )
        elif total == 1:
            return GroupComplete(group=group, meta=meta, parts=(value,), first_at=now)
        elif self._groups_per_scope.get(scope, 0) >= limits.max_groups_per_scope:
            return PartRefused(reason="groups")
        if self._octets + len(value) > limits.max_bytes:
            return PartRefused(reason="bytes")
        if held is None:
            held = _Group(scope=scope, meta=meta, total=total, first_at=now, expires_at=expires_at)
            self._groups[group] = held
            self._groups_per_scope[scope] = self._groups_per_scope.get(scope, 0) + 1
        held.parts[index] = value
        held.octets += len(value)
        self._octets += len(value)
        return PartKept(received=len(held.parts))

    async def expire_groups(self, *, now: float) -> tuple[ExpiredGroup, ...]:
        due = sorted(
            (held.expires_at, group)
            for group, held in self._groups.items()
            if held.expires_at <= now
        )
        expired: list[ExpiredGroup] = []
        for _expires_at, group in due:
            held = self._groups[group]
            self._forget_group(group, held)
            expired.append(
                ExpiredGroup(
                    group=group,
                    scope=held.scope,
                    meta=held.meta,
                    total=held.total,
                    parts=tuple(sorted(held.parts.items())),
                    first_at=held.first_at,
                    expires_at=held.expires_at,
                )
            )
        return tuple(expired)

    async def part_counts(self, *, scope: str | None = None) -> PartCounts:
        if scope is None:
            return PartCounts(groups=len(self._groups), octets=self._octets)
        held = [group for group in self._groups.values() if group.scope == scope]
        return PartCounts(groups=len(held), octets=sum(group.octets for group in held))

    def _forget_group(self, group: str, held: _Group) -> None:
        del self._groups[group]
        self._octets -= held.octets
        remaining = self._groups_per_scope[held.scope] - 1
        if remaining:
            self._groups_per_scope[held.scope] = remaining
        else:
            del self._groups_per_scope[held.scope]

    # --- counters -------------------------------------------------------------------------

    def _live_counter(self, counter: str, now: float) -> tuple[int, float] | None:
        held = self._counters.get(counter)
        if held is not None and held[1] <= now:
            del self._counters[counter]
            return None
        return held

    async def reserve(
        self, counter: str, amount: int, *, limit: int, now: float, expires_at: float
    ) -> Reserved:
        check_reserve(amount, limit)
        held = self._live_counter(counter, now)
        used = 0 if held is None else held[0]
        if used + amount > limit:
            return Reserved(granted=False, used=used)
        self._counters[counter] = (used + amount, expires_at if held is None else held[1])
        return Reserved(granted=True, used=used + amount)

    async def unreserve(self, counter: str, amount: int, *, now: float) -> int:
        check_unreserve(amount)
        held = self._live_counter(counter, now)
        if held is None:
            return 0
        value = max(0, held[0] - amount)
        self._counters[counter] = (value, held[1])
        return value

    async def counter_value(self, counter: str, *, now: float) -> int:
        held = self._live_counter(counter, now)
        return 0 if held is None else held[0]

    async def reserve_all(
        self, reservations: Sequence[Reservation], *, now: float
    ) -> tuple[Reserved, ...]:
        check_reserve_all(reservations)
        return self._reserve_all(reservations, now)

    def _reserve_all(self, reservations: Sequence[Reservation], now: float) -> tuple[Reserved, ...]:
        held = [self._live_counter(counter, now) for counter, *_rest in reservations]
        used = [0 if h is None else h[0] for h in held]
        if any(u + r[1] > r[2] for u, r in zip(used, reservations, strict=True)):
            return tuple(Reserved(granted=False, used=u) for u in used)
        for (counter, amount, _limit, expires_at), h, u in zip(
            reservations, held, used, strict=True
        ):
            self._counters[counter] = (u + amount, expires_at if h is None else h[1])
        return tuple(
            Reserved(granted=True, used=u + r[1]) for u, r in zip(used, reservations, strict=True)
        )

    async def unreserve_all(self, amounts: Sequence[tuple[str, int]], *, now: float) -> None:
        for counter, amount in amounts:
            await self.unreserve(counter, amount, now=now)

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
        if claim is not None:
            held = await self.get_record(claim.kind, claim.key, now=now)
            if held is not None:
                return ClaimedAndPut(held=held, reserved=())
        reserved = self._reserve_all(reservations, now)  # all or nothing
        if all(r.granted for r in reserved):
            if claim is not None:
                self._put(claim, now)
            self._put_record(kind, key, value, now, expires_at, max_records)
        return ClaimedAndPut(held=None, reserved=reserved)
