"""Counters raised within a limit (`reserve`) and records claimed once (`claim_record`), on
every backend: an account's caps and its duplicate fingerprints rest on them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from bridge.state import MemoryState, RecordWrite, Reserved, StateStore

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


Step = Callable[[StateStore], Awaitable[Any]]
Counters = list[tuple[str, int, int, float]]


def _claim_and_put(
    store: StateStore, *, at: float, intent: tuple[str, str], claim: RecordWrite | None,
    counters: Counters,
) -> Awaitable[Any]:  # fmt: skip
    kind, key = intent
    return store.claim_and_put(
        kind, key, b"i", now=at, expires_at=at + 60, max_records=50, claim=claim,
        reservations=counters,
    )  # fmt: skip


def _reserve_all(store: StateStore, *, at: float, counters: Counters) -> Awaitable[Any]:
    return store.reserve_all(counters, now=at)


def _settle(
    store: StateStore, *, at: float, record: tuple[str, str], settled: tuple[str, str],
    also: RecordWrite,
) -> Awaitable[Any]:  # fmt: skip
    kind, key = record
    return store.put_record(
        kind, key, b"m", now=at, expires_at=at + 60, max_records=50, deleting=settled, also=also
    )


def _mixed_steps(chooser: random.Random, scenario: int) -> list[Step]:
    """Claims with their intents and reservations, reservations alone, and puts that settle
    claims or delete intents, over a few keys and two counters near their limits."""
    steps: list[Step] = []
    dup, intent, msg = (f"{kind}{scenario}" for kind in ("dup", "intent", "msg"))
    for n in range(chooser.randrange(1, 24)):
        at = T0 + 10 + n / 100
        counters = [
            (f"c{scenario}/{name}", chooser.randrange(1, 3), limit, DAY_END)
            for name, limit in (("a", 12), ("b", 9))
            if chooser.random() < 0.7
        ]
        claim_key = f"fp{chooser.randrange(5)}"
        sort = chooser.random()
        if sort < 0.45:
            claim = RecordWrite(
                kind=dup, key=claim_key, value=b"pending", expires_at=at + 60, max_records=50
            )
            claimed = claim if chooser.random() < 0.8 else None
            steps.append(
                partial(
                    _claim_and_put,
                    at=at,
                    intent=(intent, f"i{n}"),
                    claim=claimed,
                    counters=counters,
                )
            )
        elif sort < 0.65:
            steps.append(partial(_reserve_all, at=at, counters=counters))
        else:
            settle = RecordWrite(
                kind=dup, key=claim_key, value=b"sent", expires_at=at + 60, max_records=50
            )
            settled = (intent, f"i{chooser.randrange(n + 1)}")
            steps.append(
                partial(_settle, at=at, record=(msg, f"m{n}"), settled=settled, also=settle)
            )
    return steps


async def test_claims_reservations_and_puts_started_together_give_each_its_answer_in_turn(
    store: StateStore,
) -> None:
    # A group commit on SQLite takes a run of these together (one read of the counters,
    # one INSERT per kind, each counter written once); whatever the mix, each must get what
    # it would have got had each waited for the one before, and leave the same state.
    # Redis sends each loop turn as one pipeline, in order, but a call whose script the
    # server does not know yet goes again after the others: every script is run once first.
    for step in _mixed_steps(random.Random(1), 999):
        await step(store)
    for scenario in range(30):
        chooser = random.Random(scenario)
        model = MemoryState()
        for target in (store, model):
            for key, expires in (("fp0", T0 + 999), ("fp1", T0 + 1)):  # live, and expired
                await target.put_record(
                    f"dup{scenario}", key, b"earlier", now=T0, expires_at=expires, max_records=50
                )
            await target.reserve_all([(f"c{scenario}/a", 8, 12, DAY_END)], now=T0)
        steps = _mixed_steps(chooser, scenario)
        together = await asyncio.gather(*(step(store) for step in steps))
        in_turn = [await step(model) for step in steps]
        assert list(together) == in_turn, scenario
        later = T0 + 30
        for kind in ("dup", "intent", "msg"):
            got = await store.scan_records(f"{kind}{scenario}", now=later)
            assert got == await model.scan_records(f"{kind}{scenario}", now=later), scenario
        for name in ("a", "b"):
            counter = f"c{scenario}/{name}"
            got_value = await store.counter_value(counter, now=later)
            assert got_value == await model.counter_value(counter, now=later), scenario
