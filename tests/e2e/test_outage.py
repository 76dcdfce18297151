"""A total iSMS outage costs iSMS probes, not every message times every mirror.

Two sandboxes answer every send HTTP 503 (a proxy in front of a down iSMS), a third mirror
is a port nobody listens on. The sandboxes count the HTTP requests they get per submit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import smpplib.client
from real_parts import free_port
from smpplib_esme import submit_many

from bridge.upstream import SandboxFaults

from .loopback import ACCOUNT, SMPP, config_text
from .messages_rig import SandboxThread

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

ESME_RSYSERR = 0x08
COOLDOWN_S = 2.0
MESSAGE = {"destination_addr": "60123456789", "short_message": b"hello"}


@pytest.fixture
def down_mirrors() -> Iterator[list[SandboxThread]]:
    sandboxes = [SandboxThread(SandboxFaults(http_status=503)) for _ in range(2)]
    yield sandboxes
    for sandbox in sandboxes:
        sandbox.stop()


def requests(sandboxes: list[SandboxThread]) -> int:
    """HTTP send requests the live mirrors received so far."""
    return sum(sandbox.sandbox.send_requests for sandbox in sandboxes)


def bridge_in_front_of(
    tmp_path: Path, run_server: Callable[..., Any], sandboxes: list[SandboxThread]
) -> Any:
    dead = f"http://127.0.0.1:{free_port()}/isms_send_all_id.php"
    isms = {
        "endpoints": [sandbox.url for sandbox in sandboxes] + [dead],
        "timeout_s": 5,
        "mirror_cooldown_s": COOLDOWN_S,
    }
    path = tmp_path / "bridge.toml"
    path.write_text(
        config_text([("[smpp]", SMPP), ("[isms]", isms), ("[[accounts]]", ACCOUNT)]),
        encoding="utf-8",
    )
    return run_server(path, pipeline=True)


def smpplib_transmitter(server: Any) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", server.port, timeout=10)
    client.connect()
    client.bind_transmitter(system_id="esme1", password="secret1")
    return client


def test_once_every_breaker_is_open_submits_are_answered_rsyserr_with_no_request_to_isms(
    tmp_path: Path, run_server: Callable[..., Any], down_mirrors: list[SandboxThread]
) -> None:
    server = bridge_in_front_of(tmp_path, run_server, down_mirrors)
    client = smpplib_transmitter(server)
    try:
        # Ten in flight while the breakers are still closed: each may try every mirror.
        opening = submit_many(client, [MESSAGE] * 10)
        while_open = requests(down_mirrors)
        answers = submit_many(client, [MESSAGE] * 100)
        cut = requests(down_mirrors) - while_open
    finally:
        client.disconnect()
    assert {answer.status for answer in opening + answers} == {ESME_RSYSERR}
    assert while_open <= 10 * 2  # at most every live mirror once per message
    assert cut / len(answers) <= 0.1  # the target; in fact no request at all
    assert cut == 0


def test_after_the_cool_down_one_probe_per_mirror_goes_out_and_the_rest_are_cut(
    tmp_path: Path, run_server: Callable[..., Any], down_mirrors: list[SandboxThread]
) -> None:
    server = bridge_in_front_of(tmp_path, run_server, down_mirrors)
    client = smpplib_transmitter(server)
    try:
        submit_many(client, [MESSAGE] * 5)  # five failures in a row open every breaker
        before = requests(down_mirrors)
        time.sleep(COOLDOWN_S + 0.3)
        answers = submit_many(client, [MESSAGE] * 50)
        probes = requests(down_mirrors) - before
    finally:
        client.disconnect()
    assert {answer.status for answer in answers} == {ESME_RSYSERR}
    assert probes == len(down_mirrors)  # one probe per live mirror, then nothing
