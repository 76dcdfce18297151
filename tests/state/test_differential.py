"""Every backend, driven through the same random operations, gives the memory model's answers.

As the codec's two paths are held equal, the state backends are: a hypothesis state machine
runs one sequence of queue, record and part operations (and restarts) on the memory store
(the model) and on each other backend at once, and every result must be equal. Time is
passed in and moves in half seconds, so leases end, records expire and groups time out
within a run; a restart closes and reopens the other backends, which must keep everything.

Queue entry ids are compared by what they name, not by their number: each backend promises
ids that are unique, increasing and never reused (Redis starts its counter from the clock,
so an id from before a data loss is never given out again), not ids starting at 1. So the
queue machine maps every backend's ids to the model's as enqueue hands them out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from bridge.state import (
    Enqueued,
    MemoryState,
    PartLimits,
    QueueEntry,
    RecordWrite,
    StateStore,
)

from .backends import RIGS, BackendRig, RigContext

T0 = 1_700_000_000.0
QUEUES = st.sampled_from(["acct-a", "acct-a", "acct-b"])
OWNERS = st.sampled_from(["node-1", "node-2"])
KINDS = st.sampled_from(["msg", "retry"])
KEYS = st.sampled_from(["k1", "k2", "k3", "k4"])
GROUPS = st.sampled_from(["g1", "g2", "g3"])
BODIES = st.binary(max_size=6)
HALVES = st.integers(0, 40).map(lambda n: n / 2)
# Mostly short steps, so leases end and entries come due in between other operations.
STEPS = st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 5.0, 30.0])
ALL_COUNTERS = st.sampled_from(["day", "month", "week"])
# (counter, amount, limit) per counter, each counter once (reserve_all, claim_and_put).
RESERVATIONS = st.lists(
    st.tuples(ALL_COUNTERS, st.integers(1, 4), st.integers(0, 8)),
    max_size=3,
    unique_by=lambda reservation: reservation[0],
)
LIMITS = st.builds(PartLimits, max_groups_per_scope=st.integers(1, 3), max_bytes=st.integers(1, 16))


class BackendsAgree(RuleBasedStateMachine):
    """The model and the others; `others` come from the rigs given to the test."""

    rigs: tuple[str, ...] = ()
    context: RigContext

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="state-diff-"))
        self.exits = AsyncExitStack()
        self.now = T0
        self.model: StateStore = MemoryState()
        self.others: list[tuple[BackendRig, StateStore]] = []
        for name in self.rigs:
            rig = self.run(
                self.exits.enter_async_context(RIGS[name](self.context.at(self.tmp / name)))
            )
            self.others.append((rig, self.run(rig.open())))

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    def same(self, operation: Callable[[StateStore], Awaitable[Any]]) -> Any:
        expected = self.run(operation(self.model))
        for rig, store in self.others:
            got = self.run(operation(store))
            assert got == expected, f"{rig.name} gave {got!r}, the model {expected!r}"
        return expected

    def teardown(self) -> None:
        try:
            for _rig, store in self.others:
                self.run(store.aclose())
            self.run(self.exits.aclose())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(seconds=STEPS)
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @precondition(lambda self: bool(self.others))
    @rule()
    def restart(self) -> None:
        self.others = [(rig, self.run(rig.reopen(store))) for rig, store in self.others]


# An id no backend gives out: what a model id no entry had yet stands for.
NO_ENTRY = 0
Ids = Callable[[int], int]


class QueuesAgree(BackendsAgree):
    def __init__(self) -> None:
        super().__init__()
        # Per other backend: the model's entry id -> that backend's id for the same entry.
        self.ids: list[dict[int, int]] = [{} for _ in self.others]

    def same_entries(self, operation: Callable[[StateStore, Ids], Awaitable[Any]]) -> Any:
        """`same`, with entry ids translated: into each backend's ids for the arguments,
        back into the model's for the results."""
        expected = self.run(operation(self.model, lambda entry_id: entry_id))
        for (rig, store), ids in zip(self.others, self.ids, strict=True):
            got = self.run(operation(store, functools.partial(_backend_id, ids)))
            if isinstance(got, Enqueued) and isinstance(expected, Enqueued):
                assert got.entry_id not in ids.values(), f"{rig.name} gave an id out twice"
                ids[expected.entry_id] = got.entry_id
            as_model = _in_model_ids(got, {mine: model for model, mine in ids.items()})
            assert as_model == expected, f"{rig.name} gave {got!r}, the model {expected!r}"
        return expected

    @rule(queue=QUEUES, body=BODIES, max_entries=st.integers(2, 6))
    def enqueue(self, queue: str, body: bytes, max_entries: int) -> None:
        self.same_entries(
            lambda s, _ids: s.enqueue(queue, body, now=self.now, max_entries=max_entries)
        )

    @rule(queue=QUEUES, owner=OWNERS, lease_s=st.sampled_from([1.0, 5.0]), limit=st.integers(1, 3))
    def take(self, queue: str, owner: str, lease_s: float, limit: int) -> None:
        self.same_entries(
            lambda s, _ids: s.take(queue, owner=owner, now=self.now, lease_s=lease_s, limit=limit)
        )

    @rule(queue=QUEUES, entry_id=st.integers(1, 8), owner=OWNERS)
    def ack(self, queue: str, entry_id: int, owner: str) -> None:
        self.same_entries(lambda s, ids: s.ack(queue, ids(entry_id), owner=owner))

    @rule(
        queue=QUEUES, entry_id=st.integers(1, 8), owner=OWNERS, later=STEPS,
        attempts=st.integers(0, 3),
    )  # fmt: skip
    def release(self, queue: str, entry_id: int, owner: str, later: float, attempts: int) -> None:
        self.same_entries(
            lambda s, ids: s.release(
                queue, ids(entry_id), owner=owner, not_before=self.now + later, attempts=attempts
            )
        )

    @rule(owner=st.none() | OWNERS)
    def release_leases(self, owner: str | None) -> None:
        self.same(lambda s: s.release_leases(owner=owner))

    @rule(age=HALVES)
    def drop_entries(self, age: float) -> None:
        self.same_entries(lambda s, _ids: s.drop_entries(made_before=self.now - age))

    @rule(queue=st.none() | QUEUES)
    def queue_counts(self, queue: str | None) -> None:
        self.same(lambda s: s.queue_counts(now=self.now, queue=queue))
        self.same(lambda s: s.queues())

    @rule(queue=QUEUES)
    def has_ready(self, queue: str) -> None:
        self.same(lambda s: s.has_ready(queue, now=self.now))


