"""Steering: an operator's decisions, kept in the store, adopted by every instance on it."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from redis_server import RedisServer

from bridge.app.admin.records import OPT_OUT_KIND, SUSPENDED_KIND, SuspendMode
from bridge.state import MemoryState, RedisState

from .admin_parts import admin_config, bound, instance


@pytest.fixture
def store() -> MemoryState:
    return MemoryState()


async def test_a_suspension_unbinds_the_accounts_sessions_here_and_refuses_its_binds(
    tmp_path: Path, store: MemoryState
) -> None:
    one = instance(admin_config(tmp_path), store, "a")
    session = bound(one.registry, "esme1", "s1")
    other = bound(one.registry, "esme2", "s2")
    unbound = await one.steering.suspend("esme1", SuspendMode.REFUSE_BINDS, "abuse", "ops")
    assert unbound == 1 and session.unbinds and not other.unbinds
    assert one.steering.bind_refusal("esme1") == "account suspended"
    assert one.steering.bind_refusal("esme2") is None
    assert not one.steering.throttles("esme1")
    assert await store.record_count(SUSPENDED_KIND) == 1


async def test_the_softer_suspension_throttles_submits_and_keeps_binds(
    tmp_path: Path, store: MemoryState
) -> None:
    one = instance(admin_config(tmp_path), store, "a")
    session = bound(one.registry, "esme1", "s1")
    await one.steering.suspend("esme1", SuspendMode.THROTTLE_SUBMITS, "", "ops")
    assert one.steering.throttles("esme1")
    assert one.steering.bind_refusal("esme1") is None
    assert not session.unbinds


async def test_another_instance_on_the_store_adopts_a_suspension_at_its_sweep(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    first, second = instance(config, store, "a"), instance(config, store, "b")
    elsewhere = bound(second.registry, "esme1", "s1")
    await first.steering.suspend("esme1", SuspendMode.REFUSE_BINDS, "", "ops")
    assert second.steering.bind_refusal("esme1") is None  # not swept yet
    await second.steering.sweep()
    assert second.steering.bind_refusal("esme1") == "account suspended"
    assert elsewhere.unbinds
    await first.steering.resume("esme1", "ops")
    await second.steering.sweep()
    assert second.steering.bind_refusal("esme1") is None


async def test_a_restarted_instance_finds_the_suspension_kept(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    await instance(config, store, "a").steering.suspend(
        "esme2", SuspendMode.THROTTLE_SUBMITS, "", "ops"
    )
    again = instance(config, store, "a2")
    await again.steering.sweep()
    assert again.steering.throttles("esme2")
    assert again.steering.suspensions["esme2"].by == "ops"


async def test_a_mirror_taken_out_on_one_instance_is_out_on_the_other_after_its_sweep(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    first, second = instance(config, store, "a"), instance(config, store, "b")
    assert await first.steering.set_mirror(0, False, "ops")
    assert not first.client.mirrors[0].in_service
    await second.steering.sweep()
    assert not second.client.mirrors[0].in_service
    with pytest.raises(ValueError, match="last mirror"):
        await first.steering.set_mirror(1, False, "ops")
    await first.steering.set_mirror(0, True, "ops")
    await second.steering.sweep()
    assert second.client.mirrors[0].in_service


async def test_a_command_for_another_instance_is_run_by_its_sweep_and_answered(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    first, second = instance(config, store, "a"), instance(config, store, "b")
    held = bound(second.registry, "esme1", "s7")

    async def sweeping() -> None:
        while True:
            await second.steering.sweep()
            await asyncio.sleep(0.05)

    sweeper = asyncio.create_task(sweeping())
    try:
        result = await first.steering.run_on("b", "unbind_session", {"session_id": "s7"})
    finally:
        sweeper.cancel()
    assert result == {"unbound": 1}
    assert held.unbinds


async def test_a_command_for_an_instance_that_never_sweeps_is_not_answered(
    tmp_path: Path, store: MemoryState
) -> None:
    first = instance(admin_config(tmp_path), store, "a")
    assert await first.steering.run_on("gone", "unbind_session", {"session_id": "s1"},
                                       wait_s=0.3) is None  # fmt: skip


async def test_the_instances_listing_holds_every_instance_that_published_its_snapshot(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    first, second = instance(config, store, "a"), instance(config, store, "b")
    await second.steering.sweep()
    names = [snapshot["instance"] for snapshot in await first.steering.instances()]
    assert names == ["a", "b"]
    await second.steering.aclose()  # a stopping instance leaves the listing at once
    names = [snapshot["instance"] for snapshot in await first.steering.instances()]
    assert names == ["a"]


async def test_a_drain_refuses_binds_until_it_ends(tmp_path: Path, store: MemoryState) -> None:
    one = instance(admin_config(tmp_path), store, "a")
    one.steering.start_drain(settle_s=0.0)
    assert one.steering.bind_refusal("esme1") == "instance draining"
    report = await one.steering.wait_drained(1.0)
    assert report["drained"] is True and report["bound"] == 0  # no server: nothing bound
    assert one.steering.undrain()
    assert one.steering.bind_refusal("esme1") is None
    assert one.steering.drain_report()["drained"] is False


async def test_an_unknown_action_is_answered_with_an_error_not_run(
    tmp_path: Path, store: MemoryState
) -> None:
    one = instance(admin_config(tmp_path), store, "a")
    assert "error" in one.steering.execute("reboot", {})
    assert "error" in one.steering.execute("log_level", {"level": "loud"})


async def test_a_number_opted_out_on_one_instance_reaches_the_other_at_its_sweep(
    tmp_path: Path, store: MemoryState
) -> None:
    config = admin_config(tmp_path)
    first, second = instance(config, store, "a"), instance(config, store, "b")
    seen: list[dict[str, frozenset[str]]] = []
    second.steering.on_opt_outs(lambda opt_outs: seen.append(dict(opt_outs)))
    await second.steering.sweep()
    assert await first.steering.opt_out("*", "60123456789", "STOP", "ops") is True
    assert first.steering.opt_outs == {"*": frozenset({"60123456789"})}  # here at once
    assert second.steering.opt_outs == {}  # not swept yet
    await second.steering.sweep()
    assert seen == [{"*": frozenset({"60123456789"})}]
    assert await first.steering.opt_in("*", "60123456789", "ops") is True
    await second.steering.sweep()
    assert second.steering.opt_outs == {} and seen[-1] == {}


async def test_a_sweep_reads_the_opt_out_list_again_only_when_a_change_moved_its_counter(
    tmp_path: Path, store: MemoryState
) -> None:
    one = instance(admin_config(tmp_path), store, "a")
    await one.steering.sweep()
    # A record put without the change counter moving is not read: the list is not scanned.
    await store.put_record(
        OPT_OUT_KIND, "*/60111111111", b"{}", now=time.time(), expires_at=time.time() + 60,
        max_records=10,
    )  # fmt: skip
    await one.steering.sweep()
    assert one.steering.opt_outs == {}
    await one.steering.opt_out("esme1", "60122222222", "", "ops")
    await one.steering.sweep()
    assert one.steering.opt_outs == {
        "*": frozenset({"60111111111"}),
        "esme1": frozenset({"60122222222"}),
    }


async def test_on_a_shared_redis_a_number_opted_out_on_one_bridge_reaches_the_other(
    tmp_path: Path,
) -> None:
    with RedisServer.started() as redis:
        prefix = f"admin-{uuid.uuid4().hex[:10]}"
        stores = [await RedisState.open(redis.url, key_prefix=prefix) for _ in range(2)]
        try:
            config = admin_config(tmp_path)
            first = instance(config, stores[0], "a")
            second = instance(config, stores[1], "b")
            await second.steering.sweep()
            await first.steering.opt_out("esme2", "60123456789", "", "ops")
            await second.steering.sweep()
            assert second.steering.opt_outs == {"esme2": frozenset({"60123456789"})}
            assert await first.steering.opt_in("esme2", "60123456789", "ops")
            await second.steering.sweep()
            assert second.steering.opt_outs == {}
        finally:
            for store in stores:
                await store.aclose()
