"""Token buckets and bind leases, on every backend."""

from __future__ import annotations

import asyncio

from bridge.state import StateStore, TokensTaken

T0 = 1_700_000_000.0


async def test_a_new_bucket_is_full_and_refuses_past_its_burst(store: StateStore) -> None:
    taken = [await store.take_tokens("acct", rate=10, burst=3, count=1, now=T0) for _ in range(4)]
    assert [t.granted for t in taken] == [True, True, True, False]
    assert taken[3] == TokensTaken(granted=False, tokens=0.0, wait_s=0.1)


async def test_a_bucket_refills_at_its_rate_up_to_its_burst(store: StateStore) -> None:
    for _ in range(3):
        await store.take_tokens("acct", rate=10, burst=3, count=1, now=T0)
    half = await store.take_tokens("acct", rate=10, burst=3, count=1, now=T0 + 0.25)
    assert half.granted and abs(half.tokens - 1.5) < 1e-9
    later = await store.take_tokens("acct", rate=10, burst=3, count=1, now=T0 + 100)
    assert later.granted and later.tokens == 2.0


async def test_concurrent_takers_never_get_more_than_the_burst(store: StateStore) -> None:
    taken = await asyncio.gather(
        *(store.take_tokens("acct", rate=1, burst=5, count=1, now=T0) for _ in range(20))
    )
    assert sum(t.granted for t in taken) == 5


async def test_leases_are_granted_up_to_the_limit_and_a_holder_renews_its_own(
    store: StateStore,
) -> None:
    grants = [
        await store.acquire_lease("acct", holder, limit=2, now=T0, ttl_s=30)
        for holder in ("a", "b", "c", "a")
    ]
    assert grants == [True, True, False, True]
    assert await store.lease_count("acct", now=T0) == 2


async def test_a_lease_not_renewed_stops_counting_after_its_ttl(store: StateStore) -> None:
    await store.acquire_lease("acct", "a", limit=2, now=T0, ttl_s=30)
    await store.acquire_lease("acct", "b", limit=2, now=T0, ttl_s=30)
    assert await store.renew_leases([("acct", "a"), ("acct", "x")], now=T0 + 20, ttl_s=30) == (
        True,
        False,
    )
    assert await store.lease_count("acct", now=T0 + 30) == 1
    assert await store.renew_leases([("acct", "b")], now=T0 + 31, ttl_s=30) == (False,)
    assert await store.acquire_lease("acct", "c", limit=2, now=T0 + 31, ttl_s=30)


async def test_a_released_lease_frees_its_place(store: StateStore) -> None:
    await store.acquire_lease("acct", "a", limit=1, now=T0, ttl_s=30)
    assert await store.release_lease("acct", "a")
    assert not await store.release_lease("acct", "a")
    assert await store.acquire_lease("acct", "b", limit=1, now=T0, ttl_s=30)


async def test_a_buckets_level_is_what_a_take_would_find_and_reading_it_takes_nothing(
    store: StateStore,
) -> None:
    assert await store.bucket_level("acct", rate=10, burst=3, now=T0) == 3.0  # new: full
    for _ in range(3):
        await store.take_tokens("acct", rate=10, burst=3, count=1, now=T0)
    assert await store.bucket_level("acct", rate=10, burst=3, now=T0) == 0.0
    assert await store.bucket_level("acct", rate=4, burst=3, now=T0 + 0.25) == 1.0
    assert await store.bucket_level("acct", rate=4, burst=3, now=T0 + 0.25) == 1.0
    taken = await store.take_tokens("acct", rate=4, burst=3, count=1, now=T0 + 0.25)
    assert taken == TokensTaken(granted=True, tokens=0.0, wait_s=0.0)
    assert await store.bucket_level("acct", rate=10, burst=3, now=T0 + 100) == 3.0
