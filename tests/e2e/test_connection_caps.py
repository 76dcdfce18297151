"""Idle sockets cannot lock anyone out: 1,000 of them from 127.0.0.1 beside binds from
127.0.0.2 (all of 127.0.0.0/8 is loopback), over real sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.pdu import BindTransceiver, EnquireLink, EnquireLinkResp, PduSplitter, decode, encode

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

IDLE = 1000
ESME_ADDRESS = "127.0.0.2"


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


class Esme:
    """A plain-socket ESME connecting from a chosen loopback address."""

    def __init__(self, port: int, source: str = ESME_ADDRESS) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(source, 0)
        )
        self._splitter = PduSplitter()

    def exchange(self, pdu: Any) -> Any:
        self.sock.sendall(encode(pdu))
        while (frame := self._splitter.next_frame()) is None:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the bridge closed the connection")
            self._splitter.feed(chunk)
        return decode(frame)

    def bind(self) -> float:
        """Bind as esme1; how long the answer took."""
        started = time.monotonic()
        answer = self.exchange(
            BindTransceiver(system_id="esme1", password="secret1", sequence_number=1)
        )
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
    esmes = [Esme(server.port) for _ in range(10)]
    took = [esme.bind() for esme in esmes]
    assert max(took) < 2.0, took
    # 64 idle ones (the default per-address cap) plus the ten binds; the rest were refused.
    assert open_connections(server) == 64 + 10


def test_past_the_unbound_cap_the_oldest_idle_socket_makes_room_for_a_bind(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    caps = {
        "max_connections": IDLE,
        "max_connections_per_address": IDLE,
        "max_unbound_connections": 100,
    }
    server = run_server(write_config(smpp=caps, accounts=[{"max_binds": 20}]))
    idle_sockets(server.port, IDLE)
    esmes = [Esme(server.port) for _ in range(10)]
    took = [esme.bind() for esme in esmes]
    assert max(took) < 2.0, took
    assert open_connections(server) <= 100 + 10


def test_bound_sessions_stay_up_through_a_flood_of_idle_sockets(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    caps = {
        "max_connections": IDLE,
        "max_connections_per_address": IDLE,
        "max_unbound_connections": 100,
    }
    server = run_server(write_config(smpp=caps))
    esmes = [Esme(server.port) for _ in range(3)]
    for esme in esmes:
        esme.bind()
    idle_sockets(server.port, IDLE)
    for esme in esmes:
        assert isinstance(esme.exchange(EnquireLink(sequence_number=2)), EnquireLinkResp)
