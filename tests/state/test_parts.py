"""Groups of parts (long messages), on every backend: completed once, bounded, expired."""

from __future__ import annotations

import asyncio

from bridge.state import (
    ExpiredGroup,
    GroupComplete,
    KeepGroup,
    KeptGroup,
    PartAdded,
    PartConflict,
    PartCounts,
    PartDuplicate,
    PartKept,
    PartLimits,
    PartRefused,
    StateStore,
    decode_kept_group,
    encode_kept_group,
)

from .backends import BackendRig

T0 = 1_700_000_000.0
ROOMY = PartLimits(max_groups_per_scope=10, max_bytes=10_000)


async def add(
    store: StateStore,
    index: int,
    value: bytes,
    *,
    group: str = "g",
    total: int = 3,
    meta: bytes = b"m",
    scope: str = "acct",
    at: float = T0,
    limits: PartLimits = ROOMY,
) -> PartAdded:
    return await store.add_part(
        group, index, value, total=total, scope=scope, meta=meta, now=at, expires_at=at + 120,
        limits=limits,
    )  # fmt: skip


async def test_the_last_part_in_any_order_completes_the_group_in_index_order(
    store: StateStore,
) -> None:
    assert await add(store, 3, b"C") == PartKept(received=1)
    assert await add(store, 1, b"A", at=T0 + 5) == PartKept(received=2)
    assert await add(store, 2, b"B", at=T0 + 9) == GroupComplete(
        group="g", meta=b"m", parts=(b"A", b"B", b"C"), first_at=T0
    )
    assert await store.part_counts() == PartCounts(groups=0, octets=0)


async def test_a_part_stored_already_is_a_duplicate_with_the_stored_value(
    store: StateStore,
) -> None:
    await add(store, 1, b"first")
    assert await add(store, 1, b"other") == PartDuplicate(stored=b"first")
    assert await store.part_counts() == PartCounts(groups=1, octets=5)


async def test_a_part_with_other_meta_or_total_conflicts_and_is_not_stored(
    store: StateStore,
) -> None:
    await add(store, 1, b"A")
    assert await add(store, 2, b"B", meta=b"other") == PartConflict(meta=b"m", total=3)
    assert await add(store, 2, b"B", total=4) == PartConflict(meta=b"m", total=3)
    assert await store.part_counts() == PartCounts(groups=1, octets=1)


async def test_a_one_part_group_completes_at_once_and_holds_nothing(store: StateStore) -> None:
    done = await add(store, 1, b"A", total=1)
    assert done == GroupComplete(group="g", meta=b"m", parts=(b"A",), first_at=T0)
    assert await store.part_counts() == PartCounts(groups=0, octets=0)


async def test_a_scope_at_its_group_bound_is_refused_a_new_group_but_not_a_part_of_one(
    store: StateStore,
) -> None:
    tight = PartLimits(max_groups_per_scope=1, max_bytes=100)
    await add(store, 1, b"A", group="g1", limits=tight)
    assert await add(store, 1, b"A", group="g2", limits=tight) == PartRefused(reason="groups")
    assert await add(store, 1, b"A", group="g2", scope="other", limits=tight) == PartKept(
        received=1
    )
    assert await add(store, 2, b"B", group="g1", limits=tight) == PartKept(received=2)


async def test_octets_past_the_bound_are_refused_except_for_the_completing_part(
    store: StateStore,
) -> None:
    tight = PartLimits(max_groups_per_scope=10, max_bytes=4)
    await add(store, 1, b"AAA", total=2, limits=tight)
    assert await add(store, 1, b"BB", group="h", limits=tight) == PartRefused(reason="bytes")
    done = await add(store, 2, b"ZZZZZ", total=2, limits=tight)
    assert isinstance(done, GroupComplete)


async def test_of_concurrent_last_parts_exactly_one_completes_the_group(
    store: StateStore,
) -> None:
    await add(store, 1, b"A", total=2)
    results = await asyncio.gather(*(add(store, 2, b"B", total=2) for _ in range(6)))
    complete = [r for r in results if isinstance(r, GroupComplete)]
    assert len(complete) == 1
    # The others came after it: the first starts a new group, the rest duplicate that one.
    assert sorted(type(r).__name__ for r in results if r not in complete) == [
        "PartDuplicate",
        "PartDuplicate",
        "PartDuplicate",
        "PartDuplicate",
        "PartKept",
    ]


async def test_a_group_past_its_first_parts_deadline_expires_with_its_parts(
    store: StateStore,
) -> None:
    await add(store, 2, b"B", group="early", scope="s")
    await add(store, 1, b"A", group="late", at=T0 + 60)
    await add(store, 1, b"A", group="early", scope="s", at=T0 + 100)  # no sliding deadline
    assert await store.expire_groups(now=T0 + 119) == ()
    assert await store.expire_groups(now=T0 + 120) == (
        ExpiredGroup(
            group="early", scope="s", meta=b"m", total=3, parts=((1, b"A"), (2, b"B")),
            first_at=T0, expires_at=T0 + 120,
        ),
    )  # fmt: skip
    assert await store.part_counts(scope="acct") == PartCounts(groups=1, octets=1)


async def test_parts_survive_a_restart(rig: BackendRig) -> None:
    store = await rig.open()
    await add(store, 1, b"A", total=2)
    store = await rig.reopen(store)
    assert isinstance(await add(store, 2, b"B", total=2), GroupComplete)
    await store.aclose()


KEEP = KeepGroup(kind="completing/acct", key="g", expires_at=T0 + 3600, max_records=10)


async def test_a_group_kept_as_it_completes_is_a_record_of_its_parts_and_completing_index(
    store: StateStore,
) -> None:
    first_at = T0 + 0.123456789
    await add(store, 1, b"\x00A,:", at=first_at, total=2)
    await store.add_part(
        "g", 2, b"B\xff", total=2, scope="acct", meta=b"m", now=T0 + 1, expires_at=T0 + 120,
        limits=ROOMY, keep=KEEP,
    )  # fmt: skip
    record = await store.get_record(KEEP.kind, KEEP.key, now=T0 + 2)
    assert record is not None
    assert record.value == encode_kept_group(b"m", first_at, 2, (b"\x00A,:", b"B\xff"))
    assert decode_kept_group(record.value) == KeptGroup(
        meta=b"m", first_at=first_at, completing=2, parts=(b"\x00A,:", b"B\xff")
    )
    assert await store.part_counts() == PartCounts(groups=0, octets=0)


async def test_a_part_that_does_not_complete_its_group_keeps_no_record(store: StateStore) -> None:
    await store.add_part(
        "g", 1, b"A", total=2, scope="acct", meta=b"m", now=T0, expires_at=T0 + 120,
        limits=ROOMY, keep=KEEP,
    )  # fmt: skip
    assert await store.get_record(KEEP.kind, KEEP.key, now=T0) is None
