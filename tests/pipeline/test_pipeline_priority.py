"""Urgent submits (priority_flag >= 2) go ahead of bulk when iSMS is saturated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bridge.pipeline import PipelineSettings
from bridge.pipeline.sending.slots import PrioritySlots

from .pipeline_doubles import rig, submit_sm


async def _queued(*work: Awaitable[object]) -> list[asyncio.Task[object]]:
    """Start each coroutine in turn, letting each reach its wait before the next starts."""
    tasks = []
    for item in work:
        tasks.append(asyncio.ensure_future(item))
        for _ in range(5):
            await asyncio.sleep(0)
    return tasks


async def test_an_urgent_submit_overtakes_waiting_bulk_when_the_upstream_is_saturated() -> None:
    r = rig(settings=PipelineSettings(upstream_concurrency=1))
    r.isms.hold()
    tasks = await _queued(
        r.submit(submit_sm(b"bulk A")),
        r.submit(submit_sm(b"bulk B")),
        r.submit(submit_sm(b"bulk C")),
        r.submit(submit_sm(b"OTP 123456", priority_flag=2)),
    )
    assert [m.text for m in r.isms.sent] == ["bulk A"]  # the one slot is busy
    r.isms.release()
    await asyncio.gather(*tasks)
    assert [m.text for m in r.isms.sent] == ["bulk A", "OTP 123456", "bulk B", "bulk C"]


async def test_below_the_concurrency_limit_nothing_waits_for_a_slot() -> None:
    r = rig(settings=PipelineSettings(upstream_concurrency=3))
    r.isms.hold()
    tasks = await _queued(*(r.submit(submit_sm(f"m{i}".encode())) for i in range(3)))
    assert len(r.isms.sent) == 3
    r.isms.release()
    await asyncio.gather(*tasks)


async def test_priority_1_is_bulk() -> None:
    r = rig(settings=PipelineSettings(upstream_concurrency=1))
    r.isms.hold()
    tasks = await _queued(
        r.submit(submit_sm(b"first")),
        r.submit(submit_sm(b"bulk")),
        r.submit(submit_sm(b"priority 1", priority_flag=1)),
    )
    r.isms.release()
    await asyncio.gather(*tasks)
    assert [m.text for m in r.isms.sent] == ["first", "bulk", "priority 1"]


async def test_a_cancelled_waiter_gives_up_its_place_without_losing_a_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire("isms", urgent=False)
    waiter = asyncio.ensure_future(slots.acquire("isms", urgent=True))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    slots.release("isms")
    assert (slots.in_flight("isms"), slots.waiting("isms")) == (0, 0)
    await asyncio.wait_for(slots.acquire("isms", urgent=False), 1.0)


async def test_a_waiter_cancelled_right_after_it_was_handed_the_slot_passes_it_on() -> None:
    slots = PrioritySlots(1)
    await slots.acquire("isms", urgent=False)
    first = asyncio.ensure_future(slots.acquire("isms", urgent=False))
    second = asyncio.ensure_future(slots.acquire("isms", urgent=False))
    await asyncio.sleep(0)
    slots.release("isms")  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it runs
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 1.0)
    assert slots.in_flight("isms") == 1


async def test_each_isms_account_has_its_own_slots() -> None:
    slots = PrioritySlots(1)
    await slots.acquire("a", urgent=False)
    await asyncio.wait_for(slots.acquire("b", urgent=False), 1.0)
    assert (slots.in_flight("a"), slots.in_flight("b")) == (1, 1)


def test_at_least_one_slot_is_required() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)
