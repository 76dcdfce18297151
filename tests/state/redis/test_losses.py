"""Redis losing the bridge's data, the ways it happens: a maxmemory-policy that evicts keys
(refused at open unless accepted), keys evicted one by one (simulated with DEL: skipped,
counted, logged, the rest flows), and a restart without persistence (found by the epoch
marker; entry ids never repeat, so a late acknowledgement cannot remove a new entry)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer

from bridge.state import (
    GroupComplete,
    PartCounts,
    PartKept,
    PartLimits,
    RedisState,
    StateFileError,
)

T0 = 1_700_000_000.0
ROOMY = PartLimits(max_groups_per_scope=10, max_bytes=10_000)


class Losses:
    """A `LossObserver` that remembers what it was told."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int]] = []
        self.states: list[str] = []

    def entries_lost(self, *, kind: str, count: int) -> None:
        self.entries.append((kind, count))

    def state_lost(self, *, reason: str) -> None:
        self.states.append(reason)

    def lost(self, kind: str) -> int:
        return sum(count for found, count in self.entries if found == kind)


def new_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A plain client: what an eviction does, done by hand."""
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def watched(redis_server: RedisServer) -> AsyncIterator[tuple[RedisState, Losses, str]]:
    prefix, losses = new_prefix(), Losses()
    store = await RedisState.open(redis_server.url, key_prefix=prefix, losses=losses)
    yield store, losses, prefix
    await store.aclose()


async def evict(raw: Redis, pattern: str, *, count: int | None = None) -> int:
    """DEL the keys matching `pattern` (the first `count` in key order), as eviction would."""
    keys = sorted([key async for key in raw.scan_iter(match=pattern, count=1000)])
    chosen = keys if count is None else keys[:count]
    if chosen:
        await raw.delete(*chosen)
    return len(chosen)


# --- a policy that may evict ----------------------------------------------------------------


async def test_a_redis_that_may_evict_keys_is_refused_at_open_saying_why_and_what_to_do() -> None:
    lru = ("--maxmemory-policy", "allkeys-lru")
    with RedisServer.started(options=lru) as server, pytest.raises(StateFileError) as refused:
        await RedisState.open(server.url, key_prefix=new_prefix())
    reason = refused.value.reason
    assert "maxmemory-policy is allkeys-lru" in reason
    assert "noeviction" in reason and "redis_allow_eviction = true" in reason


async def test_an_accepted_eviction_policy_opens_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        RedisServer.started(options=("--maxmemory-policy", "volatile-lru")) as server,
        caplog.at_level(logging.WARNING, logger="bridge.state"),
    ):
        store = await RedisState.open(server.url, key_prefix=new_prefix(), allow_eviction=True)
        await store.enqueue("acct", b"r", now=T0, max_entries=9)
        await store.aclose()
    warned = [r.getMessage() for r in caplog.records if "state_eviction_allowed" in r.getMessage()]
    assert len(warned) == 1 and "policy=volatile-lru" in warned[0]


async def test_the_policy_is_read_from_info_where_config_is_disabled() -> None:
    disabled = ("--rename-command", "CONFIG", "")
    with (
        RedisServer.started(options=(*disabled, "--maxmemory-policy", "allkeys-random")) as server,
        pytest.raises(StateFileError, match="maxmemory-policy is allkeys-random"),
    ):
        await RedisState.open(server.url, key_prefix=new_prefix())
    with RedisServer.started(options=disabled) as server:
        store = await RedisState.open(server.url, key_prefix=new_prefix())
        assert await store.writable()
        await store.aclose()


async def test_the_default_noeviction_policy_opens_without_a_warning(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.state"):
        store = await RedisState.open(redis_server.url, key_prefix=new_prefix())
        await store.aclose()
    assert not caplog.records


# --- keys evicted one by one ----------------------------------------------------------------


async def test_each_entry_is_a_key_of_its_own_so_one_eviction_costs_one_entry(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for i in range(5):
        await store.enqueue("acct", bytes([i]), now=T0 + i, max_entries=99)
    assert await evict(raw, f"{prefix}:q:acct:e:*", count=1) == 1
    taken = await store.take("acct", owner="a", now=T0 + 9, lease_s=30, limit=9)
    assert [e.body for e in taken] == [b"\x01", b"\x02", b"\x03", b"\x04"]
    assert losses.entries == [("entry", 1)]


async def test_entries_whose_bodies_are_gone_are_skipped_counted_logged_and_the_rest_flows(
    watched: tuple[RedisState, Losses, str], raw: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    store, losses, prefix = watched
    for i in range(10):
        await store.enqueue("acct", bytes([i]), now=T0 + i, max_entries=99)
    await evict(raw, f"{prefix}:q:acct:e:*", count=6)  # the six oldest
    with caplog.at_level(logging.ERROR, logger="bridge.state"):
        (first,) = await store.take("acct", owner="a", now=T0 + 20, lease_s=30, limit=1)
    assert first.body == b"\x06"  # the lost ones were passed over, not returned, not raised
    assert losses.lost("entry") == 6
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "event=state_entries_lost backend=redis kind=entry count=6" in line for line in lines
    )
    rest = await store.take("acct", owner="a", now=T0 + 20, lease_s=30, limit=9)
    assert [e.body for e in rest] == [b"\x07", b"\x08", b"\x09"]
    assert all([await store.ack("acct", e.entry_id, owner="a") for e in (first, *rest)])
    assert await store.queues() == () and not await store.has_ready("acct", now=T0 + 99)


async def test_more_lost_entries_than_one_script_removes_are_cleared_over_a_few_takes(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for i in range(2_100):
        await store.enqueue("acct", b"%d" % i, now=T0 + i / 10_000, max_entries=9_999)
    await evict(raw, f"{prefix}:q:acct:e:*", count=2_000)  # a script removes at most 1,000
    calls, taken = 0, ()
    while not taken:
        calls += 1
        taken = await store.take("acct", owner="a", now=T0 + 1, lease_s=30, limit=5)
    assert calls == 3 and [e.body for e in taken] == [b"2000", b"2001", b"2002", b"2003", b"2004"]
    assert losses.lost("entry") == 2_000


async def test_a_lost_entry_stops_counting_as_ready_once_a_take_met_it(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    await store.enqueue("acct", b"r", now=T0, max_entries=9)
    await evict(raw, f"{prefix}:q:acct:e:*")
    assert await store.has_ready("acct", now=T0)  # its index says so, until a take looks
    assert await store.take("acct", owner="a", now=T0, lease_s=30) == ()
    assert not await store.has_ready("acct", now=T0)
    assert (await store.queue_counts(now=T0)).ready == 0
    assert losses.entries == [("entry", 1)]


async def test_an_ack_or_release_of_a_lost_entry_is_false_and_counted(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for body in (b"1", b"2"):
        await store.enqueue("acct", body, now=T0, max_entries=9)
    one, two = await store.take("acct", owner="a", now=T0, lease_s=30, limit=2)
    await evict(raw, f"{prefix}:q:acct:e:*")
    assert not await store.ack("acct", one.entry_id, owner="a")
    assert not await store.release("acct", two.entry_id, owner="a", not_before=T0, attempts=1)
    assert losses.lost("entry") == 2 and await store.queues() == ()


async def test_sweeps_and_bounds_count_the_lost_entries_they_meet(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for i in range(4):
        await store.enqueue("acct", bytes([i]), now=T0 + i, max_entries=9)
    await store.take("acct", owner="dead", now=T0 + 9, lease_s=300, limit=4)
    await evict(raw, f"{prefix}:q:acct:e:*", count=1)
    assert await store.release_leases(owner="dead") == 3
    await evict(raw, f"{prefix}:q:acct:e:*", count=1)
    assert [e.body for e in await store.drop_entries(made_before=T0 + 2)] == [b"\x02"]
    await evict(raw, f"{prefix}:q:acct:e:*", count=1)
    assert (await store.enqueue("acct", b"new", now=T0 + 9, max_entries=1)).dropped == ()
    assert losses.lost("entry") == 3
    (only,) = await store.take("acct", owner="a", now=T0 + 9, lease_s=30, limit=9)
    assert only.body == b"new"


async def test_records_whose_values_are_gone_are_skipped_and_counted(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for i in range(3):
        await store.put_record("msg", f"k{i}", b"v", now=T0 + i, expires_at=T0 + 9, max_records=9)
    await store.put_record("fate", "k", b"kept", now=T0, expires_at=T0 + 9, max_records=9)
    assert await evict(raw, f"{prefix}:r:msg:v") == 1  # one hash per kind: all of "msg"
    assert await store.get_record("msg", "k0", now=T0) is None
    assert await store.scan_records("msg", now=T0) == ()
    assert losses.lost("record") == 3
    assert await store.record_count("msg") == 0
    kept = await store.get_record("fate", "k", now=T0)
    assert kept is not None and kept.value == b"kept"


async def test_records_found_gone_by_expiry_take_and_put_are_counted(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    for i in range(4):
        await store.put_record("msg", f"k{i}", b"v", now=T0, expires_at=T0 + 1, max_records=9)
    await evict(raw, f"{prefix}:r:msg:v")
    assert await store.take_record("msg", "k0", now=T0) is None
    put = await store.put_record("msg", "k1", b"new", now=T0, expires_at=T0 + 9, max_records=9)
    assert put.replaced is None
    assert not await store.delete_record("msg", "k2")
    assert await store.expire_records(now=T0 + 1) == ()
    assert losses.lost("record") == 4
    held = await store.get_record("msg", "k1", now=T0)
    assert held is not None and held.value == b"new"


async def test_a_long_message_whose_parts_are_gone_is_counted_and_starts_again(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched

    async def add(group: str, index: int, total: int = 3) -> object:
        return await store.add_part(
            group, index, b"p%d" % index, total=total, scope="acct", meta=b"m", now=T0,
            expires_at=T0 + 9, limits=ROOMY,
        )  # fmt: skip

    await add("g1", 1)
    await add("g1", 2)
    await add("g2", 1)
    await evict(raw, f"{prefix}:g:g1:parts")
    assert await add("g1", 3) == PartKept(received=1)  # a new group: the old one is gone
    assert losses.entries == [("group", 1)]
    # Recounted from what remains: g2's part 1 and g1's new part 3, two octets each.
    assert await store.part_counts() == PartCounts(groups=2, octets=4)
    assert await store.part_counts(scope="acct") == PartCounts(groups=2, octets=4)
    await evict(raw, f"{prefix}:g:g2")
    expired = await store.expire_groups(now=T0 + 9)
    assert [group.group for group in expired] == ["g1"]
    assert losses.lost("group") == 2
    assert (await store.part_counts()).groups == 0
    complete = await add("g3", 1, total=1)
    assert isinstance(complete, GroupComplete)


# --- Redis restarted empty ------------------------------------------------------------------


@pytest.fixture
async def restartable() -> AsyncIterator[RedisServer]:
    with RedisServer.started() as server:
        yield server


async def reconnected(store: RedisState) -> None:
    for _ in range(40):  # the first call after the restart may meet the old connection
        if await store.writable():
            return
    raise AssertionError("the store never reconnected")


async def test_redis_restarted_empty_is_found_logged_once_counted_and_the_new_marker_adopted(
    restartable: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    losses = Losses()
    store = await RedisState.open(restartable.url, socket_timeout=0.5, losses=losses)
    for i in range(50):
        await store.enqueue("acct", b"held %d" % i, now=T0, max_entries=99)
    before = store.epoch
    restartable.stop()
    restartable.start()
    with caplog.at_level(logging.ERROR, logger="bridge.state"):
        await reconnected(store)
        await store.enqueue("acct", b"after", now=T0 + 1, max_entries=99)
        await store.writable()
    lines = [r.getMessage() for r in caplog.records if "event=state_lost" in r.getMessage()]
    assert len(lines) == 1
    assert "backend=redis" in lines[0] and "reason=marker_missing" in lines[0]
    assert losses.states == ["marker_missing"]
    assert store.epoch is not None and store.epoch != before
    assert (await store.queue_counts(now=T0 + 1)).ready == 1  # the 50 held are gone
    await store.aclose()


async def test_after_a_restart_empty_entry_ids_are_new_and_a_late_ack_removes_nothing(
    restartable: RedisServer,
) -> None:
    store = await RedisState.open(restartable.url, socket_timeout=0.5)
    for i in range(5):
        await store.enqueue("acct", b"old %d" % i, now=T0, max_entries=99)
    old = await store.take("acct", owner="node-1", now=T0, lease_s=30, limit=5)
    restartable.stop()
    restartable.start()
    await reconnected(store)
    for i in range(5):
        await store.enqueue("acct", b"new %d" % i, now=T0 + 1, max_entries=99)
    new = await store.take("acct", owner="node-1", now=T0 + 1, lease_s=30, limit=5)
    assert not {e.entry_id for e in old} & {e.entry_id for e in new}
    assert min(e.entry_id for e in new) > max(e.entry_id for e in old)
    for entry in old:  # the late deliver_sm_resp of a delivery made before the restart
        assert not await store.ack("acct", entry.entry_id, owner="node-1")
    assert (await store.queue_counts(now=T0 + 1)).leased == 5
    await store.aclose()


async def test_every_instance_finds_the_loss_once_and_they_agree_on_the_new_marker(
    restartable: RedisServer,
) -> None:
    first_losses, second_losses = Losses(), Losses()
    first = await RedisState.open(restartable.url, socket_timeout=0.5, losses=first_losses)
    second = await RedisState.open(restartable.url, socket_timeout=0.5, losses=second_losses)
    assert first.epoch == second.epoch
    restartable.stop()
    restartable.start()
    for _ in range(3):
        await reconnected(first)
        await reconnected(second)
    assert first_losses.states == ["marker_missing"]
    assert second_losses.states == ["marker_changed"]
    assert first.epoch == second.epoch
    await first.aclose()
    await second.aclose()


async def test_a_flushed_database_is_found_like_a_restart(
    watched: tuple[RedisState, Losses, str], raw: Redis
) -> None:
    store, losses, prefix = watched
    await store.enqueue("acct", b"r", now=T0, max_entries=9)
    await evict(raw, f"{prefix}:*")  # FLUSHDB, limited to this test's keys
    await store.has_ready("acct", now=T0)
    assert losses.states == ["marker_missing"]
    await store.has_ready("acct", now=T0)
    assert losses.states == ["marker_missing"]  # once per loss
