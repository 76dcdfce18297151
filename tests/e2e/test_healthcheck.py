"""`isms-bridge healthcheck --config FILE` against a real `isms-bridge serve` process.

The probe reads `[metrics]` from the file the bridge serves and asks /healthz there, so a
metrics port moved off 9102 is found, and the secrets the rest of the file names need not be
in the probe's environment.
"""

from __future__ import annotations

import http.server
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from real_parts import free_port
from serve_process import REPO, ServeProcess

from bridge.app.commands.healthcheck import EXIT_HEALTHY, EXIT_UNHEALTHY, probe

pytestmark = pytest.mark.e2e

SECRETS = {"HEALTHCHECK_TEST_SMPP_PASSWORD": "secret1", "HEALTHCHECK_TEST_ISMS_PASSWORD": "x"}

CONFIG = """\
[smpp]
host = "127.0.0.1"
port = 0
shutdown_timeout_s = 2

[isms]
api = "http"
endpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]

[metrics]
host = "127.0.0.1"
port = {metrics_port}

[[accounts]]
system_id = "esme1"
password_env = "HEALTHCHECK_TEST_SMPP_PASSWORD"
isms_username = "isms"
isms_password_env = "HEALTHCHECK_TEST_ISMS_PASSWORD"
"""


@dataclass
class Served:
    config: Path
    metrics_port: int
    process: subprocess.Popen[bytes]
    log: Path


def without_secrets() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in SECRETS}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    metrics_port = free_port()
    assert metrics_port != 9102
    config = tmp_path / "bridge.toml"
    config.write_text(CONFIG.format(metrics_port=metrics_port), encoding="utf-8")
    bridge = ServeProcess(config, tmp_path / "serve.log", env={**os.environ, **SECRETS})
    try:
        bridge.wait_for(r"event=metrics_listening")
        yield Served(
            config=config, metrics_port=metrics_port, process=bridge.process, log=bridge.log_path
        )
    finally:
        bridge.kill()


def healthcheck(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "healthcheck", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=without_secrets(),
        timeout=30,
        check=False,
    )


def test_a_serving_bridge_on_a_moved_metrics_port_is_healthy_without_its_secrets(
    served: Served,
) -> None:
    run = healthcheck(served.config)
    assert (run.returncode, run.stderr) == (EXIT_HEALTHY, "")
    assert run.stdout == (
        f"healthy: http://127.0.0.1:{served.metrics_port}/healthz answered 200 ok\n"
    )


def test_ready_asks_readyz_and_shows_each_check_on_a_line_of_its_own(served: Served) -> None:
    run = healthcheck(served.config, "--ready")
    assert run.returncode == EXIT_HEALTHY, run.stdout
    assert re.fullmatch(
        rf"healthy: http://127\.0\.0\.1:{served.metrics_port}/readyz answered 200\n"
        r"  listening: ok 127\.0\.0\.1:\d+\n"
        r"  config_loaded: ok .+\n"
        r"  isms_mirror_available: ok 1/1 mirrors not open\n"
        r"(  state_\w+: ok .+\n)*",
        run.stdout,
    )


def test_once_the_bridge_has_stopped_it_is_unhealthy_connection_refused(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(20) == 0
    run = healthcheck(served.config)
    assert run.returncode == EXIT_UNHEALTHY
    assert run.stdout == (
        f"unhealthy: http://127.0.0.1:{served.metrics_port}/healthz: connection refused "
        "(is the bridge running, and is this its config?)\n"
    )


def metrics_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(f'[metrics]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    return path


def test_an_endpoint_that_never_answers_is_unhealthy_after_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the connection; nobody ever answers
        port = silent.getsockname()[1]
        out = io.StringIO()
        started = time.monotonic()
        status = probe(metrics_config(tmp_path, port), ready=False, timeout_s=0.5, out=out)
        took = time.monotonic() - started
    assert status == EXIT_UNHEALTHY
    assert out.getvalue() == f"unhealthy: http://127.0.0.1:{port}/healthz: no answer within 0.5 s\n"
    assert took < 5


class Refusing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"listening: FAIL stopping\n"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_answer_other_than_200_is_unhealthy_and_the_line_shows_it(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        out = io.StringIO()
        status = probe(metrics_config(tmp_path, port), ready=True, timeout_s=5, out=out)
    finally:
        server.shutdown()
        server.server_close()
    assert status == EXIT_UNHEALTHY
    assert out.getvalue() == (
        f"unhealthy: http://127.0.0.1:{port}/readyz answered 503 listening: FAIL stopping\n"
    )
