"""Redis behind Sentinel, with real processes: a primary, a replica and one sentinel on free
loopback ports. The store finds the primary through the sentinel, a failover shows as
StateUnavailable while it moves, the next operation reaches the new primary by itself, and
what was written (and replicated) before is still there, under the same epoch marker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from real_parts import free_port
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis_server import RedisSentinel, RedisServer

from bridge.state import RedisState, StateFileError, StateUnavailable
from bridge.state.redis.sentinel import FOLLOW_PRIMARY_S

T0 = 1_700_000_000.0
SERVICE = RedisSentinel.SERVICE
# A primary stopping does not wait for its replicas to catch up (Redis 7 waits up to 10 s).
QUICK_STOP = ("--shutdown-timeout", "0")


class Losses:
    def __init__(self) -> None:
        self.states: list[str] = []
        self.entries: list[tuple[str, int]] = []

    def entries_lost(self, *, kind: str, count: int) -> None:
        self.entries.append((kind, count))

    def state_lost(self, *, reason: str) -> None:
        self.states.append(reason)


async def until(what: str, check: Callable[[], Awaitable[bool]], *, limit_s: float = 10) -> None:
    """Wait (bounded) until `check()` is true."""
    deadline = time.monotonic() + limit_s
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit_s} s: {what}")
        await asyncio.sleep(0.05)


async def role(port: int) -> str:
    client = Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        info = await client.info("replication")
    finally:
        await client.aclose()
    link = info.get("master_link_status")
    return f"{info['role']}:{link}" if link else str(info["role"])


async def primary_by_sentinel(sentinel: RedisSentinel) -> int:
    client = Redis(host="127.0.0.1", port=sentinel.port, socket_timeout=1, decode_responses=True)
    try:
        _host, port = await client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        return int(port)
    finally:
        await client.aclose()


async def replicas_seen(sentinel: RedisSentinel) -> int:
    client = Redis(host="127.0.0.1", port=sentinel.port, socket_timeout=1)
    try:
        return len(await client.execute_command("SENTINEL", "REPLICAS", SERVICE))
    finally:
        await client.aclose()


async def moved(sentinel: RedisSentinel, *, new: int) -> bool:
    """The sentinel names `new` as the primary, and it is one."""
    return await primary_by_sentinel(sentinel) == new and await role(new) == "master"


async def failover(sentinel: RedisSentinel) -> bool:
    """SENTINEL FAILOVER; false while the sentinel has not yet judged the replica good."""
    client = Redis(host="127.0.0.1", port=sentinel.port, socket_timeout=2)
    try:
        return bool(await client.execute_command("SENTINEL", "FAILOVER", SERVICE))
    except ResponseError as exc:
        if str(exc).startswith("NOGOODSLAVE"):
            return False
        raise
    finally:
        await client.aclose()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer, RedisSentinel]]:
    # --dir: a replica saves the RDB its primary sends; keep it out of the working folder.
    quiet = (*QUICK_STOP, "--dir", str(tmp_path))
    with RedisServer.started(options=quiet) as primary:
        replica = RedisServer(options=("--replicaof", "127.0.0.1", str(primary.port), *quiet))
        sentinel = RedisSentinel(tmp_path, primary.port)
        try:
            replica.start()
            sentinel.start()
            yield primary, replica, sentinel
        finally:
            sentinel.stop()
            replica.stop()


async def test_a_failover_is_unavailable_while_it_moves_then_the_new_primary_serves(
    cluster: tuple[RedisServer, RedisServer, RedisSentinel],
) -> None:
    primary, replica, sentinel = cluster

    async def in_sync() -> bool:
        return await role(replica.port) == "slave:up"

    async def known() -> bool:
        return await replicas_seen(sentinel) > 0

    await until("the replica is in sync", in_sync)
    await until("the sentinel knows the replica", known)
    losses = Losses()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    store = await RedisState.open_sentinel(
        [("127.0.0.1", free_port()), sentinel.address],  # the first never answers
        SERVICE,
        key_prefix=prefix,
        losses=losses,
        socket_timeout=0.5,
    )
    try:
        assert SERVICE in store.url and "+sentinel://" in store.url
        epoch = store.epoch
        assert epoch is not None
        for n in range(5):
            await store.enqueue("acct", b"receipt-%d" % n, now=T0 + n, max_entries=100)
            await store.put_record(
                "msg", f"k{n}", b"v%d" % n, now=T0, expires_at=T0 + 3600, max_records=100
            )
        old = Redis(host="127.0.0.1", port=primary.port, socket_timeout=2)
        try:
            assert await old.execute_command("WAIT", 1, 2000) == 1  # replicated before the move
            await until("the sentinel starts a failover", lambda: failover(sentinel))
        finally:
            await old.aclose()

        # Keep operating, bounded: failures while it moves are StateUnavailable only, and
        # the store follows the new primary without being reopened: within FOLLOW_PRIMARY_S
        # of the sentinel naming it, before the old primary is even demoted (Sentinel does
        # that up to 10 s later; writes still going there would be lost).
        unavailable, written = 0, 0
        switched: float | None = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                await store.put_record(
                    "msg", "during", b"x", now=T0, expires_at=T0 + 3600, max_records=100
                )
            except StateUnavailable:
                unavailable += 1
            else:
                written += 1
            if switched is None and await moved(sentinel, new=replica.port):
                switched = time.monotonic()
            if switched is not None and time.monotonic() - switched > FOLLOW_PRIMARY_S + 0.2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no failover within 20 s ({written} written, {unavailable} not)")
        for _ in range(40):  # bounded: a write that lands
            try:
                await store.put_record(
                    "msg", "after", b"new", now=T0, expires_at=T0 + 3600, max_records=100
                )
                break
            except StateUnavailable:
                unavailable += 1
                await asyncio.sleep(0.05)
        fresh = Redis(host="127.0.0.1", port=replica.port, socket_timeout=2)
        try:
            assert await fresh.hget(f"{prefix}:r:msg:v", "after") == b"new"
        finally:
            await fresh.aclose()

        # Everything acknowledged before the move is there; same epoch, nothing lost.
        for n in range(5):
            found = await store.get_record("msg", f"k{n}", now=T0 + 1)
            assert found is not None and found.value == b"v%d" % n
        taken = await store.take("acct", owner="me", now=T0 + 10, lease_s=30, limit=10)
        assert [e.body for e in taken] == [b"receipt-%d" % n for n in range(5)]
        assert await store.check_epoch() == epoch
        assert losses.states == [] and losses.entries == []
    finally:
        await store.aclose()


async def test_a_primary_that_may_evict_is_refused_through_sentinel_too(tmp_path: Path) -> None:
    with RedisServer.started(options=("--maxmemory-policy", "allkeys-lru")) as primary:
        sentinel = RedisSentinel(tmp_path, primary.port)
        try:
            sentinel.start()
            with pytest.raises(StateFileError, match="maxmemory-policy is allkeys-lru"):
                await RedisState.open_sentinel([sentinel.address], SERVICE)
            store = await RedisState.open_sentinel(
                [sentinel.address], SERVICE, url="redis:///3", allow_eviction=True
            )
            try:
                assert await store.writable()
                raw = Redis(host="127.0.0.1", port=primary.port, db=3, socket_timeout=2)
                try:
                    assert await raw.exists("isms-bridge:probe")
                finally:
                    await raw.aclose()
            finally:
                await store.aclose()
        finally:
            sentinel.stop()


async def test_no_sentinel_answering_is_a_state_file_error_naming_the_setup() -> None:
    port = free_port()
    with pytest.raises(StateFileError) as raised:
        await RedisState.open_sentinel([("127.0.0.1", port)], SERVICE, socket_timeout=0.5)
    assert f"127.0.0.1:{port}/{SERVICE}/0" in str(raised.value)
    assert "cannot reach Redis" in str(raised.value)
