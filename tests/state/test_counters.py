"""Counters raised within a limit (`reserve`) and records claimed once (`claim_record`), on
every backend: an account's caps and its duplicate fingerprints rest on them."""

from __future__ import annotations

import asyncio

from bridge.state import Reserved, StateStore

from .backends import BackendRig

T0 = 1_700_000_000.0
DAY_END = T0 + 86_400


async def test_a_reservation_within_the_limit_is_granted_and_one_past_it_refused(
    store: StateStore,
) -> None:
    first = await store.reserve("cap/esme1/day", 3, limit=5, now=T0, expires_at=DAY_END)
    second = await store.reserve("cap/esme1/day", 3, limit=5, now=T0, expires_at=DAY_END)
    third = await store.reserve("cap/esme1/day", 2, limit=5, now=T0, expires_at=DAY_END)
    assert (first, second, third) == (
        Reserved(granted=True, used=3),
        Reserved(granted=False, used=3),
        Reserved(granted=True, used=5),
    )
    assert await store.counter_value("cap/esme1/day", now=T0) == 5


async def test_a_counter_past_its_expiry_counts_zero_and_starts_again(store: StateStore) -> None:
    await store.reserve("c", 4, limit=5, now=T0, expires_at=T0 + 10)
    # Later reservations keep the first one's expiry.
    await store.reserve("c", 1, limit=5, now=T0 + 5, expires_at=T0 + 1000)
    assert await store.counter_value("c", now=T0 + 9) == 5
    assert await store.counter_value("c", now=T0 + 10) == 0
    again = await store.reserve("c", 2, limit=5, now=T0 + 11, expires_at=T0 + 20)
    assert again == Reserved(granted=True, used=2)


async def test_unreserve_gives_back_and_never_goes_below_zero(store: StateStore) -> None:
    await store.reserve("c", 4, limit=5, now=T0, expires_at=DAY_END)
    assert await store.unreserve("c", 3, now=T0) == 1
    assert await store.unreserve("c", 3, now=T0) == 0
    assert await store.unreserve("absent", 1, now=T0) == 0
    assert await store.counter_value("absent", now=T0) == 0


async def test_concurrent_reservations_never_exceed_the_limit(store: StateStore) -> None:
    granted = await asyncio.gather(
        *(store.reserve("c", 1, limit=7, now=T0, expires_at=DAY_END) for _ in range(20))
    )
    assert sum(r.granted for r in granted) == 7
    assert await store.counter_value("c", now=T0) == 7


async def test_counters_outlive_a_restart(rig: BackendRig) -> None:
    store = await rig.open()
    await store.reserve("c", 2, limit=5, now=T0, expires_at=DAY_END)
    store = await rig.reopen(store)
    try:
        assert await store.counter_value("c", now=T0) == 2
    finally:
        await store.aclose()


async def test_claim_record_puts_once_and_then_returns_the_live_record(store: StateStore) -> None:
    kwargs = {"now": T0, "expires_at": T0 + 60, "max_records": 10}
    assert await store.claim_record("dup/esme1", "fp", b"first", **kwargs) is None
    held = await store.claim_record("dup/esme1", "fp", b"second", **kwargs)
    assert held is not None and held.value == b"first"
    # Past its expiry the key can be claimed again.
    later = {"now": T0 + 60, "expires_at": T0 + 120, "max_records": 10}
    assert await store.claim_record("dup/esme1", "fp", b"third", **later) is None
    found = await store.get_record("dup/esme1", "fp", now=T0 + 61)
    assert found is not None and found.value == b"third"


async def test_of_concurrent_claims_of_one_key_exactly_one_puts(store: StateStore) -> None:
    claims = await asyncio.gather(
        *(
            store.claim_record(
                "dup", "fp", str(i).encode(), now=T0, expires_at=T0 + 60, max_records=10
            )
            for i in range(10)
        )
    )
    assert sum(claim is None for claim in claims) == 1
