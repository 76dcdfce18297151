"""GET /metrics, /healthz and /readyz on a loopback port, and the readiness rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from bridge.app.metrics.endpoint import (
    MetricsServer,
    ReadinessCheck,
    bridge_readiness,
    mirror_available,
)
from bridge.app.metrics.series import BridgeMetrics
from bridge.server import ServerState
from bridge.upstream import BreakerState, Mirror

CONFIG = Path("/etc/isms-bridge/bridge.toml")


@dataclass
class FakeServer:
    state: ServerState = ServerState.SERVING
    addresses: tuple[tuple[str, int], ...] = (("127.0.0.1", 2775),)


def mirror(state: BreakerState, reopen_at: float = 0.0) -> Mirror:
    m = Mirror("http://127.0.0.1:8480/isms_send_all_id.php")
    m.state = state
    m.reopen_at = reopen_at
    return m


def checks(
    server: FakeServer, mirrors: Sequence[Mirror], config: Path | None = CONFIG
) -> dict[str, ReadinessCheck]:
    probe = bridge_readiness(
        server, config_path=lambda: config, mirrors=lambda: mirrors, clock=lambda: 100.0
    )
    return {check.name: check for check in probe()}


def test_a_serving_bridge_with_a_closed_mirror_is_ready() -> None:
    found = checks(FakeServer(), [mirror(BreakerState.CLOSED)])
    assert all(check.passed for check in found.values())
    assert found["listening"].detail == "127.0.0.1:2775"


def test_a_shared_store_that_lost_its_data_fails_state_intact_others_have_no_check() -> None:
    lost = bridge_readiness(
        FakeServer(),
        config_path=lambda: CONFIG,
        mirrors=lambda: [mirror(BreakerState.CLOSED)],
        store_intact=lambda: False,
    )
    found = {check.name: check for check in lost()}
    assert not found["state_intact"].passed and "state_lost" in found["state_intact"].detail
    assert "state_intact" not in checks(FakeServer(), [mirror(BreakerState.CLOSED)])


def test_a_bridge_that_stopped_listening_is_not_ready() -> None:
    found = checks(
        FakeServer(state=ServerState.STOPPING, addresses=()), [mirror(BreakerState.CLOSED)]
    )
    assert not found["listening"].passed
    assert found["listening"].detail == "stopping"


def test_a_bridge_without_config_is_not_ready() -> None:
    assert not checks(FakeServer(), [mirror(BreakerState.CLOSED)], config=None)[
        "config_loaded"
    ].passed


def test_every_mirror_open_and_cooling_makes_the_bridge_unready() -> None:
    found = checks(
        FakeServer(), [mirror(BreakerState.OPEN, 200.0), mirror(BreakerState.OPEN, 150.0)]
    )
    assert not found["isms_mirror_available"].passed
    assert found["isms_mirror_available"].detail == "0/2 mirrors not open"


def test_an_open_mirror_whose_cooldown_is_over_counts_as_available() -> None:
    # The next message probes it: an idle bridge must not stay unready for good.
    assert mirror_available(mirror(BreakerState.OPEN, reopen_at=99.0), now=100.0)
    assert mirror_available(mirror(BreakerState.HALF_OPEN, reopen_at=500.0), now=100.0)
    assert not mirror_available(mirror(BreakerState.OPEN, reopen_at=101.0), now=100.0)


@dataclass
class Ready:
    checks: list[ReadinessCheck] = field(
        default_factory=lambda: [ReadinessCheck(name="listening", passed=True, detail="x:1")]
    )

    def __call__(self) -> Sequence[ReadinessCheck]:
        return self.checks


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, BridgeMetrics, Ready]]:
    metrics = BridgeMetrics(accounts=["esme1"], process_metrics=False)
    ready = Ready()
    server = MetricsServer(metrics.registry, host="127.0.0.1", port=0, readiness=ready)
    await server.start()
    host, port = server.addresses[0]
    try:
        yield f"http://{host}:{port}", metrics, ready
    finally:
        await server.stop()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status, reply.headers.get("Content-Type", ""), await reply.text()


async def test_metrics_serves_the_registry_in_the_prometheus_text_format(
    served: tuple[str, BridgeMetrics, Ready],
) -> None:
    base, metrics, _ready = served
    metrics.sessions.labels("esme1", "transceiver").inc()
    status, content_type, body = await get(f"{base}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert 'isms_bridge_smpp_sessions{bind_type="transceiver",system_id="esme1"} 1.0' in body


async def test_healthz_answers_ok_while_the_loop_runs(
    served: tuple[str, BridgeMetrics, Ready],
) -> None:
    assert (await get(f"{served[0]}/healthz"))[::2] == (200, "ok\n")


async def test_readyz_is_200_when_every_check_passes_and_503_naming_the_failed_one(
    served: tuple[str, BridgeMetrics, Ready],
) -> None:
    base, _metrics, ready = served
    assert await get(f"{base}/readyz") == (200, "text/plain; charset=utf-8", "listening: ok x:1\n")
    ready.checks.append(ReadinessCheck(name="isms_mirror_available", passed=False, detail="0/3"))
    status, _type, body = await get(f"{base}/readyz")
    assert status == 503
    assert body == "listening: ok x:1\nisms_mirror_available: FAIL 0/3\n"  # one check a line


async def test_a_second_start_is_refused() -> None:
    server = MetricsServer(
        BridgeMetrics(process_metrics=False).registry, host="127.0.0.1", port=0, readiness=Ready()
    )
    await server.start()
    try:
        with pytest.raises(RuntimeError):
            await server.start()
    finally:
        await server.stop()
