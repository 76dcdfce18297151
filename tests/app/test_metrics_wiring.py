"""Monitoring: the registry wired to a Bridge, its pipeline, its iSMS client and /readyz."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.app.forwarding import forward_to_isms, isms_accounts
from bridge.app.metrics_wiring import Monitoring, pipeline_snapshot
from bridge.app.wiring import Bridge
from bridge.config import BridgeConfig, load_config
from bridge.pdu import Pdu, SubmitSmResp
from bridge.server import SessionContext, SessionRegistry, SubmitHandler, SubmitRequest

ISMS = '[isms]\napi = "http"\nendpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]\n'
METRICS = '[metrics]\nhost = "127.0.0.1"\nport = 0\n'


def account(system_id: str, isms_username: str = "isms") -> str:
    return (
        f'[[accounts]]\nsystem_id = "{system_id}"\npassword = "pw"\n'
        f'isms_username = "{isms_username}"\nisms_password = "isms123"\n'
    )


def config_with(tmp_path: Path, *accounts: str) -> BridgeConfig:
    path = tmp_path / "bridge.toml"
    path.write_text('[smpp]\nhost = "127.0.0.1"\nport = 0\n' + ISMS + METRICS + "".join(accounts))
    return load_config(path)


def sample(monitoring: Monitoring, name: str, **labels: str) -> float | None:
    return monitoring.metrics.registry.get_sample_value(name, labels)


def monitored_bridge(config: BridgeConfig) -> tuple[Bridge, Monitoring]:
    monitoring = Monitoring(config)
    make = functools.partial(forward_to_isms, observer=monitoring.isms)
    bridge = Bridge(config, make, observer=monitoring.smpp)
    monitoring.attach(bridge)
    return bridge, monitoring


class Scripted:
    def parts(self, request: SubmitRequest) -> int:
        return 1

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return False

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        pass

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        return SubmitSmResp(message_id="x")


def test_an_attached_bridge_shows_its_mirrors_connections_and_pipeline(tmp_path: Path) -> None:
    _bridge, monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    assert sample(monitoring, "isms_bridge_smpp_connections") == 0.0
    assert (
        sample(monitoring, "isms_bridge_isms_mirror_state", mirror="127.0.0.1:9", state="closed")
        == 1.0
    )
    assert sample(monitoring, "isms_bridge_reassembly_pending") == 0.0
    assert sample(monitoring, "isms_bridge_receipts_total", result="sent") == 0.0
    assert (
        sample(monitoring, "isms_bridge_smpp_sessions", system_id="esme1", bind_type="receiver")
        == 0.0
    )


def test_a_handler_without_an_isms_client_still_gets_smpp_metrics(tmp_path: Path) -> None:
    config = config_with(tmp_path, account("esme1"))
    monitoring = Monitoring(config)

    def make(config: BridgeConfig, registry: SessionRegistry) -> SubmitHandler:
        return Scripted()

    monitoring.attach(Bridge(config, make, observer=monitoring.smpp))
    assert sample(monitoring, "isms_bridge_smpp_connections") == 0.0
    assert sample(monitoring, "isms_bridge_reassembly_pending") is None


def test_the_pipeline_snapshot_reads_the_pipelines_own_totals(tmp_path: Path) -> None:
    bridge, _monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    pipeline = bridge.handler.pipeline  # type: ignore[attr-defined]
    pipeline.counters.reassembly_expired = 2
    pipeline.counters.receipts_dropped = 3
    pipeline.counters.refusals["binary"] += 4
    snapshot = pipeline_snapshot(pipeline)
    assert snapshot.reassembly_expired == 2
    assert snapshot.receipts["dropped"] == 3
    assert snapshot.refusals == {"binary": 4}


def test_a_shared_isms_account_is_polled_once(tmp_path: Path) -> None:
    config = config_with(
        tmp_path, account("esme1", "shared"), account("esme2", "shared"), account("esme3", "own")
    )
    assert [c.username for c in isms_accounts(config)] == ["shared", "own"]


def test_a_reload_gives_new_accounts_their_series(tmp_path: Path) -> None:
    _bridge, monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    monitoring.reload(config_with(tmp_path, account("esme1"), account("esme9")))
    assert sample(monitoring, "isms_bridge_smpp_throttled_total", system_id="esme9") == 0.0


def test_attaching_a_second_bridge_is_refused(tmp_path: Path) -> None:
    bridge, monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    with pytest.raises(RuntimeError):
        monitoring.attach(bridge)


async def test_starting_before_attaching_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        await Monitoring(config_with(tmp_path, account("esme1"))).start()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Bridge, str]]:
    bridge, monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    await bridge.start()
    await monitoring.start()
    host, port = monitoring.addresses[0]
    try:
        yield bridge, f"http://{host}:{port}"
    finally:
        await bridge.shutdown(0.5)
        await monitoring.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status, await reply.text()


async def test_readyz_follows_the_listeners_of_the_running_bridge(
    running: tuple[Bridge, str],
) -> None:
    bridge, base = running
    status, body = await get(f"{base}/readyz")
    assert status == 200, body
    assert "isms_mirror_available ok 1/1 mirrors not open" in body
    await bridge.shutdown(0.5)
    status, body = await get(f"{base}/readyz")
    assert status == 503
    assert "listening fail" in body