def _backend_id(ids: dict[int, int], model_id: int) -> int:
    return ids.get(model_id, NO_ENTRY)


def _in_model_ids(result: Any, model_id: dict[int, int]) -> Any:
    """`result` with every entry id a backend gave replaced by the model's id."""

    def entry(found: QueueEntry) -> QueueEntry:
        return dataclasses.replace(found, entry_id=model_id.get(found.entry_id, -found.entry_id))

    if isinstance(result, Enqueued):
        return Enqueued(
            entry_id=model_id.get(result.entry_id, -result.entry_id),
            dropped=tuple(entry(found) for found in result.dropped),
        )
    if isinstance(result, tuple) and all(isinstance(item, QueueEntry) for item in result):
        return tuple(entry(found) for found in result)
    return result


class RecordsAgree(BackendsAgree):
    @rule(kind=KINDS, key=KEYS, value=BODIES, ttl=HALVES, max_records=st.integers(1, 4))
    def put_record(self, kind: str, key: str, value: bytes, ttl: float, max_records: int) -> None:
        self.same(
            lambda s: s.put_record(
                kind, key, value, now=self.now, expires_at=self.now + ttl, max_records=max_records
            )
        )

    @rule(kind=KINDS, key=KEYS, value=BODIES, deleted=KEYS)
    def put_record_deleting(self, kind: str, key: str, value: bytes, deleted: str) -> None:
        other = "retry" if kind == "msg" else "msg"
        self.same(
            lambda s: s.put_record(
                kind,
                key,
                value,
                now=self.now,
                expires_at=self.now + 1,
                max_records=3,
                deleting=(other, deleted),
            )
        )

    @rule(kind=KINDS, key=KEYS, value=BODIES, ttl=HALVES, max_records=st.integers(1, 4))
    def claim_record(self, kind: str, key: str, value: bytes, ttl: float, max_records: int) -> None:
        self.same(
            lambda s: s.claim_record(
                kind, key, value, now=self.now, expires_at=self.now + ttl, max_records=max_records
            )
        )

    @rule(kind=KINDS, key=KEYS, value=BODIES, deleted=KEYS, also_key=KEYS, ttl=HALVES)
    def put_record_also(
        self, kind: str, key: str, value: bytes, deleted: str, also_key: str, ttl: float
    ) -> None:
        other = "retry" if kind == "msg" else "msg"
        also = RecordWrite(
            kind="claim", key=also_key, value=value, expires_at=self.now + ttl, max_records=2
        )
        self.same(
            lambda s: s.put_record(
                kind,
                key,
                value,
                now=self.now,
                expires_at=self.now + 1,
                max_records=3,
                deleting=(other, deleted),
                also=also,
            )
        )
        self.same(lambda s: s.scan_records("claim", now=self.now))

    @rule(
        kind=KINDS, key=KEYS, value=BODIES, claim_key=st.none() | KEYS, ttl=HALVES,
        reservations=RESERVATIONS,
    )  # fmt: skip
    def claim_and_put(
        self,
        kind: str,
        key: str,
        value: bytes,
        claim_key: str | None,
        ttl: float,
        reservations: list[tuple[str, int, int]],
    ) -> None:
        claim = (
            None
            if claim_key is None
            else RecordWrite(
                kind="claim", key=claim_key, value=value, expires_at=self.now + ttl, max_records=2
            )
        )
        wanted = [(c, amount, limit, self.now + ttl) for c, amount, limit in reservations]
        self.same(
            lambda s: s.claim_and_put(
                kind,
                key,
                value,
                now=self.now,
                expires_at=self.now + ttl,
                max_records=3,
                claim=claim,
                reservations=wanted,
            )
        )
        self.same(lambda s: s.scan_records("claim", now=self.now))
        for counter in ("day", "month", "week"):
            self.same(lambda s, c=counter: s.counter_value(c, now=self.now))

    @rule(kind=KINDS, key=KEYS)
    def get_record(self, kind: str, key: str) -> None:
        self.same(lambda s: s.get_record(kind, key, now=self.now))

    @rule(kind=KINDS, key=KEYS)
    def take_record(self, kind: str, key: str) -> None:
        self.same(lambda s: s.take_record(kind, key, now=self.now))

    @rule(kind=KINDS, key=KEYS)
    def delete_record(self, kind: str, key: str) -> None:
        self.same(lambda s: s.delete_record(kind, key))

    @rule(kind=KINDS, back=st.none() | HALVES, limit=st.none() | st.integers(1, 3))
    def scan_records(self, kind: str, back: float | None, limit: int | None) -> None:
        since = None if back is None else self.now - back
        self.same(lambda s: s.scan_records(kind, now=self.now, since=since, limit=limit))
        self.same(lambda s: s.record_count(kind))

    @rule()
    def expire_records(self) -> None:
        self.same(lambda s: s.expire_records(now=self.now))


