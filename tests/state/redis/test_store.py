"""What only Redis can have: several instances on one server, a server that goes away and
comes back, a password, round trips."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from real_parts import free_port
from redis_server import RedisServer

from bridge.state import (
    GroupComplete,
    PartLimits,
    RedisState,
    StateFileError,
    StateUnavailable,
)

T0 = 1_700_000_000.0
ROOMY = PartLimits(max_groups_per_scope=10, max_bytes=10_000)


@pytest.fixture
async def two(redis_server: RedisServer) -> AsyncIterator[tuple[RedisState, RedisState]]:
    """Two instances (two clients) sharing one prefix on one server."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    first = await RedisState.open(redis_server.url, key_prefix=prefix)
    second = await RedisState.open(redis_server.url, key_prefix=prefix)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_a_receipt_enqueued_on_one_instance_is_taken_on_the_other(
    two: tuple[RedisState, RedisState],
) -> None:
    first, second = two
    await first.enqueue("acct", b"receipt", now=T0, max_entries=10)
    assert await second.has_ready("acct", now=T0)
    (entry,) = await second.take("acct", owner="node-2", now=T0, lease_s=30)
    assert entry.body == b"receipt"


async def test_of_two_instances_racing_for_a_record_exactly_one_gets_it(
    two: tuple[RedisState, RedisState],
) -> None:
    first, _second = two
    for i in range(50):
        await first.put_record("retry", f"k{i}", b"v", now=T0, expires_at=T0 + 9, max_records=99)
    results = await asyncio.gather(
        *(store.take_record("retry", f"k{i}", now=T0) for i in range(50) for store in two)
    )
    assert sum(r is not None for r in results) == 50


async def test_parts_sent_to_two_instances_join_and_only_one_completes_them(
    two: tuple[RedisState, RedisState],
) -> None:
    first, second = two

    async def add(store: RedisState, index: int) -> object:
        return await store.add_part(
            "g", index, bytes([index]), total=2, scope="a", meta=b"m", now=T0, expires_at=T0 + 9,
            limits=ROOMY,
        )  # fmt: skip

    await add(first, 1)
    results = await asyncio.gather(add(first, 2), add(second, 2))
    complete = [r for r in results if isinstance(r, GroupComplete)]
    assert len(complete) == 1 and complete[0].parts == (b"\x01", b"\x02")


async def test_an_expired_record_goes_to_exactly_one_instance(
    two: tuple[RedisState, RedisState],
) -> None:
    first, second = two
    for i in range(20):
        await first.put_record("msg", f"k{i}", b"v", now=T0, expires_at=T0 + 1, max_records=99)
    both = await asyncio.gather(first.expire_records(now=T0 + 1), second.expire_records(now=T0 + 1))
    assert sorted(r.key for batch in both for r in batch) == sorted(f"k{i}" for i in range(20))


async def test_a_bucket_is_shared_by_every_instance(two: tuple[RedisState, RedisState]) -> None:
    taken = await asyncio.gather(
        *(store.take_tokens("acct", rate=1, burst=4, count=1, now=T0) for store in two * 5)
    )
    assert sum(t.granted for t in taken) == 4


async def test_writes_started_in_one_loop_turn_share_one_round_trip(
    redis_server: RedisServer,
) -> None:
    store = await RedisState.open(redis_server.url, key_prefix=f"test-{uuid.uuid4().hex[:12]}")
    before = store.round_trips
    await asyncio.gather(
        store.put_record("msg", "m1", b"record", now=T0, expires_at=T0 + 9, max_records=9),
        store.enqueue("acct", b"receipt", now=T0, max_entries=9),
    )
    assert store.round_trips - before == 1
    await store.enqueue("acct", b"another", now=T0, max_entries=9)
    assert store.round_trips - before == 2
    await store.aclose()


async def test_different_key_prefixes_never_see_each_other(redis_server: RedisServer) -> None:
    one = await RedisState.open(redis_server.url, key_prefix="test-one-" + uuid.uuid4().hex)
    other = await RedisState.open(redis_server.url, key_prefix="test-other-" + uuid.uuid4().hex)
    await one.enqueue("acct", b"r", now=T0, max_entries=9)
    assert await other.queues() == ()
    await one.aclose()
    await other.aclose()


async def test_an_unreachable_redis_is_refused_at_open_with_the_url_and_no_password() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with pytest.raises(StateFileError) as refused:
        await RedisState.open(url)
    assert refused.value.path.startswith("redis://127.0.0.1:")
    assert "cannot reach Redis" in refused.value.reason
    assert "hunter2" not in str(refused.value)


