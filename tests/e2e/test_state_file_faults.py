"""The SQLite state file under pressure, with `isms-bridge serve` as a real process in front of
the sandbox and smpplib as the ESME.

A reader holding a snapshot (another process inside BEGIN, as a sqlite3 shell left open):
the WAL gauge grows; past `max_wal_mb` submits get ESME_RSYSERR and iSMS gets nothing; when
the reader ends, service resumes by itself. The state folder deleted under the running
bridge: /readyz fails, one ERROR line, every submit ESME_RSYSERR with nothing sent, the
process stays up. `isms-bridge backup` while ESMEs submit: a consistent copy, every submit
answered ESME_ROK meanwhile. The WAL alert rule, evaluated by promtool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import smpplib.client
import yaml
from real_parts import free_port, program
from serve_process import ServeProcess
from smpplib_esme import submit, submit_many

from bridge.pdu import CommandStatus

from .loopback import ACCOUNT, SMPP, Toml, config_text
from .messages_rig import SandboxThread

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "configs" / "alerts.yml"
TO = "60123456789"
MIB = 1024 * 1024
TEXT = b"x" * 200  # with record_text, each record holds it: the WAL fills in seconds

# Another process that reads the file inside BEGIN and holds that snapshot until its stdin
# closes, as a sqlite3 shell left open does.
READER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN")
print("held", db.execute("SELECT count(*) FROM records").fetchone()[0], flush=True)
sys.stdin.read()
db.execute("COMMIT")
db.close()
"""


@pytest.fixture
def bridge_config(tmp_path: Path, sandbox: SandboxThread) -> Callable[..., Path]:
    def write(*, state: Toml, metrics_port: int, name: str = "bridge.toml") -> Path:
        tables: list[tuple[str, Toml]] = [
            ("[smpp]", SMPP),
            ("[isms]", {"endpoints": [sandbox.url], "timeout_s": 5}),
            ("[metrics]", {"port": metrics_port}),
            ("[state]", state),
            ("[[accounts]]", ACCOUNT),
        ]
        path = tmp_path / name
        path.write_text(config_text(tables), encoding="utf-8")
        return path

    return write


def transmitter(port: int) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transmitter(system_id="esme1", password="secret1")
    return client


