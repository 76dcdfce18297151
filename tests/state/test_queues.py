"""Queues with acknowledgement, on every backend: at-least-once, leases, bounds, age."""

from __future__ import annotations

from bridge.state import QueueCounts, StateStore

from .backends import BackendRig

T0 = 1_700_000_000.0


async def test_entries_are_taken_oldest_first_and_each_only_once_while_leased(
    store: StateStore,
) -> None:
    ids = [
        (await store.enqueue("acct", bytes([i]), now=T0, max_entries=10)).entry_id for i in range(3)
    ]
    first = await store.take("acct", owner="a", now=T0, lease_s=30, limit=2)
    second = await store.take("acct", owner="b", now=T0, lease_s=30, limit=2)
    assert [e.entry_id for e in first] == ids[:2]
    assert [e.body for e in first] == [b"\x00", b"\x01"]
    assert [e.entry_id for e in second] == ids[2:]


async def test_an_acknowledged_entry_is_gone(store: StateStore) -> None:
    entry_id = (await store.enqueue("acct", b"r", now=T0, max_entries=10)).entry_id
    await store.take("acct", owner="a", now=T0, lease_s=30)
    assert await store.ack("acct", entry_id, owner="a")
    assert not await store.ack("acct", entry_id, owner="a")
    assert await store.take("acct", owner="a", now=T0 + 100, lease_s=30) == ()
    assert await store.queues() == ()


async def test_an_entry_whose_owner_never_acknowledges_is_due_again_when_its_lease_ends(
    store: StateStore,
) -> None:
    await store.enqueue("acct", b"r", now=T0, max_entries=10)
    (taken,) = await store.take("acct", owner="dead", now=T0, lease_s=30)
    assert await store.take("acct", owner="alive", now=T0 + 29.9, lease_s=30) == ()
    (again,) = await store.take("acct", owner="alive", now=T0 + 30, lease_s=30)
    assert again.entry_id == taken.entry_id


async def test_a_released_entry_waits_for_its_not_before_time_and_keeps_its_attempts(
    store: StateStore,
) -> None:
    await store.enqueue("acct", b"r", now=T0, max_entries=10)
    (taken,) = await store.take("acct", owner="a", now=T0, lease_s=30)
    assert taken.attempts == 0
    assert await store.release("acct", taken.entry_id, owner="a", not_before=T0 + 5, attempts=1)
    assert not await store.has_ready("acct", now=T0 + 4)
    assert await store.has_ready("acct", now=T0 + 5)
    (again,) = await store.take("acct", owner="a", now=T0 + 5, lease_s=30)
    assert again.attempts == 1


async def test_a_release_by_an_owner_that_lost_the_lease_changes_nothing(
    store: StateStore,
) -> None:
    await store.enqueue("acct", b"r", now=T0, max_entries=10)
    (taken,) = await store.take("acct", owner="slow", now=T0, lease_s=10)
    await store.take("acct", owner="other", now=T0 + 10, lease_s=10)
    assert not await store.release("acct", taken.entry_id, owner="slow", not_before=T0, attempts=9)
    assert await store.queue_counts(now=T0 + 11) == QueueCounts(
        ready=0, leased=1, oldest_made_at=T0
    )


async def test_an_ack_by_an_owner_that_lost_the_lease_changes_nothing(store: StateStore) -> None:
    await store.enqueue("acct", b"r", now=T0, max_entries=10)
    (taken,) = await store.take("acct", owner="slow", now=T0, lease_s=10)
    assert not await store.ack("acct", taken.entry_id, owner="never-took-it")
    (again,) = await store.take("acct", owner="other", now=T0 + 10, lease_s=10)
    assert not await store.ack("acct", taken.entry_id, owner="slow")  # late: other holds it
    assert await store.queue_counts(now=T0 + 11) == QueueCounts(
        ready=0, leased=1, oldest_made_at=T0
    )
    assert await store.ack("acct", again.entry_id, owner="other")
    assert await store.queues() == ()


async def test_an_entry_id_is_never_given_out_twice(store: StateStore) -> None:
    first = await store.enqueue("acct", b"1", now=T0, max_entries=10)
    await store.take("acct", owner="a", now=T0, lease_s=10)
    assert await store.ack("acct", first.entry_id, owner="a")
    second = await store.enqueue("acct", b"2", now=T0, max_entries=10)
    assert second.entry_id > first.entry_id


