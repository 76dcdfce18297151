"""Two bridges sharing one state store count max_binds and throughput together.

Two real servers (each on its own loop, real sockets) share one in-memory ClusterStore
behind a lock, standing for two instances on one Redis; tests/cluster does the same with
real `serve` processes and a real redis-server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from bridge.pdu import (
    BindTransceiver,
    BindTransmitter,
    CommandStatus,
    EnquireLink,
    EnquireLinkResp,
    SubmitSm,
    Unbind,
)
from bridge.state import MemoryState, StateUnavailable, TokensTaken

pytestmark = pytest.mark.e2e

BIND = BindTransceiver(system_id="esme1", password="secret1", sequence_number=1)


class SharedStore:
    """One MemoryState for two event loops (threads), and a switch that takes it away."""

    def __init__(self) -> None:
        self._inner = MemoryState()
        self._lock = threading.Lock()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StateUnavailable("connection refused")

    async def take_tokens(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        self._check()
        with self._lock:
            return await self._inner.take_tokens(
                bucket, rate=rate, burst=burst, count=count, now=now
            )

    async def acquire_lease(
        self, group: str, holder: str, *, limit: int, now: float, ttl_s: float
    ) -> bool:
        self._check()
        with self._lock:
            return await self._inner.acquire_lease(group, holder, limit=limit, now=now, ttl_s=ttl_s)

    async def renew_leases(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        self._check()
        with self._lock:
            return await self._inner.renew_leases(leases, now=now, ttl_s=ttl_s)

    async def release_lease(self, group: str, holder: str) -> bool:
        self._check()
        with self._lock:
            return await self._inner.release_lease(group, holder)

    async def writable(self) -> bool:
        return not self.down

    async def lease_count(self, group: str, *, now: float) -> int:
        with self._lock:
            return await self._inner.lease_count(group, now=now)


def two_bridges(write_config, run_server, store: SharedStore, **account: object):
    first = run_server(write_config(accounts=[account], name="a.toml"), cluster=store)
    second = run_server(write_config(accounts=[account], name="b.toml"), cluster=store)
    return first, second


def submit(text: bytes = b"hello") -> SubmitSm:
    return SubmitSm(source_addr="ACME", destination_addr="60123456789", short_message=text)


def test_max_binds_counts_the_binds_on_both_bridges(write_config, run_server, raw_esme) -> None:
    store = SharedStore()
    a, b = two_bridges(write_config, run_server, store, max_binds=1)
    first = raw_esme(a)
    first.send(BIND)
    assert first.read().command_status == 0
    second = raw_esme(b)
    second.send(BIND)
    refused = second.read()
    assert refused.command_status == CommandStatus.ESME_RBINDFAIL
    first.send(Unbind())
    first.read()
    deadline = time.monotonic() + 5
    while True:  # the lease is released as the first session closes
        third = raw_esme(b)
        third.send(BIND)
        if third.read().command_status == 0:
            break
        assert time.monotonic() < deadline, "the released bind still counts"
        time.sleep(0.1)


def test_with_the_store_away_a_new_bind_gets_rsyserr_and_a_bound_one_stays(
    write_config, run_server, raw_esme
) -> None:
    store = SharedStore()
    a, _ = two_bridges(write_config, run_server, store)
    bound = raw_esme(a)
    bound.send(BindTransmitter(system_id="esme1", password="secret1", sequence_number=1))
    assert bound.read().command_status == 0
    store.down = True
    newcomer = raw_esme(a)
    newcomer.send(BIND)
    assert newcomer.read().command_status == CommandStatus.ESME_RSYSERR
    assert newcomer.closed_by_peer(timeout=5)
    [seq] = bound.send(EnquireLink())
    assert bound.read() == EnquireLinkResp(sequence_number=seq)


@pytest.mark.parametrize("limit", [{"throughput_per_s": 100}, {}], ids=["metered", "unmetered"])
def test_with_the_store_away_a_submit_is_a_temporary_error_never_handed_on(
    write_config, run_server, raw_esme, limit: dict[str, object]
) -> None:
    store = SharedStore()
    a, _ = two_bridges(write_config, run_server, store, **limit)
    esme = raw_esme(a)
    esme.send(BindTransmitter(system_id="esme1", password="secret1", sequence_number=1))
    assert esme.read().command_status == 0
    store.down = True
    esme.send(submit())
    assert esme.read().command_status == CommandStatus.ESME_RSYSERR
    assert a.handler.seen == []  # never handed on (it would have been sent to iSMS)
    store.down = False
    deadline = time.monotonic() + 10
    while True:  # asked again after a backoff of 0.25 s
        esme.send(submit())
        if esme.read().command_status == 0:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_throughput_is_one_bucket_for_both_bridges(write_config, run_server, raw_esme) -> None:
    store = SharedStore()
    a, b = two_bridges(write_config, run_server, store, throughput_per_s=0.1, throughput_burst=2)
    on_a, on_b = raw_esme(a), raw_esme(b)
    for esme in (on_a, on_b):
        esme.send(BindTransmitter(system_id="esme1", password="secret1", sequence_number=1))
        assert esme.read().command_status == 0
    on_a.send(submit())
    assert on_a.read().command_status == 0
    on_b.send(submit())
    assert on_b.read().command_status == 0
    on_a.send(submit())
    assert on_a.read().command_status == CommandStatus.ESME_RTHROTTLED
    on_b.send(submit())
    assert on_b.read().command_status == CommandStatus.ESME_RTHROTTLED