def ready(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def gauge(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
    raise AssertionError(f"{name} is not on /metrics")


def eventually(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def statuses(client: smpplib.client.Client, count: int) -> list[int]:
    return [
        a.status
        for a in submit_many(client, [{"destination_addr": TO, "short_message": TEXT}] * count)
    ]


# --- a reader holding a snapshot ------------------------------------------------------------


def test_a_reader_holding_a_snapshot_grows_the_wal_until_submits_get_rsyserr_then_it_recovers(
    bridge_config: Callable[..., Path],
    serve: Callable[[Path], ServeProcess],
    sandbox: SandboxThread,
    tmp_path: Path,
) -> None:
    metrics = free_port()
    path = bridge_config(state={"max_wal_mb": 8, "record_text": True}, metrics_port=metrics)
    bridge = serve(path)
    client = transmitter(bridge.port)
    assert statuses(client, 5) == [CommandStatus.ESME_ROK] * 5  # ordinary traffic first
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path / "state.sqlite3")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().startswith("held ")
        held_at = gauge(metrics, "isms_bridge_state_wal_bytes")
        answered: list[int] = []
        while CommandStatus.ESME_RSYSERR not in answered:
            assert len(answered) < 20_000, "the WAL never reached max_wal_mb"
            answered += statuses(client, 50)
        assert answered.count(CommandStatus.ESME_ROK) > 50  # beside the reader, until the bound
        assert held_at < 8 * MIB < gauge(metrics, "isms_bridge_state_wal_bytes")
        sent = len(sandbox.messages())
        assert statuses(client, 10) == [CommandStatus.ESME_RSYSERR] * 10
        assert len(sandbox.messages()) == sent  # nothing sent to iSMS for them
        assert ready(metrics) == 503
        line = bridge.wait_for(r"event=state_wal_full [^\n]*")
        assert "a reader probably holds a snapshot" in line[0]
        assert "checkpoints cannot complete" in line[0]
    finally:
        reader.communicate("")  # the reader ends its transaction and exits
    eventually("a submit answered ESME_ROK again", lambda: statuses(client, 1) == [0])
    assert ready(metrics) == 200
    assert gauge(metrics, "isms_bridge_state_wal_bytes") < 8 * MIB
    bridge.wait_for(r"event=state_wal_reset ")
    assert statuses(client, 5) == [CommandStatus.ESME_ROK] * 5


# --- the state folder deleted under a running bridge ------------------------------------------


def test_the_state_folder_deleted_under_serve_fails_readyz_and_nothing_more_is_acked_or_sent(
    bridge_config: Callable[..., Path],
    serve: Callable[[Path], ServeProcess],
    sandbox: SandboxThread,
    tmp_path: Path,
) -> None:
    metrics = free_port()
    path = bridge_config(state={"path": "data/state.sqlite3"}, metrics_port=metrics)
    bridge = serve(path)
    client = transmitter(bridge.port)
    assert statuses(client, 5) == [CommandStatus.ESME_ROK] * 5
    assert ready(metrics) == 200
    shutil.rmtree(tmp_path / "data")
    bridge.wait_for(r"event=state_file_gone path=\S*data/state\.sqlite3 ", timeout=10)
    eventually("/readyz fails", lambda: ready(metrics) == 503, timeout=5)
    sent = len(sandbox.messages())
    assert statuses(client, 20) == [CommandStatus.ESME_RSYSERR] * 20
    assert submit(client, destination_addr=TO, short_message=b"one more").status == (
        CommandStatus.ESME_RSYSERR
    )
    time.sleep(1.5)  # a sweep or two later: still refused, still one line, still running
    assert len(sandbox.messages()) == sent  # nothing sent to iSMS for any of them
    assert gauge(metrics, "isms_bridge_state_writable") == 0
    assert bridge.running
    log = bridge.log()
    assert log.count("event=state_file_gone") == 1
    [line] = [x for x in log.splitlines() if "event=state_file_gone" in x]
    assert "ERROR" in line and "restart=required" in line


# --- a backup while ESMEs submit --------------------------------------------------------------


def test_a_backup_taken_while_esmes_submit_is_consistent_and_every_submit_is_answered_rok(
    bridge_config: Callable[..., Path],
    serve: Callable[[Path], ServeProcess],
    tmp_path: Path,
) -> None:
    path = bridge_config(state={}, metrics_port=0)
    bridge = serve(path)
    client = transmitter(bridge.port)
    before = submit_many(client, [{"destination_addr": TO, "short_message": b"kept"}] * 20)
    answered: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        sender = transmitter(bridge.port)
        while not stop.is_set():
            answered.extend(statuses(sender, 5))
            time.sleep(0.02)

    beside = threading.Thread(target=traffic)
    beside.start()
    try:
        time.sleep(0.5)
        target = tmp_path / "backup.sqlite3"
        done = run_bridge("backup", "--config", str(path), "--to", str(target))
        time.sleep(0.5)
    finally:
        stop.set()
        beside.join(10)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backup: {target} (") and done.stderr == ""
    assert len(answered) > 20 and set(answered) == {CommandStatus.ESME_ROK}
    # The copy is a state file the bridge's own tools read: `messages` on a config naming it.
    copy_config = bridge_config(state={"path": str(target)}, metrics_port=0, name="copy.toml")
    shown = run_bridge("messages", "--config", str(copy_config), "--json", "--limit", "10000")
    assert shown.returncode == 0, shown.stderr
    copied = {record["message_ids"][0] for record in json.loads(shown.stdout)}
    assert {a.message_id for a in before} <= copied


def run_bridge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip


# --- the alert ------------------------------------------------------------------------------


def test_the_wal_alert_fires_after_two_minutes_over_64_mib_and_not_for_an_ordinary_wal(
    tmp_path: Path,
) -> None:
    promtool = program("promtool", "prometheus")
    series = 'isms_bridge_state_wal_bytes{instance="a"}'
    tests = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "30s",
        "tests": [
            {
                "interval": "30s",
                "input_series": [
                    # 4 MiB until 5m, then from 80 MiB at 5m30s up 8 MiB every 30 s (a snapshot
                    # held); another instance at 16 MiB, the most an ordinary WAL keeps
                    {"series": series, "values": f"{4 * MIB}x10 {80 * MIB}+{8 * MIB}x10"},
                    {"series": series.replace('"a"', '"b"'), "values": f"{16 * MIB}x20"},
                ],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "IsmsBridgeStateWalGrowing", "exp_alerts": []},
                    {"eval_time": "7m", "alertname": "IsmsBridgeStateWalGrowing", "exp_alerts": []},
                    {
                        "eval_time": "8m",
                        "alertname": "IsmsBridgeStateWalGrowing",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "instance": "a"},
                                "exp_annotations": {
                                    "summary": "isms-bridge a: the state WAL is 120MiB and growing",
                                    "description": alert_description(),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    rules_test = tmp_path / "wal_alert_test.yml"
    rules_test.write_text(yaml.safe_dump(tests), encoding="utf-8")
    run = subprocess.run(
        [promtool, "test", "rules", str(rules_test)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def alert_description() -> str:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    [rule] = [
        rule
        for group in document["groups"]
        for rule in group["rules"]
        if rule["alert"] == "IsmsBridgeStateWalGrowing"
    ]
    return str(rule["annotations"]["description"])
