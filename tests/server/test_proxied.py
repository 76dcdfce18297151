"""ProxyGate and the caps: a connection waiting for its PROXY header is counted from the moment
it is accepted, under the connecting address, then under the client's the header names.

No sockets: the gate's protocol gets a fake transport, and the header is fed through
asyncio's BufferedProtocol calls (get_buffer / buffer_updated) as the event loop would.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from typing import cast

from bridge.pdu import BindTransceiver, CommandStatus, Pdu, PduSplitter, decode, encode
from bridge.server import ConnectionRefusal, NoConnectionObserver, Peer, SessionRegistry
from bridge.server.connection import SmppConnection
from bridge.server.limits import ConnectionLimits
from bridge.server.proxied import ProxyGate, ProxyGateSettings, ProxyHeaderProtocol, ProxyOutcome
from bridge.server.services import ConnectionServices

from .server_doubles import FakeAuthority, FakeHandler, FakeTransport, settings, submit, until

PROXY = ("192.0.2.10", 51000)  # the load balancer, in proxy_trusted
OTHER_PROXY = ("192.0.2.11", 51000)  # a second balancer, also trusted
SIGNATURE = bytes.fromhex("0d0a0d0a000d0a515549540a")


def v2_header(client: str, port: int) -> bytes:
    block = (
        socket.inet_aton(client) + socket.inet_aton("192.0.2.1") + struct.pack(">HH", port, 2775)
    )
    return SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(block)) + block


class GateTransport(FakeTransport):
    """A fake transport whose protocol can be swapped, as the gate's hand-over does."""

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = cast(asyncio.Protocol, protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.protocol


class Observer(NoConnectionObserver):
    def __init__(self) -> None:
        self.refused: list[tuple[ConnectionRefusal, Peer]] = []
        self.headers: list[ProxyOutcome] = []

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        self.refused.append((reason, peer))

    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        self.headers.append(outcome)


class Gate:
    """One server's connection services behind a ProxyGate trusting 192.0.2.0/24."""

    def __init__(self, **caps: int) -> None:
        self.observer = Observer()
        self.registry = SessionRegistry()
        self.services = ConnectionServices(
            loop=asyncio.get_running_loop(),
            settings=settings(**caps),
            authority=FakeAuthority(),
            handler=FakeHandler(),
            registry=self.registry,
            observer=self.observer,
        )
        services = self.services
        self.gate = ProxyGate(
            services.loop,
            ProxyGateSettings(
                trusted=(ipaddress.ip_network("192.0.2.0/24"),), header_timeout_s=30.0
            ),
            lambda session_id, tls: SmppConnection(services, session_id, tls=tls),
            self.observer,
            services.seats,
        )

    @property
    def limits(self) -> ConnectionLimits:
        return self.services.seats.limits

    def connect(self, peer: tuple[str, int] = PROXY) -> GateTransport:
        protocol = self.gate.protocol(self.services.new_session_id())
        transport = GateTransport(cast(asyncio.Protocol, protocol), peer)
        protocol.connection_made(transport)
        return transport

    def send(self, transport: GateTransport, data: bytes) -> None:
        """What the peer writes: into the header reader while it wants bytes, then SMPP."""
        while data and isinstance(transport.protocol, ProxyHeaderProtocol):
            gate_protocol = transport.protocol
            buffer = gate_protocol.get_buffer(-1)
            size = min(len(buffer), len(data))
            buffer[:size] = data[:size]
            data = data[size:]
            gate_protocol.buffer_updated(size)
        if data and not transport.closing:
            transport.protocol.data_received(data)

    def bind(self, transport: GateTransport) -> None:
        self.send(transport, encode(BindTransceiver(system_id="esme1", password="secret1")))


def received(transport: GateTransport) -> list[Pdu]:
    splitter = PduSplitter(1 << 20)
    splitter.feed(bytes(transport.written))
    found = []
    while (frame := splitter.next_frame()) is not None:
        found.append(decode(frame))
    return found


async def assert_an_esme_behind_the_balancer_binds_and_submits(gate: Gate) -> None:
    """Ordinary traffic beside the cap: a header, a bind and a submit, each answered ROK."""
    transport = gate.connect(OTHER_PROXY)
    gate.send(transport, v2_header("198.51.100.77", 40000))
    gate.bind(transport)
    gate.send(transport, encode(submit()))
    await until(lambda: len(received(transport)) == 2)
    assert [pdu.command_status for pdu in received(transport)] == [CommandStatus.ESME_ROK] * 2
    assert not transport.aborted


async def test_a_connection_waiting_for_its_header_counts_under_the_connecting_address() -> None:
    gate = Gate()
    gate.connect()
    assert (gate.limits.total, gate.limits.unbound, gate.limits.unbound_from(PROXY[0])) == (1, 1, 1)


async def test_headerless_sockets_from_the_balancer_past_the_per_address_cap_are_refused() -> None:
    gate = Gate(max_connections_per_address=3)
    waiting = [gate.connect() for _ in range(4)]
    assert [t.aborted for t in waiting] == [False, False, False, True]
    assert gate.observer.refused == [
        (ConnectionRefusal.PER_ADDRESS, Peer(host=PROXY[0], port=PROXY[1]))
    ]
    await assert_an_esme_behind_the_balancer_binds_and_submits(gate)


async def test_headerless_sockets_past_the_unbound_cap_make_room_oldest_first() -> None:
    gate = Gate(max_unbound_connections=3)
    waiting = [gate.connect() for _ in range(3)]
    newest = gate.connect()
    assert [t.aborted for t in [*waiting, newest]] == [True, False, False, False]
    assert gate.observer.refused == [
        (ConnectionRefusal.UNBOUND, Peer(host=PROXY[0], port=PROXY[1]))
    ]
    await assert_an_esme_behind_the_balancer_binds_and_submits(gate)


async def test_headerless_sockets_count_against_max_connections_and_make_room() -> None:
    gate = Gate(max_connections=2)
    first, second = gate.connect(), gate.connect()
    gate.connect()
    assert (first.aborted, second.aborted) == (True, False)
    assert gate.limits.total == 2


async def test_the_header_moves_the_count_to_the_clients_address() -> None:
    gate = Gate(max_connections_per_address=1)
    transport = gate.connect()
    gate.send(transport, v2_header("198.51.100.7", 40000))
    assert (gate.limits.unbound_from(PROXY[0]), gate.limits.unbound_from("198.51.100.7")) == (0, 1)
    assert not gate.connect().aborted  # the balancer's own slot is free again


async def test_a_header_naming_an_address_at_its_cap_closes_the_connection() -> None:
    gate = Gate(max_connections_per_address=1)
    first, second = gate.connect(), gate.connect(OTHER_PROXY)
    gate.send(first, v2_header("198.51.100.7", 40000))
    gate.send(second, v2_header("198.51.100.7", 40001))
    assert (first.aborted, second.aborted) == (False, True)
    assert gate.observer.refused == [
        (ConnectionRefusal.PER_ADDRESS, Peer(host="198.51.100.7", port=40001))
    ]
    await until(lambda: second.lost)
    assert gate.limits.total == 1


async def test_the_smpp_connection_takes_over_the_count_without_counting_twice() -> None:
    gate = Gate()
    transport = gate.connect()
    gate.send(transport, v2_header("198.51.100.7", 40000))
    assert isinstance(transport.protocol, SmppConnection)
    assert transport.protocol.peer == Peer(host="198.51.100.7", port=40000)
    assert (gate.limits.total, gate.limits.unbound) == (1, 1)
    assert gate.services.seats.connections == {transport.protocol}


async def test_a_handed_on_connection_keeps_its_age_in_the_eviction_order() -> None:
    gate = Gate(max_unbound_connections=2)
    oldest, younger = gate.connect(), gate.connect()
    gate.send(oldest, v2_header("198.51.100.7", 40000))  # handed on after `younger` came
    gate.connect()
    assert (oldest.aborted, younger.aborted) == (True, False)


async def test_a_bind_through_the_gate_leaves_the_clients_count() -> None:
    gate = Gate(max_connections_per_address=1)
    transport = gate.connect()
    gate.send(transport, v2_header("198.51.100.7", 40000))
    gate.bind(transport)
    assert gate.registry.count("esme1") == 1
    assert (gate.limits.unbound, gate.limits.unbound_from("198.51.100.7")) == (0, 0)
    again = gate.connect()
    gate.send(again, v2_header("198.51.100.7", 40001))
    assert not again.aborted


async def test_a_connection_that_leaves_before_its_header_gives_its_place_back() -> None:
    gate = Gate()
    transport = gate.connect()
    transport.close()
    await until(lambda: transport.lost)
    assert (gate.limits.total, gate.limits.unbound, gate.limits.unbound_from(PROXY[0])) == (0, 0, 0)


async def test_a_connection_whose_header_is_malformed_gives_its_place_back() -> None:
    gate = Gate()
    transport = gate.connect()
    gate.send(transport, b"PROXY TCP4 nowhere\r\n")
    await until(lambda: transport.lost)
    assert gate.observer.headers == [ProxyOutcome.MALFORMED]
    assert gate.limits.total == 0


async def test_an_untrusted_peer_is_closed_without_being_counted() -> None:
    gate = Gate(max_connections_per_address=1)
    transport = gate.connect(("203.0.113.9", 1))
    assert transport.aborted
    assert gate.observer.refused == []
    await until(lambda: transport.lost)
    assert gate.limits.total == 0
