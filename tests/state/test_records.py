"""Records with an expiry, on every backend: bounded per kind, taken once, expired once."""

from __future__ import annotations

import asyncio
import random

import pytest

from bridge.state import MemoryState, StateStore

from .backends import BackendRig

T0 = 1_700_000_000.0


async def put(store: StateStore, key: str, at: float, *, ttl: float = 100, bound: int = 10) -> None:
    await store.put_record("msg", key, key.encode(), now=at, expires_at=at + ttl, max_records=bound)


async def test_a_record_is_found_until_it_expires(store: StateStore) -> None:
    await put(store, "k", T0)
    found = await store.get_record("msg", "k", now=T0 + 99)
    assert found is not None and found.value == b"k" and found.expires_at == T0 + 100
    assert await store.get_record("msg", "k", now=T0 + 100) is None
    assert await store.get_record("other-kind", "k", now=T0) is None


async def test_putting_a_key_again_replaces_it_and_returns_the_old_record(
    store: StateStore,
) -> None:
    await put(store, "k", T0)
    again = await store.put_record(
        "msg", "k", b"new", now=T0 + 1, expires_at=T0 + 9, max_records=10
    )
    assert again.replaced is not None and again.replaced.value == b"k"
    found = await store.get_record("msg", "k", now=T0 + 2)
    assert found is not None and found.value == b"new"
    assert await store.record_count("msg") == 1


async def test_a_kind_past_its_bound_drops_its_oldest_records(store: StateStore) -> None:
    for i, key in enumerate(("a", "b", "c")):
        await put(store, key, T0 + i, bound=3)
    await put(store, "a", T0 + 3, bound=3)  # re-put: "a" is now the newest
    put_d = await store.put_record("msg", "d", b"d", now=T0 + 4, expires_at=T0 + 99, max_records=3)
    assert [r.key for r in put_d.dropped] == ["b"]
    assert await store.record_count("msg") == 3


async def test_exactly_one_of_many_concurrent_takers_gets_the_record(store: StateStore) -> None:
    await put(store, "k", T0)
    taken = await asyncio.gather(*(store.take_record("msg", "k", now=T0) for _ in range(8)))
    assert [r.value for r in taken if r is not None] == [b"k"]
    assert await store.get_record("msg", "k", now=T0) is None


async def test_scan_gives_live_records_newest_first_with_since_and_limit(
    store: StateStore,
) -> None:
    for i, key in enumerate(("a", "b", "c", "d")):
        await put(store, key, T0 + i)
    await put(store, "short", T0 + 1, ttl=1)
    scanned = await store.scan_records("msg", now=T0 + 5, since=T0 + 1, limit=2)
    assert [r.key for r in scanned] == ["d", "c"]
    everything = await store.scan_records("msg", now=T0 + 5)
    assert [r.key for r in everything] == ["d", "c", "b", "a"]


async def test_expiry_returns_each_expired_record_once_soonest_first(store: StateStore) -> None:
    await put(store, "late", T0, ttl=50)
    await put(store, "soon", T0, ttl=10)
    await put(store, "alive", T0, ttl=500)
    await store.put_record("retry", "r", b"r", now=T0, expires_at=T0 + 10, max_records=5)
    expired = await store.expire_records(now=T0 + 50)
    assert [(r.kind, r.key) for r in expired] == [("msg", "soon"), ("retry", "r"), ("msg", "late")]
    assert await store.expire_records(now=T0 + 50) == ()
    assert await store.record_count("msg") == 1


async def test_a_deleted_record_is_gone_and_never_expires(store: StateStore) -> None:
    await put(store, "k", T0, ttl=1)
    assert await store.delete_record("msg", "k")
    assert not await store.delete_record("msg", "k")
    assert await store.expire_records(now=T0 + 10) == ()


async def test_records_survive_a_restart(rig: BackendRig) -> None:
    store = await rig.open()
    await put(store, "k", T0)
    store = await rig.reopen(store)
    found = await store.get_record("msg", "k", now=T0 + 1)
    assert found is not None and found.value == b"k" and found.stored_at == T0
    await store.aclose()


