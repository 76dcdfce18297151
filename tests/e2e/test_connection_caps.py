"""Idle sockets cannot lock anyone out, and binds are not held to the per-address cap: 1,000
idle sockets from 127.0.0.1 beside binds and submits from 127.0.0.2 (all of 127.0.0.0/8 is
loopback), 200 binds from one address, and, with the PROXY protocol, sockets from the
balancer's address that never send their header; over real sockets.

The server runs in this process, so both ends of every socket count against one `ulimit -n`:
the idle-socket tests hold 1,000 client sockets and the server at most ~110 of them (about
1,200 descriptors); the 200-bind test holds 400, and leaves `max_connections` to be derived
from the open-file limit as in production (RLIMIT_NOFILE minus 256 minus the iSMS pool).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.pdu import BindTransceiver, EnquireLink, EnquireLinkResp, SubmitSm, SubmitSmResp

from .loopback import RawEsme

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

IDLE = 1000
ESME_ADDRESS = "127.0.0.2"
BINDS = 200
# The balancer's address is trusted to send PROXY headers, and so is ESME_ADDRESS: the idle
# sockets come from one trusted address, the served ESMEs through another.
TRUSTED = {"proxy_protocol": True, "proxy_trusted": ["127.0.0.0/8"]}
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


def proxied_esme(port: int, client_port: int) -> RawEsme:
    """An ESME behind the balancer at ESME_ADDRESS: its PROXY v2 header names 192.0.2.50."""
    connection = esme(port)
    block = socket.inet_aton("192.0.2.50") + socket.inet_aton("127.0.0.1")
    block += struct.pack(">HH", client_port, port)
    signature = bytes.fromhex("0d0a0d0a000d0a515549540a")
    connection.send_bytes(signature + bytes([0x21, 0x11]) + struct.pack(">H", len(block)) + block)
    return connection


def bind(esme: RawEsme) -> float:
    """Bind as esme1; how long the answer took."""
    started = time.monotonic()
    esme.send(BindTransceiver(system_id="esme1", password="secret1", sequence_number=1))
    answer = esme.read()
    assert answer.command_status == 0, answer
    return time.monotonic() - started


def submit(esme: RawEsme) -> None:
    """Ordinary traffic: one submit_sm, answered ESME_ROK."""
    esme.send(SubmitSm(source_addr="MyBrand", destination_addr="60123456789", short_message=b"hi"))
    answer = esme.read()
    assert isinstance(answer, SubmitSmResp), answer
    assert answer.command_status == 0, answer


def open_connections(server: Any) -> int:
    return int(server.run(lambda: server.bridge.server.connection_count))


def closed_by_the_bridge(sockets: list[socket.socket]) -> int:
    """How many of `sockets` the bridge has closed (refused or evicted) so far."""
    closed = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            closed += sock.recv(1) == b""
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    return closed


def wait_until_closed(sockets: list[socket.socket], count: int) -> int:
    """Wait (5 s at most) for the bridge to close at least `count` of `sockets`; how many."""
    deadline = time.monotonic() + 5
    while (closed := closed_by_the_bridge(sockets)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return closed


def test_idle_sockets_from_one_address_stop_at_its_cap_and_binds_from_another_go_through(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    # max_connections as low as the flood, as when every bind from elsewhere failed.
    server = run_server(write_config(smpp={"max_connections": IDLE}, accounts=[{"max_binds": 20}]))
    idle_sockets(server.port, IDLE)
    esmes = [esme(server.port) for _ in range(10)]
    took = [bind(each) for each in esmes]
    assert max(took) < 2.0, took
    for each in esmes:
        submit(each)
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
    for each in esmes:
        submit(each)
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
        submit(each)


def test_200_binds_from_one_address_succeed_when_max_binds_allows_them(
    write_config: Callable[..., Path], run_server: Callable[..., Any]
) -> None:
    # The default caps: 64 unbound per address, 256 unbound in all, max_connections derived.
    server = run_server(write_config(accounts=[{"max_binds": BINDS}]))
    esmes: list[RawEsme] = []
    try:
        for _ in range(BINDS):
            esmes.append(esme(server.port))
            bind(esmes[-1])
        submit(esmes[-1])
        assert server.run(lambda: server.bridge.registry.count("esme1")) == BINDS
        assert open_connections(server) == BINDS
    finally:
        for each in esmes:
            each.close()


def test_headerless_sockets_from_the_balancer_stop_at_its_cap_and_proxied_binds_go_through(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    server = run_server(write_config(smpp=TRUSTED, accounts=[{"max_binds": 20}]))
    idle = idle_sockets(server.port, IDLE)  # from 127.0.0.1, never a PROXY header
    esmes = [proxied_esme(server.port, 40000 + i) for i in range(10)]
    took = [bind(each) for each in esmes]
    assert max(took) < 2.0, took
    for each in esmes:
        submit(each)
    # 64 waiting for their header (the default per-address cap) plus the ten binds.
    assert wait_until_closed(idle, IDLE - 64) == IDLE - 64
    assert open_connections(server) == 64 + 10


def test_past_the_unbound_cap_the_oldest_headerless_socket_makes_room_for_a_proxied_bind(
    write_config: Callable[..., Path], run_server: Callable[..., Any], idle_sockets: Any
) -> None:
    server = run_server(write_config(smpp={**TRUSTED, **FLOOD_CAPS}, accounts=[{"max_binds": 20}]))
    idle = idle_sockets(server.port, IDLE)
    esmes = [proxied_esme(server.port, 40000 + i) for i in range(10)]
    took = [bind(each) for each in esmes]
    assert max(took) < 2.0, took
    for each in esmes:
        submit(each)
    # Every one the unbound cap has no room for was closed; the ESMEs' binds took theirs.
    assert wait_until_closed(idle, IDLE - 100) >= IDLE - 100
    assert open_connections(server) <= 100 + 10