async def test_a_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(StateFileError, match="redis:// or rediss://"):
        await RedisState.open("http://127.0.0.1:6379")


async def test_a_wrong_password_is_refused_at_open_and_the_right_one_works() -> None:
    with RedisServer.started(password="s3cret") as server:
        with pytest.raises(StateFileError, match="authentication failed"):
            await RedisState.open(server.url, password="wrong")
        store = await RedisState.open(server.url, password="s3cret")
        assert await store.writable()
        await store.aclose()


async def test_redis_going_away_is_unavailable_quickly_and_it_recovers_by_itself() -> None:
    with RedisServer.started() as server:
        store = await RedisState.open(server.url, socket_timeout=0.5)
        await store.enqueue("acct", b"r", now=T0, max_entries=9)
        server.stop()
        started = time.monotonic()
        with pytest.raises(StateUnavailable, match="redis"):
            await store.enqueue("acct", b"r", now=T0, max_entries=9)
        assert time.monotonic() - started < 2.0
        assert not await store.writable()
        server.start()
        recovered = False
        for _ in range(20):  # the first call after the restart may meet the old connection
            if await store.writable():
                recovered = True
                break
            await asyncio.sleep(0.05)
        assert recovered
        assert (await store.enqueue("acct", b"r", now=T0, max_entries=9)).dropped == ()
        await store.aclose()


async def test_a_redis_that_stops_answering_is_unavailable_within_the_socket_timeout() -> None:
    with RedisServer.started() as server:
        store = await RedisState.open(server.url, socket_timeout=0.3)
        assert server.process is not None
        server.process.send_signal(19)  # SIGSTOP: the socket stays open, nothing answers
        try:
            started = time.monotonic()
            with pytest.raises(StateUnavailable):
                await store.put_record("msg", "k", b"v", now=T0, expires_at=T0 + 9, max_records=9)
            assert time.monotonic() - started < 1.5
        finally:
            server.process.send_signal(18)  # SIGCONT
        await store.aclose()


async def test_traffic_during_a_restart_fails_only_while_redis_is_down() -> None:
    with RedisServer.started() as server:
        store = await RedisState.open(server.url, socket_timeout=0.5)
        outcomes: list[bool] = []

        async def traffic() -> None:
            for i in range(200):
                try:
                    await store.put_record(
                        "msg", f"k{i}", b"v", now=T0, expires_at=T0 + 99, max_records=999
                    )
                    outcomes.append(True)
                except StateUnavailable:
                    outcomes.append(False)
                await asyncio.sleep(0.005)

        running = asyncio.create_task(traffic())
        await asyncio.sleep(0.2)
        server.stop()
        await asyncio.sleep(0.2)
        server.start()
        await running
        assert outcomes[0] and not all(outcomes) and outcomes[-1]
        await store.aclose()


async def test_a_key_prefix_written_with_its_colon_means_the_same_prefix(
    redis_server: RedisServer,
) -> None:
    name = f"test-{uuid.uuid4().hex[:12]}"
    plain = await RedisState.open(redis_server.url, key_prefix=name)
    with_colon = await RedisState.open(redis_server.url, key_prefix=f"{name}:")
    await plain.enqueue("acct", b"r", now=T0, max_entries=9)
    assert await with_colon.queues() == ("acct",)
    await plain.aclose()
    await with_colon.aclose()


async def test_sweeps_larger_than_one_script_chunk_handle_everything(
    redis_server: RedisServer,
) -> None:
    store = await RedisState.open(redis_server.url, key_prefix=f"test-{uuid.uuid4().hex[:12]}")
    many = 2_500  # more than two chunks: each script stays short, the sweep goes on
    await asyncio.gather(
        *(store.enqueue(f"q{i % 2}", b"r", now=T0, max_entries=many) for i in range(many)),
        *(
            store.put_record("msg", f"k{i}", b"v", now=T0, expires_at=T0 + 1, max_records=many)
            for i in range(many)
        ),
    )
    for queue in ("q0", "q1"):
        await store.take(queue, owner="dead", now=T0, lease_s=60, limit=many)
    assert await store.release_leases(owner="dead") == many
    assert len(await store.expire_records(now=T0 + 1)) == many
    assert len(await store.drop_entries(made_before=T0)) == many
    await store.aclose()
