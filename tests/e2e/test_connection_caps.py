"""Idle sockets cannot lock anyone out: 1,000 of them from 127.0.0.1 beside binds from
127.0.0.2 (all of 127.0.0.0/8 is loopback), over real sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import RawEsme

from bridge.pdu import BindTransceiver, EnquireLink, EnquireLinkResp

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

IDLE = 1000
ESME_ADDRESS = "127.0.0.2"
# Room for the whole flood in total and per address; only the unbound cap holds it back.
FLOOD_CAPS = {
    "max_connections": IDLE,
    "max_connections_per_address": IDLE,
    "max_unbound_connections": 100,
}


@pytest.fixture
def idle_sockets() -> Iterator[Callable[[int, int], list[socket.socket]]]:
    opened: list[socket.socket] = []

    def open_idle(port: int, count: int) -> list[socket.socket]:
        for _ in range(count):
            opened.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        return opened

    yield open_idle
    for sock in opened:
        sock.close()


def esme(port: int) -> RawEsme:
    """A plain-socket ESME connecting from ESME_ADDRESS, not the idle sockets' 127.0.0.1."""
    return RawEsme("127.0.0.1", port, source=ESME_ADDRESS)


def bind(esme: RawEsme) -> float:
    """Bind as esme1; how long the answer took."""
    started = time.monotonic()
    esme.send(BindTransceiver(system_id="esme1", password="secret1", sequence_number=1))
    answer = esme.read()
    assert answer.command_status == 0, answer
    return time.monotonic() - started


def open_connections(server: Any) -> int:
    return int(server.run(lambda: server.bridge.server.connection_count))


def test_idle_sockets_from_one_address_stop_at_its_cap_and_binds_from_another_go_through(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    # max_connections as low as the flood, as when every bind from elsewhere failed.
    server = run_server(write_config(smpp={"max_connections": IDLE}, accounts=[{"max_binds": 20}]))
    idle_sockets(server.port, IDLE)
    esmes = [esme(server.port) for _ in range(10)]
    took = [bind(each) for each in esmes]
    assert max(took) < 2.0, took
    # 64 idle ones (the default per-address cap) plus the ten binds; the rest were refused.
    assert open_connections(server) == 64 + 10


def test_past_the_unbound_cap_the_oldest_idle_socket_makes_room_for_a_bind(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    server = run_server(write_config(smpp=FLOOD_CAPS, accounts=[{"max_binds": 20}]))
    idle_sockets(server.port, IDLE)
    esmes = [esme(server.port) for _ in range(10)]
    took = [bind(each) for each in esmes]
    assert max(took) < 2.0, took
    assert open_connections(server) <= 100 + 10


def test_bound_sessions_stay_up_through_a_flood_of_idle_sockets(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    server = run_server(write_config(smpp=FLOOD_CAPS))
    esmes = [esme(server.port) for _ in range(3)]
    for each in esmes:
        bind(each)
    idle_sockets(server.port, IDLE)
    for each in esmes:
        each.send(EnquireLink(sequence_number=2))
        assert isinstance(each.read(), EnquireLinkResp)