async def test_a_queue_past_its_bound_drops_its_oldest_entries_and_says_which(
    store: StateStore,
) -> None:
    first = await store.enqueue("acct", b"1", now=T0, max_entries=2)
    await store.enqueue("acct", b"2", now=T0 + 1, max_entries=2)
    third = await store.enqueue("acct", b"3", now=T0 + 2, max_entries=2)
    assert [e.entry_id for e in third.dropped] == [first.entry_id]
    assert third.dropped[0].body == b"1"
    other = await store.enqueue("other", b"x", now=T0 + 3, max_entries=2)
    assert other.dropped == ()


async def test_entries_older_than_the_cutoff_are_dropped_from_every_queue_oldest_first(
    store: StateStore,
) -> None:
    await store.enqueue("b", b"old-b", now=T0 + 1, max_entries=10)
    await store.enqueue("a", b"old-a", now=T0 + 2, max_entries=10)
    await store.enqueue("a", b"new", now=T0 + 50, max_entries=10)
    await store.take("b", owner="x", now=T0 + 60, lease_s=100)
    dropped = await store.drop_entries(made_before=T0 + 2)
    assert [(e.queue, e.body) for e in dropped] == [("b", b"old-b"), ("a", b"old-a")]
    assert await store.queues() == ("a",)


async def test_counts_tell_ready_from_leased_per_queue_and_in_all(store: StateStore) -> None:
    for queue in ("a", "a", "b"):
        await store.enqueue(queue, b"r", now=T0, max_entries=10)
    await store.take("a", owner="x", now=T0, lease_s=30)
    assert await store.queue_counts(now=T0) == QueueCounts(ready=2, leased=1, oldest_made_at=T0)
    assert await store.queue_counts(now=T0, queue="a") == QueueCounts(
        ready=1, leased=1, oldest_made_at=T0
    )
    assert await store.queue_counts(now=T0 + 30) == QueueCounts(
        ready=3, leased=0, oldest_made_at=T0
    )
    assert await store.queues() == ("a", "b")


async def test_counts_give_the_oldest_entry_made_ready_or_leased_per_queue_and_in_all(
    store: StateStore,
) -> None:
    assert (await store.queue_counts(now=T0)).oldest_made_at is None
    await store.enqueue("a", b"first", now=T0 + 1.5, max_entries=10)
    await store.enqueue("b", b"second", now=T0 + 2.25, max_entries=10)
    await store.enqueue("a", b"third", now=T0 + 3, max_entries=10)
    await store.take("a", owner="x", now=T0 + 4, lease_s=30)  # the oldest is leased now
    assert (await store.queue_counts(now=T0 + 4)).oldest_made_at == T0 + 1.5
    assert (await store.queue_counts(now=T0 + 4, queue="a")).oldest_made_at == T0 + 1.5
    assert (await store.queue_counts(now=T0 + 4, queue="b")).oldest_made_at == T0 + 2.25
    assert (await store.queue_counts(now=T0 + 4, queue="none")).oldest_made_at is None
    await store.drop_entries(made_before=T0 + 2)
    assert (await store.queue_counts(now=T0 + 4, queue="a")).oldest_made_at == T0 + 3


async def test_releasing_an_owners_leases_makes_its_entries_due_at_once(
    store: StateStore,
) -> None:
    await store.enqueue("a", b"1", now=T0, max_entries=10)
    await store.enqueue("a", b"2", now=T0, max_entries=10)
    await store.take("a", owner="gone", now=T0, lease_s=300, limit=1)
    await store.take("a", owner="here", now=T0, lease_s=300, limit=1)
    assert await store.release_leases(owner="gone") == 1
    (again,) = await store.take("a", owner="here", now=T0 + 1, lease_s=300, limit=5)
    assert again.body == b"1"
    assert await store.release_leases() == 2


async def test_entries_survive_a_restart(rig: BackendRig) -> None:
    store = await rig.open()
    await store.enqueue("acct", b"receipt", now=T0, max_entries=10)
    store = await rig.reopen(store)
    (entry,) = await store.take("acct", owner="a", now=T0 + 1, lease_s=30)
    assert entry.body == b"receipt"
    await store.aclose()


async def test_a_drop_by_age_larger_than_one_sweep_chunk_drops_every_old_entry(
    store: StateStore,
) -> None:
    many = 2_500
    for i in range(many):
        await store.enqueue(f"q{i % 3}", b"r", now=T0 + i % 5, max_entries=many)
    await store.enqueue("q0", b"young", now=T0 + 100, max_entries=many)
    dropped = await store.drop_entries(made_before=T0 + 99)
    assert len(dropped) == many
    assert [e.entry_id for e in dropped] == [
        e.entry_id for e in sorted(dropped, key=lambda e: (e.made_at, e.entry_id))
    ]
    assert await store.queues() == ("q0",)
