"""The shipped HAProxy config in front of real bridges: PROXY v2, /readyz health checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import smpplib.client
import smpplib.consts
from real_parts import program

from .cluster_parts import Haproxy, haproxy_config

pytestmark = pytest.mark.e2e

ONLY_LOCAL_ESMES = """[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
allowed_ips = ["127.0.0.1/32"]
"""


def esme(port: int) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    return client


def test_the_shipped_haproxy_cfg_is_valid_for_haproxy(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        haproxy_config([("bridge-a", 2775, 9102)], port=2775, stats_socket=tmp_path / "s"),
        encoding="utf-8",
    )
    checked = subprocess.run(
        [program("haproxy", "haproxy"), "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_esme_behind_haproxy_is_judged_by_its_own_address(start_bridge, start_haproxy) -> None:
    bridge = start_bridge("bridge-a", accounts=ONLY_LOCAL_ESMES)
    haproxy: Haproxy = start_haproxy([bridge])
    haproxy.wait_for_states({"bridge-a": "UP"})
    client = esme(haproxy.port)
    try:
        client.bind_transceiver(system_id="esme1", password="secret1")
        assert client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
        own_port = client._socket.getsockname()[1]
        bridge.wait_for(rf"event=bind_accepted session=\S+ peer=127\.0\.0\.1:{own_port} ")
        assert bridge.metric("isms_bridge_smpp_proxy_headers_total", result="accepted") == 1
    finally:
        client.disconnect()


def test_a_connection_around_haproxy_is_refused_as_untrusted(start_bridge) -> None:
    bridge = start_bridge("bridge-a")
    client = esme(bridge.smpp_port)  # from 127.0.0.1, not HAProxy's 127.0.0.3
    try:
        with pytest.raises((smpplib.exceptions.ConnectionError, OSError)):
            client.bind_transceiver(system_id="esme1", password="secret1")
    finally:
        client.disconnect()
    bridge.wait_for(r"event=proxy_refused .*result=untrusted")
    assert bridge.metric("isms_bridge_smpp_proxy_headers_total", result="untrusted") == 1


def test_a_dead_bridge_is_marked_down_and_new_binds_go_to_the_other(
    start_bridge, start_haproxy
) -> None:
    first, second = start_bridge("bridge-a"), start_bridge("bridge-b")
    haproxy: Haproxy = start_haproxy([first, second])
    haproxy.wait_for_states({"bridge-a": "UP", "bridge-b": "UP"})
    second.kill()
    haproxy.wait_for_states({"bridge-a": "UP", "bridge-b": "DOWN"})
    for _ in range(4):
        client = esme(haproxy.port)
        try:
            client.bind_transmitter(system_id="esme1", password="secret1")
            assert client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX
        finally:
            client.unbind()
            client.disconnect()
    assert first.metric("isms_bridge_smpp_proxy_headers_total", result="accepted") == 4
