"""`isms-bridge healthcheck`: what it asks, and the one line it prints when it cannot ask.

Asking a running bridge is in tests/e2e/test_healthcheck.py; these need no socket.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bridge.app.commands.healthcheck import (
    EXIT_UNHEALTHY,
    ProbeTarget,
    answer_text,
    probe,
    probe_host,
)
from bridge.cli import main
from bridge.config import MetricsConfig


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def probed(path: Path, *, ready: bool = False, timeout_s: float = 1.0) -> tuple[int, str]:
    out = io.StringIO()
    status = probe(path, ready=ready, timeout_s=timeout_s, out=out)
    return status, out.getvalue()


def test_a_metrics_port_of_0_cannot_be_probed_and_the_line_says_to_set_a_port(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "[metrics]\nport = 0\n")
    assert probed(path) == (
        EXIT_UNHEALTHY,
        f"unhealthy: {path}: metrics.port is 0 (the bridge picks a free port at start), "
        "so no probe can know where to ask; set a fixed port\n",
    )


def test_an_invalid_metrics_section_is_unhealthy_and_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[metrics]\nport = "nine"\n')
    status, line = probed(path)
    assert status == EXIT_UNHEALTHY
    assert line.startswith(f"unhealthy: cannot read [metrics]: {path}: metrics.port: expected")
    assert line.count("\n") == 1


def test_a_missing_config_is_unhealthy_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    status, line = probed(path)
    assert status == EXIT_UNHEALTHY
    assert line == f"unhealthy: cannot read [metrics]: {path}: cannot read the file: " + (
        "No such file or directory\n"
    )


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, 301.0])
def test_a_timeout_outside_0_to_300_s_is_refused(tmp_path: Path, timeout_s: float) -> None:
    status, line = probed(write(tmp_path, "[metrics]\nport = 9102\n"), timeout_s=timeout_s)
    assert (status, line) == (
        EXIT_UNHEALTHY,
        "unhealthy: --timeout must be above 0 and at most 300 s\n",
    )


@pytest.mark.parametrize(
    ("host", "asked"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("::", "::1"),
        ("127.0.0.5", "127.0.0.5"),
        ("::1", "::1"),
        ("localhost", "localhost"),
    ],
)
def test_a_wildcard_host_is_asked_on_loopback_of_its_family_and_others_as_given(
    host: str, asked: str
) -> None:
    assert probe_host(MetricsConfig(host=host, port=9102)) == asked


def test_an_ipv6_address_is_bracketed_in_the_url_the_line_shows() -> None:
    assert ProbeTarget(host="::1", port=9102, path="/healthz").url == "http://[::1]:9102/healthz"
    assert ProbeTarget(host="127.0.0.1", port=9, path="/readyz").url == "http://127.0.0.1:9/readyz"


def test_the_command_line_runs_it_and_exits_with_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[metrics]\nport = 0\n")
    assert main(["healthcheck", "--config", str(path)]) == EXIT_UNHEALTHY
    captured = capsys.readouterr()
    assert captured.out.startswith("unhealthy: ") and captured.out.count("\n") == 1
    assert captured.err == ""


def test_a_one_line_answer_follows_the_status_on_its_line() -> None:
    assert answer_text("ok\n") == " ok"
    assert answer_text("") == ""


def test_the_checks_of_readyz_are_shown_one_per_line_under_the_status() -> None:
    body = "listening: FAIL stopping\nconfig_loaded: ok /etc/bridge.toml\n"
    assert answer_text(body) == "\n  listening: FAIL stopping\n  config_loaded: ok /etc/bridge.toml"
