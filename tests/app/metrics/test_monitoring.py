"""Metrics and Monitoring: the series wired to a Bridge's server, pipeline, iSMS client and
store, /readyz, and reloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.app import Bridge
from bridge.app.metrics import Metrics, Monitoring, pipeline_snapshot
from bridge.config import BridgeConfig, load_config
from bridge.state import MemoryState
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult, SmsType

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


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.series.registry.get_sample_value(name, labels)


def monitored_bridge(config: BridgeConfig) -> tuple[Bridge, Metrics, Monitoring]:
    metrics = Metrics(config)
    bridge = Bridge(config, MemoryState(), metrics=metrics)
    assert bridge.monitoring is not None
    return bridge, metrics, bridge.monitoring


def test_a_monitored_bridge_shows_its_mirrors_connections_and_pipeline(tmp_path: Path) -> None:
    _bridge, metrics, _monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    assert sample(metrics, "isms_bridge_smpp_connections") == 0.0
    assert (
        sample(metrics, "isms_bridge_isms_mirror_state", mirror="127.0.0.1:9", state="closed")
        == 1.0
    )
    assert sample(metrics, "isms_bridge_reassembly_pending") == 0.0
    assert sample(metrics, "isms_bridge_receipts_total", result="sent") == 0.0
    assert (
        sample(metrics, "isms_bridge_smpp_sessions", system_id="esme1", bind_type="receiver") == 0.0
    )
    assert sample(metrics, "isms_bridge_state_writable") == 1.0


def test_the_pipeline_snapshot_reads_the_pipelines_own_totals(tmp_path: Path) -> None:
    bridge, _metrics, _monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    pipeline = bridge.pipeline
    pipeline.counters.reassembly_expired = 2
    pipeline.counters.receipts_dropped = 3
    pipeline.counters.refusals["binary"] += 4
    snapshot = pipeline_snapshot(pipeline)
    assert snapshot.reassembly_expired == 2
    assert snapshot.receipts["dropped"] == 3
    assert snapshot.refusals == {"binary": 4}


def test_a_reload_gives_new_accounts_their_series(tmp_path: Path) -> None:
    _bridge, metrics, _monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    metrics.reload(config_with(tmp_path, account("esme1"), account("esme9")))
    assert sample(metrics, "isms_bridge_smpp_throttled_total", system_id="esme9") == 0.0


def test_a_sighup_reload_of_the_bridge_relabels_its_metrics(tmp_path: Path) -> None:
    bridge, metrics, _monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    config_with(tmp_path, account("esme1"), account("esme9"))  # the same file, rewritten
    bridge.reload()
    assert sample(metrics, "isms_bridge_smpp_throttled_total", system_id="esme9") == 0.0


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Bridge, Monitoring, str]]:
    bridge, _metrics, monitoring = monitored_bridge(config_with(tmp_path, account("esme1")))
    await bridge.start()
    await monitoring.start()
    host, port = monitoring.addresses[0]
    try:
        yield bridge, monitoring, f"http://{host}:{port}"
    finally:
        await bridge.shutdown(0.5)
        await bridge.aclose()


async def test_starting_twice_is_refused(running: tuple[Bridge, Monitoring, str]) -> None:
    _bridge, monitoring, _base = running
    with pytest.raises(RuntimeError):
        await monitoring.start()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status, await reply.text()


async def test_readyz_follows_the_listeners_of_the_running_bridge(
    running: tuple[Bridge, Monitoring, str],
) -> None:
    bridge, _monitoring, base = running
    status, body = await get(f"{base}/readyz")
    assert status == 200, body
    assert "\nisms_mirror_available: ok 1/1 mirrors not open\n" in body
    await bridge.shutdown(0.5)
    status, body = await get(f"{base}/readyz")
    assert status == 503
    assert body.startswith("listening: FAIL ")


def test_credits_spent_are_counted_in_the_configured_characters_per_credit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(
        '[smpp]\nhost = "127.0.0.1"\nport = 0\n' + ISMS + METRICS
        + "[policy]\ncredit_chars_ascii = 160\ncredit_chars_unicode = 70\n\n" + account("esme1")
    )  # fmt: skip
    metrics = Metrics(load_config(path))
    accepted = SendResult(
        outcome=Outcome.ACCEPTED, code=2000, trx_id="1", mirror="m", elapsed_s=0.0, attempts=1
    )
    for text, sms_type in (("x" * 160, SmsType.ASCII), ("é" * 70, SmsType.UNICODE)):
        metrics.isms.message_finished(
            IsmsMessage(
                credentials=IsmsCredentials(username="isms", password="isms123"),
                destinations=("60123456789",),
                text=text,
                sms_type=sms_type,
            ),
            accepted,
        )
    # One credit each: 160 and 70 characters per credit, not the API page's 153 and 63.
    assert sample(metrics, "isms_bridge_isms_credits_spent_total", isms_account="isms") == 2.0