async def test_an_expiry_larger_than_one_sweep_chunk_returns_every_record_in_order(
    store: StateStore,
) -> None:
    many = 2_500  # the file and Redis sweeps work 1,000 at a time
    await asyncio.gather(
        *(
            store.put_record(
                "msg", f"k{i:05}", b"v", now=T0, expires_at=T0 + 1 + (i % 7), max_records=many
            )
            for i in range(many)
        )
    )
    expired = await store.expire_records(now=T0 + 10)
    assert len(expired) == many
    assert expired == tuple(sorted(expired, key=lambda r: (r.expires_at, r.kind, r.key)))
    assert await store.record_count("msg") == 0


async def test_puts_started_together_give_each_the_result_it_would_get_in_turn(
    store: StateStore,
) -> None:
    # A group commit writes puts made in one loop turn together; whatever the mix (new
    # keys, a key put twice, an existing key, a kind over its bound, two kinds), every put
    # must see what it would have seen had each waited for the one before.
    chooser = random.Random(7)
    for scenario in range(40):
        model = MemoryState()
        kinds = (f"a{scenario}", f"b{scenario}")
        existing = [(chooser.choice(kinds), f"k{i}") for i in range(chooser.randrange(4))]
        for i, (kind, key) in enumerate(existing):
            for target in (store, model):
                await target.put_record(
                    kind, key, b"old", now=T0 + i, expires_at=T0 + 999, max_records=50
                )
        bound = chooser.choice((3, 8, 50))
        puts = [
            (chooser.choice(kinds), f"k{chooser.randrange(12)}", T0 + 10 + chooser.random())
            for _ in range(chooser.randrange(1, 20))
        ]
        together = await asyncio.gather(
            *(
                store.put_record(kind, key, b"new", now=at, expires_at=at + 99, max_records=bound)
                for kind, key, at in puts
            )
        )
        in_turn = [
            await model.put_record(kind, key, b"new", now=at, expires_at=at + 99, max_records=bound)
            for kind, key, at in puts
        ]
        assert list(together) == in_turn, (scenario, puts)
        for kind in kinds:
            assert await store.scan_records(kind, now=T0) == await model.scan_records(kind, now=T0)


async def test_a_put_deletes_the_record_it_settles_in_the_same_step(store: StateStore) -> None:
    await store.put_record("intent", "i1", b"i", now=T0, expires_at=T0 + 9, max_records=9)
    put_result = await store.put_record(
        "msg", "m1", b"m", now=T0, expires_at=T0 + 9, max_records=9, deleting=("intent", "i1")
    )
    assert put_result.replaced is None and put_result.dropped == ()
    assert await store.get_record("intent", "i1", now=T0) is None
    assert await store.record_count("intent") == 0
    assert await store.record_count("msg") == 1


async def test_a_put_deleting_a_record_that_is_not_there_is_an_ordinary_put(
    store: StateStore,
) -> None:
    await store.put_record(
        "msg", "m1", b"m", now=T0, expires_at=T0 + 9, max_records=9, deleting=("intent", "gone")
    )
    assert await store.record_count("msg") == 1


async def test_many_puts_started_together_each_delete_what_they_settle(store: StateStore) -> None:
    # One group commit on SQLite writes such a run as multi-row statements.
    many = 600
    await asyncio.gather(
        *(
            store.put_record("intent", f"i{n}", b"i", now=T0, expires_at=T0 + 99, max_records=many)
            for n in range(many)
        )
    )
    await asyncio.gather(
        *(
            store.put_record(
                "msg", f"m{n}", b"m", now=T0, expires_at=T0 + 99, max_records=many,
                deleting=("intent", f"i{n}"),
            )
            for n in range(0, many, 2)
        )
    )  # fmt: skip
    left = await store.scan_records("intent", now=T0)
    assert sorted(r.key for r in left) == sorted(f"i{n}" for n in range(1, many, 2))
    assert await store.record_count("intent") == many // 2


async def test_a_put_may_not_delete_a_record_of_its_own_kind(store: StateStore) -> None:
    with pytest.raises(ValueError, match="its own kind"):
        await store.put_record(
            "msg", "a", b"a", now=T0, expires_at=T0 + 9, max_records=9, deleting=("msg", "b")
        )