class PartsAgree(BackendsAgree):
    @rule(
        group=GROUPS, index=st.integers(1, 3), value=BODIES, total=st.integers(1, 3),
        scope=st.sampled_from(["acct-a", "acct-b"]), meta=st.sampled_from([b"m", b"n"]),
        ttl=HALVES, limits=LIMITS,
    )  # fmt: skip
    def add_part(
        self,
        group: str,
        index: int,
        value: bytes,
        total: int,
        scope: str,
        meta: bytes,
        ttl: float,
        limits: PartLimits,
    ) -> None:
        index = min(index, total)
        self.same(
            lambda s: s.add_part(
                group,
                index,
                value,
                total=total,
                scope=scope,
                meta=meta,
                now=self.now,
                expires_at=self.now + ttl,
                limits=limits,
            )
        )

    @rule()
    def expire_groups(self) -> None:
        self.same(lambda s: s.expire_groups(now=self.now))

    @rule(scope=st.none() | st.sampled_from(["acct-a", "acct-b"]))
    def part_counts(self, scope: str | None) -> None:
        self.same(lambda s: s.part_counts(scope=scope))


COUNTERS = st.sampled_from(["day", "month"])


class CountersAgree(BackendsAgree):
    @rule(counter=COUNTERS, amount=st.integers(1, 4), limit=st.integers(0, 8), ttl=HALVES)
    def reserve(self, counter: str, amount: int, limit: int, ttl: float) -> None:
        self.same(
            lambda s: s.reserve(
                counter, amount, limit=limit, now=self.now, expires_at=self.now + ttl
            )
        )

    @rule(counter=COUNTERS, amount=st.integers(1, 4))
    def unreserve(self, counter: str, amount: int) -> None:
        self.same(lambda s: s.unreserve(counter, amount, now=self.now))

    @rule(counter=COUNTERS)
    def counter_value(self, counter: str) -> None:
        self.same(lambda s: s.counter_value(counter, now=self.now))

    @rule(reservations=RESERVATIONS, ttl=HALVES)
    def reserve_all(self, reservations: list[tuple[str, int, int]], ttl: float) -> None:
        wanted = [(c, amount, limit, self.now + ttl) for c, amount, limit in reservations]
        self.same(lambda s: s.reserve_all(wanted, now=self.now))

    @rule(amounts=st.lists(st.tuples(ALL_COUNTERS, st.integers(1, 4)), max_size=3))
    def unreserve_all(self, amounts: list[tuple[str, int]]) -> None:
        self.same(lambda s: s.unreserve_all(amounts, now=self.now))
        for counter in ("day", "month", "week"):
            self.same(lambda s, c=counter: s.counter_value(c, now=self.now))


@pytest.mark.parametrize("machine", [QueuesAgree, RecordsAgree, PartsAgree, CountersAgree])
@pytest.mark.parametrize("others", [name for name in sorted(RIGS) if name != "memory"])
def test_every_backend_gives_the_memory_models_answers(
    machine: type[BackendsAgree], others: str, rig_context: RigContext
) -> None:
    bound = type(machine.__name__, (machine,), {"rigs": (others,), "context": rig_context})
    run_state_machine_as_test(
        bound,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
