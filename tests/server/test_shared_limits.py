"""SharedLimits: max_binds as leases and throughput as one bucket, for every instance of a store.

Two SharedLimits on one MemoryState stand for two instances on one Redis (the Redis backend
passes the same ClusterStore tests in tests/state); a clock passed in moves time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence

import pytest

from bridge.pdu import CommandStatus
from bridge.server.shared_limits import (
    Admission,
    BindClaim,
    SharedLimits,
    Throughput,
    claim_verdict,
)
from bridge.state import MemoryState, StateUnavailable, TokensTaken


class Accounts:
    def __init__(self, max_binds: int = 2, throughput: Throughput | None = None) -> None:
        self.binds = {"esme1": max_binds}
        self.rates = {"esme1": throughput} if throughput is not None else {}

    def max_binds(self, system_id: str) -> int | None:
        return self.binds.get(system_id)

    def throughput(self, system_id: str) -> Throughput | None:
        return self.rates.get(system_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Observer:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.held: list[int] = []

    def cluster_unavailable(self, operation: str) -> None:
        self.failures.append(operation)

    def leases_held(self, count: int) -> None:
        self.held.append(count)


class Unreachable(MemoryState):
    """A store whose cluster operations fail while `down` (Redis gone)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StateUnavailable("connection refused")

    async def take_tokens(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        self._check()
        return await super().take_tokens(bucket, rate=rate, burst=burst, count=count, now=now)

    async def acquire_lease(
        self, group: str, holder: str, *, limit: int, now: float, ttl_s: float
    ) -> bool:
        self._check()
        return await super().acquire_lease(group, holder, limit=limit, now=now, ttl_s=ttl_s)

    async def renew_leases(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        self._check()
        return await super().renew_leases(leases, now=now, ttl_s=ttl_s)

    async def release_lease(self, group: str, holder: str) -> bool:
        self._check()
        return await super().release_lease(group, holder)

    async def writable(self) -> bool:
        return not self.down


@pytest.fixture
def clock() -> Clock:
    return Clock()


def two_instances(
    store: MemoryState, clock: Clock, accounts: Accounts, lease_s: float = 30.0
) -> tuple[SharedLimits, SharedLimits]:
    return (
        SharedLimits(store, accounts, lease_s=lease_s, instance="a", clock=clock),
        SharedLimits(store, accounts, lease_s=lease_s, instance="b", clock=clock),
    )


# --- max_binds ------------------------------------------------------------------------------


async def test_max_binds_counts_the_binds_of_every_instance(clock: Clock) -> None:
    a, b = two_instances(MemoryState(), clock, Accounts(max_binds=2))
    assert await a.claim_bind("esme1", "s1") is BindClaim.GRANTED
    assert await b.claim_bind("esme1", "s1") is BindClaim.GRANTED  # same id, other instance
    assert await a.claim_bind("esme1", "s2") is BindClaim.FULL
    assert await b.claim_bind("esme1", "s2") is BindClaim.FULL


async def test_a_released_bind_frees_its_slot_at_once(clock: Clock) -> None:
    a, b = two_instances(MemoryState(), clock, Accounts(max_binds=1))
    assert await a.claim_bind("esme1", "s1") is BindClaim.GRANTED
    await a.release_bind("esme1", "s1")
    assert await b.claim_bind("esme1", "s9") is BindClaim.GRANTED


async def test_the_binds_of_a_killed_instance_stop_counting_after_lease_s(clock: Clock) -> None:
    a, b = two_instances(MemoryState(), clock, Accounts(max_binds=1), lease_s=30.0)
    assert await a.claim_bind("esme1", "s1") is BindClaim.GRANTED
    # `a` dies here: nothing renews its lease any more.
    clock.now += 29.9
    assert await b.claim_bind("esme1", "s1") is BindClaim.FULL
    clock.now += 0.2
    assert await b.claim_bind("esme1", "s1") is BindClaim.GRANTED


async def test_a_heartbeat_keeps_a_live_instances_binds_counted(clock: Clock) -> None:
    a, b = two_instances(MemoryState(), clock, Accounts(max_binds=1), lease_s=30.0)
    await a.claim_bind("esme1", "s1")
    for _ in range(5):
        clock.now += 20.0
        assert await a.renew() == 0
    assert await b.claim_bind("esme1", "s1") is BindClaim.FULL


async def test_a_lease_that_ended_while_the_store_was_away_is_taken_back(clock: Clock) -> None:
    store = Unreachable()
    a, _ = two_instances(store, clock, Accounts(max_binds=1))
    lost: list[tuple[str, str]] = []
    a.on_lost(lambda system_id, session_id: lost.append((system_id, session_id)))
    await a.claim_bind("esme1", "s1")
    store.down = True
    clock.now += 40.0
    assert await a.renew() == 0
    store.down = False
    assert await a.renew() == 0
    assert lost == []
    assert a.held == 1
    assert await store.lease_count("binds:esme1", now=clock.now) == 1


async def test_a_lease_taken_by_another_instance_meanwhile_unbinds_the_session(
    clock: Clock,
) -> None:
    a, b = two_instances(MemoryState(), clock, Accounts(max_binds=1))
    lost: list[tuple[str, str]] = []
    a.on_lost(lambda system_id, session_id: lost.append((system_id, session_id)))
    await a.claim_bind("esme1", "s1")
    clock.now += 31.0  # a missed its heartbeats (a long pause), its lease ended
    assert await b.claim_bind("esme1", "s7") is BindClaim.GRANTED
    assert await a.renew() == 1
    assert lost == [("esme1", "s1")]
    assert a.held == 0


async def test_an_account_that_is_not_configured_gets_no_lease(clock: Clock) -> None:
    a, _ = two_instances(MemoryState(), clock, Accounts())
    assert await a.claim_bind("ghost", "s1") is BindClaim.FULL


async def test_an_unreachable_store_refuses_new_binds_and_keeps_held_ones(clock: Clock) -> None:
    store = Unreachable()
    observer = Observer()
    a = SharedLimits(store, Accounts(), instance="a", clock=clock, observer=observer)
    await a.claim_bind("esme1", "s1")
    store.down = True
    assert await a.claim_bind("esme1", "s2") is BindClaim.UNAVAILABLE
    assert await a.renew() == 0
    assert a.held == 1
    assert observer.failures == ["bind", "heartbeat"]


def test_the_bind_answers_name_their_status() -> None:
    assert claim_verdict(BindClaim.GRANTED).command_status == CommandStatus.ESME_ROK
    full = claim_verdict(BindClaim.FULL)
    assert full.command_status == CommandStatus.ESME_RBINDFAIL
    assert "max_binds" in full.reason
    assert claim_verdict(BindClaim.UNAVAILABLE).command_status == CommandStatus.ESME_RSYSERR


# --- throughput -----------------------------------------------------------------------------


async def test_throughput_is_one_bucket_for_every_instance(clock: Clock) -> None:
    accounts = Accounts(throughput=Throughput(rate=1.0, burst=2.0))
    a, b = two_instances(MemoryState(), clock, accounts)
    assert await a.admit("esme1", 1) is Admission.ADMITTED
    assert await b.admit("esme1", 1) is Admission.ADMITTED
    assert await a.admit("esme1", 1) is Admission.THROTTLED
    assert await b.admit("esme1", 1) is Admission.THROTTLED
    clock.now += 1.0
    assert await b.admit("esme1", 1) is Admission.ADMITTED


async def test_every_instance_sees_the_shared_buckets_tokens_left_and_looking_takes_none(
    clock: Clock,
) -> None:
    accounts = Accounts(throughput=Throughput(rate=1.0, burst=3.0))
    a, b = two_instances(MemoryState(), clock, accounts)
    assert await a.tokens_left("esme1") == 3.0
    assert await a.admit("esme1", 2) is Admission.ADMITTED
    assert await b.tokens_left("esme1") == 1.0
    assert await b.tokens_left("esme1") == 1.0
    clock.now += 0.5
    assert await a.tokens_left("esme1") == 1.5
    assert await a.tokens_left("esme2") is None  # no limit


async def test_a_message_of_more_parts_than_the_burst_takes_a_full_bucket(clock: Clock) -> None:
    a, _ = two_instances(MemoryState(), clock, Accounts(throughput=Throughput(rate=1, burst=3)))
    assert await a.admit("esme1", 5) is Admission.ADMITTED
    assert await a.admit("esme1", 1) is Admission.THROTTLED


async def test_an_unmetered_submit_is_admitted_while_the_store_can_be_written(
    clock: Clock,
) -> None:
    a = SharedLimits(MemoryState(), Accounts(), instance="a", clock=clock)
    for _ in range(100):
        assert await a.admit("esme1", 3) is Admission.ADMITTED


async def test_an_unmetered_submit_is_a_temporary_error_while_the_store_cannot_be_written(
    clock: Clock,
) -> None:
    store = Unreachable()
    store.down = True
    observer = Observer()
    a = SharedLimits(store, Accounts(), instance="a", clock=clock, monotonic=clock,
                     observer=observer)  # fmt: skip
    assert await a.admit("esme1", 1) is Admission.UNAVAILABLE
    assert observer.failures == ["probe"]
    assert await a.admit("esme1", 0) is Admission.ADMITTED  # query_sm costs no parts


async def test_an_unreachable_store_makes_submits_a_temporary_error(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    store = Unreachable()
    observer = Observer()
    accounts = Accounts(throughput=Throughput(rate=10, burst=10))
    a = SharedLimits(store, accounts, instance="a", clock=clock, monotonic=clock, observer=observer)
    store.down = True
    with caplog.at_level(logging.WARNING, logger="bridge.server.shared_limits"):
        for _ in range(3):
            assert await a.admit("esme1", 1) is Admission.UNAVAILABLE
        store.down = False
        clock.now += 0.3  # past the first backoff
        assert await a.admit("esme1", 1) is Admission.ADMITTED
    # The first failure asked the store; the next two, within its backoff, did not.
    assert observer.failures == ["throughput", "backoff", "backoff"]
    events = [r.message.split()[0] for r in caplog.records]
    # One line when it goes, one when it is back; not one per submit.
    assert events == ["event=cluster_state_unavailable", "event=cluster_state_available"]


async def test_while_the_store_stays_away_it_is_asked_again_less_and_less_often(
    clock: Clock,
) -> None:
    store = Unreachable()
    store.down = True
    observer = Observer()
    accounts = Accounts(throughput=Throughput(rate=10, burst=10))
    a = SharedLimits(store, accounts, instance="a", clock=clock, monotonic=clock, observer=observer)
    asked_at = []
    for _ in range(400):  # 40 s of one submit every 100 ms
        before = len([f for f in observer.failures if f != "backoff"])
        await a.admit("esme1", 1)
        if len([f for f in observer.failures if f != "backoff"]) > before:
            asked_at.append(clock.now)
        clock.now += 0.1
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked_at)]
    backoffs = [0.25, 0.5, 1.0, 2.0, 4.0] + [5.0] * (len(gaps) - 5)  # doubling, capped
    for gap, backoff in zip(gaps, backoffs, strict=True):
        assert backoff <= gap <= backoff + 0.11  # on a 100 ms tick


async def test_a_bind_within_the_backoff_is_refused_without_asking(clock: Clock) -> None:
    store = Unreachable()
    observer = Observer()
    a = SharedLimits(store, Accounts(), instance="a", clock=clock, monotonic=clock,
                     observer=observer)  # fmt: skip
    store.down = True
    assert await a.claim_bind("esme1", "s1") is BindClaim.UNAVAILABLE
    store.down = False
    assert await a.claim_bind("esme1", "s2") is BindClaim.UNAVAILABLE
    assert observer.failures == ["bind", "backoff"]
    clock.now += 0.3
    assert await a.claim_bind("esme1", "s3") is BindClaim.GRANTED


# --- the heartbeat task ---------------------------------------------------------------------


async def test_the_heartbeat_renews_every_third_of_lease_s_until_stopped() -> None:
    store = MemoryState()
    a = SharedLimits(store, Accounts(max_binds=1), lease_s=0.3, instance="a")
    a.start()
    try:
        await a.claim_bind("esme1", "s1")
        await asyncio.sleep(0.7)  # more than two leases long
        assert await store.lease_count("binds:esme1", now=time.time()) == 1
    finally:
        a.stop()
    await asyncio.sleep(0.45)
    assert await store.lease_count("binds:esme1", now=time.time()) == 0


async def test_a_claim_whose_connection_closed_meanwhile_is_released_not_answered(
    clock: Clock,
) -> None:
    store = MemoryState()
    a = SharedLimits(store, Accounts(max_binds=1), instance="a", clock=clock)
    answered: list[object] = []
    a.claim_soon("esme1", "s1", answered.append)
    a.release_soon("s1")  # the connection closed before the store answered
    for _ in range(5):
        await asyncio.sleep(0)
    assert answered == []
    assert a.held == 0
    assert await store.lease_count("binds:esme1", now=clock.now) == 0


async def test_a_claim_answers_the_bind_with_its_verdict(clock: Clock) -> None:
    a = SharedLimits(MemoryState(), Accounts(max_binds=1), instance="a", clock=clock)
    answered: list[int] = []
    a.claim_soon("esme1", "s1", lambda verdict: answered.append(verdict.command_status))
    a.claim_soon("esme1", "s2", lambda verdict: answered.append(verdict.command_status))
    for _ in range(5):
        await asyncio.sleep(0)
    assert answered == [CommandStatus.ESME_ROK, CommandStatus.ESME_RBINDFAIL]


async def test_unmetered_submits_arriving_together_share_one_probe_of_the_store(
    clock: Clock,
) -> None:
    class Counted(MemoryState):
        probes = 0

        async def writable(self) -> bool:
            Counted.probes += 1
            await asyncio.sleep(0)  # on its way, as a round trip is
            return True

    a = SharedLimits(Counted(), Accounts(), instance="a", clock=clock)
    results = await asyncio.gather(*(a.admit("esme1", 1) for _ in range(50)))
    assert set(results) == {Admission.ADMITTED}
    assert Counted.probes == 1
    assert await a.admit("esme1", 1) is Admission.ADMITTED  # a later turn probes again
    assert Counted.probes == 2
