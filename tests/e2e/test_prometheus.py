"""The dashboard and the alert rules, proven against a real Prometheus (Debian's package).

A bridge runs in-process (the real Bridge with the message pipeline and Monitoring) in front
of the in-process iSMS sandbox, behind a dead first mirror so that failover shows. A real
Prometheus scrapes its /metrics every second while smpplib sends a small mixed load. Then
every query of every dashboard panel and every alert expression goes to Prometheus's HTTP
API: each must parse and evaluate, and every panel must return data.

Needs `prometheus` and `promtool` on PATH (Debian: apt-get install prometheus; scripts/test
installs it in CI or as root, see scripts/ci-deps); skipped, saying so, without them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import smpplib.client
import smpplib.consts
import smpplib.gsm
import yaml
from real_parts import missing, program
from serve_process import LoggedProcess
from smpplib_esme import submit_many

from bridge.app import Bridge
from bridge.app.metrics import Metrics, Monitoring
from bridge.config import load_config
from bridge.state import MemoryState
from bridge.upstream import IsmsSandbox

from .loopback import ACCOUNT, config_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "configs" / "alerts.yml"
DASHBOARD = ROOT / "grafana" / "dashboards" / "isms-bridge.json"
PROMETHEUS = shutil.which("prometheus")
NOT_INSTALLED = (
    "Debian's prometheus package is not installed (prometheus not on PATH); "
    "scripts/test installs it in CI or when run as root (scripts/ci-deps)"
)
# What Grafana puts in place of the dashboard's variables before it sends a query.
RATE_WINDOW = "30s"
VARIABLES = {"$__rate_interval": RATE_WINDOW, "$instance": ".*"}
DROPPED_REPLY = "60000000000"  # sandbox: sent and charged, then no reply (an unknown outcome)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the bridge, on its own loop ------------------------------------------------------------


class MonitoredBridge:
    """The sandbox, the Bridge and its Monitoring on one event loop in a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._tmp_path = tmp_path
        self.sandbox = IsmsSandbox(seed=1)
        self.bridge, self.monitoring = self.call(self._start())

    async def _start(self) -> tuple[Bridge, Monitoring]:
        sandbox_port = await self.sandbox.start()
        dead = free_port()  # nothing listens there: connection refused, certainly not sent
        path = self._tmp_path / "bridge.toml"
        isms = {
            "endpoints": [
                f"http://127.0.0.1:{dead}/isms_send_all_id.php",
                f"http://127.0.0.1:{sandbox_port}/isms_send_all_id.php",
            ],
            "timeout_s": 5,
            # No cool-down: every message tries the dead mirror first and fails over.
            "mirror_cooldown_s": 0,
            "balance_poll_interval_s": 10,
        }
        loopback_only = {"host": "127.0.0.1", "port": 0}
        tables = [
            ("[smpp]", loopback_only),
            ("[isms]", isms),
            ("[metrics]", loopback_only),
            # A cap far above the load, so that the policy row's cap panel has its gauges.
            ("[[accounts]]", {**ACCOUNT, "daily_messages": 1_000_000}),
        ]
        path.write_text(config_text(tables), encoding="utf-8")
        config = load_config(path)
        bridge = Bridge(config, MemoryState(), metrics=Metrics(config))
        monitoring = bridge.monitoring
        assert monitoring is not None
        await bridge.start()
        await monitoring.start()
        return bridge, monitoring

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def smpp_port(self) -> int:
        return self.bridge.smpp.server.addresses[0][1]

    @property
    def metrics_address(self) -> str:
        host, port = self.monitoring.addresses[0]
        return f"{host}:{port}"

    def stop(self) -> None:
        async def stop() -> None:
            await self.bridge.shutdown(2.0)
            await self.monitoring.stop()
            await self.sandbox.stop()

        try:
            self.call(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.loop.close()


# --- Prometheus -----------------------------------------------------------------------------


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=5) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    def query(self, expr: str) -> dict[str, Any]:
        answer = self.get("/api/v1/query", query=expr)
        assert isinstance(answer, dict)
        return answer

    def value(self, expr: str) -> float | None:
        answer = self.query(expr)
        assert answer["status"] == "success", (expr, answer)
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"Prometheus: {what}\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoredBridge]:
    running = MonitoredBridge(tmp_path_factory.mktemp("bridge"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def prometheus(
    bridge: MonitoredBridge, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    if PROMETHEUS is None:
        missing(NOT_INSTALLED)
    home = tmp_path_factory.mktemp("prometheus")
    config = home / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {
                    "scrape_interval": "1s",
                    "scrape_timeout": "1s",
                    "evaluation_interval": "1s",
                },
                "rule_files": [str(ALERTS)],
                "scrape_configs": [
                    {
                        "job_name": "isms-bridge",
                        "static_configs": [{"targets": [bridge.metrics_address]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    log = home / "prometheus.log"
    running = LoggedProcess(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        log,
        name="prometheus",
    )
    server = Prometheus(url=f"http://127.0.0.1:{port}", process=running.process, log=log)
    try:
        server.wait_for("ready", lambda: _ready(server.url))
        server.wait_for("the first scrape", lambda: server.value('up{job="isms-bridge"}') == 1)
        yield server
    finally:
        running.stop()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


# --- the load -------------------------------------------------------------------------------


def text(destination: str, body: str, **fields: Any) -> dict[str, Any]:
    return {"destination_addr": destination, "short_message": body.encode("ascii"), **fields}


@pytest.fixture(scope="module")
def loaded(bridge: MonitoredBridge, prometheus: Prometheus) -> int:
    """A small mixed load over three scrapes; how many submits the bridge answered."""
    client = smpplib.client.Client("127.0.0.1", bridge.smpp_port, timeout=5)
    client.connect()
    client.bind_transceiver(system_id="esme1", password="secret1")
    answered = 0
    try:
        for batch in range(3):
            plain = [
                text(f"6012345{batch}{n:03d}", f"order {n} shipped", registered_delivery=1)
                for n in range(10)
            ]
            unicode = {
                "destination_addr": "60123450999",
                "short_message": "café ☕".encode("utf-16-be"),
                "data_coding": smpplib.consts.SMPP_ENCODING_ISO10646,
            }
            answered += len(submit_many(client, [*plain, unicode]))
            time.sleep(1.1)  # let Prometheus see the counters move between batches
        parts, coding, esm_class = smpplib.gsm.make_parts("a long message " * 20)
        long_message = [
            {
                "destination_addr": "60123456789",
                "short_message": part,
                "data_coding": coding,
                "esm_class": esm_class,
            }
            for part in parts
        ]
        binary = {"destination_addr": "60123456789", "short_message": b"\x01\x02", "data_coding": 4}
        answered += len(submit_many(client, [*long_message, binary]))
        [unknown] = submit_many(client, [text(DROPPED_REPLY, "is it sent?")])
        assert unknown.status == 0x08  # ESME_RSYSERR: the outcome is unknown
        answered += 1
    finally:
        client.unbind()
        client.disconnect()
    expected = float(answered)
    prometheus.wait_for(
        "the last submits in a scrape",
        lambda: (
            prometheus.value('sum(isms_bridge_smpp_submits_total{job="isms-bridge"})') == expected
        ),
    )
    # rate() needs two samples of a series: wait until every series was scraped 2 s ago too.
    every = '{__name__=~"isms_bridge_.+"}'
    prometheus.wait_for(
        "two samples of every series",
        lambda: (
            prometheus.value(f"count({every})") == prometheus.value(f"count({every} offset 2s)")
        ),
    )
    prometheus.wait_for(
        "a credit balance",
        lambda: prometheus.value("sum(isms_bridge_isms_credit_balance)") is not None,
    )
    return answered


# --- what is queried ------------------------------------------------------------------------


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target of every panel, rows included."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                found.append((panel["title"], target["expr"]))

    walk(dashboard["panels"])
    return found


def grafana_expanded(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def alert_rules() -> list[tuple[str, str]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [
        (rule["alert"], rule["expr"]) for group in document["groups"] for rule in group["rules"]
    ]


# --- the tests ------------------------------------------------------------------------------


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = program("promtool", "prometheus")
    run = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in run.stdout


def test_promtool_accepts_the_scrape_config_and_finds_its_rule_file() -> None:
    promtool = program("promtool", "prometheus")
    run = subprocess.run(
        [promtool, "check", "config", str(ROOT / "configs" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS: 1 rule files found" in run.stdout


def test_the_dashboard_uses_a_datasource_variable_everywhere() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_prometheus_scrapes_the_bridge(prometheus: Prometheus, loaded: int) -> None:
    targets = prometheus.get("/api/v1/targets")["data"]["activeTargets"]
    assert [t["health"] for t in targets] == ["up"]


def test_every_dashboard_query_parses_and_returns_data(prometheus: Prometheus, loaded: int) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 30
    empty, failed = [], []
    for title, expr in queries:
        answer = prometheus.query(grafana_expanded(expr))
        if answer["status"] != "success":
            failed.append(f"{title}: {expr}: {answer.get('error')}")
        elif not answer["data"]["result"]:
            empty.append(f"{title}: {expr}")
    assert not failed, "\n".join(failed)
    assert not empty, "no data:\n" + "\n".join(empty)


def test_the_traffic_panels_show_the_load_that_was_sent(
    prometheus: Prometheus, loaded: int
) -> None:
    assert (
        prometheus.value('sum(increase(isms_bridge_smpp_submits_total{status="ESME_ROK"}[1m]))') > 0
    )
    assert prometheus.value('sum(isms_bridge_smpp_submits_total{status="ESME_ROK"})') >= 30
    assert prometheus.value("sum(isms_bridge_isms_failovers_total)") >= 1
    assert prometheus.value('count(isms_bridge_isms_mirror_state{state="open"} == 1)') >= 1
    assert prometheus.value("sum(isms_bridge_isms_unknown_outcomes_total)") == 1
    assert prometheus.value("sum(isms_bridge_long_messages_total)") == 1
    assert prometheus.value("sum(isms_bridge_pipeline_refusals_total)") == 1
    assert prometheus.value("sum(isms_bridge_isms_credits_spent_total)") >= 30
    quantile = (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(isms_bridge_smpp_submit_duration_seconds_bucket[{RATE_WINDOW}])))"
    )
    assert 0 < prometheus.value(quantile) < 5


def test_every_alert_expression_parses_and_every_rule_evaluates(
    prometheus: Prometheus, loaded: int
) -> None:
    for name, expr in alert_rules():
        answer = prometheus.query(expr)
        assert answer["status"] == "success", (name, answer.get("error"))

    def evaluated() -> bool:
        groups = prometheus.get("/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return len(rules) == len(alert_rules()) and all(
            not rule["lastEvaluation"].startswith("0001") for rule in rules
        )

    prometheus.wait_for("every rule evaluated", evaluated)
    groups = prometheus.get("/api/v1/rules")["data"]["groups"]
    health = {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}
    assert health == dict.fromkeys((name for name, _ in alert_rules()), "ok")


def test_the_unknown_outcome_alert_fires_and_the_bridge_down_alert_does_not(
    prometheus: Prometheus, loaded: int
) -> None:
    def firing() -> set[str]:
        alerts = prometheus.get("/api/v1/alerts")["data"]["alerts"]
        return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}

    prometheus.wait_for("IsmsUnknownOutcomes firing", lambda: "IsmsUnknownOutcomes" in firing())
    assert "IsmsBridgeDown" not in firing()
