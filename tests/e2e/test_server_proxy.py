"""The PROXY protocol on the real listeners: the header's address is the ESME's, bad headers close.

A raw socket plays the load balancer (it writes the header HAProxy would), then speaks SMPP
for the ESME; tests/cluster runs the real HAProxy in front.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import time
from pathlib import Path

import pytest

from bridge.pdu import (
    BindTransceiver,
    BindTransmitter,
    CommandStatus,
    EnquireLink,
    GenericNack,
    Pdu,
    PduSplitter,
    SubmitSm,
    decode,
    encode,
)
from bridge.server import Peer

from .loopback import RawEsme

TRUSTED = {"proxy_protocol": True, "proxy_trusted": ["127.0.0.0/8"]}
SIGNATURE = bytes.fromhex("0d0a0d0a000d0a515549540a")
BIND = BindTransceiver(system_id="esme1", password="secret1", sequence_number=1)


def v2_tcp4(source: str, port: int, destination: str = "127.0.0.1", dport: int = 2775) -> bytes:
    block = (
        socket.inet_aton(source) + socket.inet_aton(destination) + struct.pack(">HH", port, dport)
    )
    return SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(block)) + block


V2_LOCAL = SIGNATURE + bytes([0x20, 0x00, 0x00, 0x00])


def bound_peers(server) -> list[Peer]:
    sessions = server.run(lambda: server.bridge.registry.sessions("esme1"))
    return [session.context.peer for session in sessions]


def test_a_v2_header_makes_its_address_the_bound_sessions_peer(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(v2_tcp4("192.0.2.7", 40000))
    esme.send(BIND)
    assert esme.read().command_status == 0
    assert bound_peers(server) == [Peer(host="192.0.2.7", port=40000)]


def test_a_v1_header_and_the_bind_in_one_write_are_both_read(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(b"PROXY TCP6 2001:db8::7 ::1 40001 2775\r\n" + encode(BIND))
    assert esme.read().command_status == 0
    assert bound_peers(server) == [Peer(host="2001:db8::7", port=40001)]


def test_a_header_dripped_one_byte_per_write_is_read(write_config, run_server, raw_esme) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for byte in v2_tcp4("192.0.2.8", 40002):
        esme.send_bytes(bytes([byte]))
        time.sleep(0.002)
    esme.send(BIND)
    assert esme.read().command_status == 0
    assert bound_peers(server) == [Peer(host="192.0.2.8", port=40002)]


def test_allowed_ips_judge_the_address_in_the_header(write_config, run_server, raw_esme) -> None:
    server = run_server(write_config(smpp=TRUSTED, accounts=[{"allowed_ips": ["192.0.2.0/24"]}]))
    allowed = raw_esme(server)
    allowed.send_bytes(v2_tcp4("192.0.2.9", 40003))
    allowed.send(BIND)
    assert allowed.read().command_status == 0
    outside = raw_esme(server)
    outside.send_bytes(v2_tcp4("198.51.100.9", 40004))
    outside.send(BIND)
    assert outside.read().command_status == CommandStatus.ESME_RBINDFAIL


def test_a_local_header_keeps_the_connections_own_address(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(V2_LOCAL)
    esme.send(BIND)
    assert esme.read().command_status == 0
    assert bound_peers(server) == [Peer(host="127.0.0.1", port=esme.sock.getsockname()[1])]


def test_a_connection_without_a_header_is_closed_unanswered_and_logged(
    write_config, run_server, raw_esme, caplog: pytest.LogCaptureFixture
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    with caplog.at_level(logging.WARNING, logger="bridge.server.proxied"):
        esme.send(BIND)
        assert esme.closed_by_peer(timeout=5)
    assert any(
        "proxy_refused" in r.message and "result=missing" in r.message for r in caplog.records
    )


def test_a_malformed_header_closes_the_connection(write_config, run_server, raw_esme) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(b"PROXY TCP4 192.0.2.7 nowhere 1 2\r\n")
    assert esme.closed_by_peer(timeout=5)


def test_a_v2_length_over_the_bound_closes_before_the_rest_is_sent(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(SIGNATURE + bytes([0x21, 0x11, 0xFF, 0xFF]))
    assert esme.closed_by_peer(timeout=5)


def test_a_header_from_an_untrusted_address_closes_the_connection(
    write_config, run_server, raw_esme, caplog: pytest.LogCaptureFixture
) -> None:
    server = run_server(
        write_config(smpp={"proxy_protocol": True, "proxy_trusted": ["10.0.0.0/8"]})
    )
    with caplog.at_level(logging.WARNING, logger="bridge.server.proxied"):
        esme = raw_esme(server)  # closed as it is accepted: nothing it sends is read
        assert esme.closed_by_peer(timeout=5)
    assert any("result=untrusted" in r.message for r in caplog.records)


def test_a_connection_that_never_sends_a_header_is_closed_after_session_init(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={**TRUSTED, "session_init_s": 0.3}))
    esme = raw_esme(server)
    esme.send_bytes(b"PROXY TCP4 ")
    started = time.monotonic()
    assert esme.closed_by_peer(timeout=5)
    assert time.monotonic() - started >= 0.2


def test_without_the_option_a_proxy_header_is_a_bad_pdu(server, raw_esme) -> None:
    esme = raw_esme(server)
    esme.send_bytes(v2_tcp4("192.0.2.7", 40006))
    answer = esme.read()
    assert isinstance(answer, GenericNack)
    assert answer.command_status == CommandStatus.ESME_RINVCMDLEN
    assert esme.closed_by_peer(timeout=5)


def test_a_plain_session_behind_the_header_keeps_serving(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp=TRUSTED))
    esme = raw_esme(server)
    esme.send_bytes(v2_tcp4("192.0.2.10", 40007))
    esme.send(BindTransmitter(system_id="esme1", password="secret1", sequence_number=1))
    assert esme.read().command_status == 0
    [seq] = esme.send(EnquireLink())
    assert esme.read().sequence_number == seq


# --- TLS: the header in the clear, then the handshake ------------------------------------


def tls_client(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    return context


class MemoryTlsClient:
    """A TLS client over memory BIOs, so the test decides what goes into each write."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing)
        self.splitter = PduSplitter(1 << 16)

    def handshake(self, first: bytes) -> None:
        """The first write is `first` followed by the ClientHello, in one send."""
        pending = first
        while True:
            try:
                self.tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            pending += self.outgoing.read()
            if pending:
                self.sock.sendall(pending)
                pending = b""
            if done:
                return
            self._receive()

    def send(self, pdu: Pdu) -> None:
        self.tls.write(encode(pdu))
        self.sock.sendall(self.outgoing.read())

    def read(self) -> Pdu:
        while (frame := self.splitter.next_frame()) is None:
            try:
                self.splitter.feed(self.tls.read(65536))
            except ssl.SSLWantReadError:
                self._receive()
        return decode(frame)

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the bridge closed the connection"
        self.incoming.write(chunk)


@pytest.fixture
def tls_server(write_config, run_server, certificate: tuple[Path, Path]):
    """A bridge taking the PROXY header from 127.0.0.1, on a TLS listener too."""
    cert, key = certificate
    return run_server(
        write_config(smpp=TRUSTED, tls={"port": 0, "cert_file": cert, "key_file": key})
    )


def test_over_tls_the_header_comes_first_and_names_the_peer(
    tls_server, certificate: tuple[Path, Path]
) -> None:
    server, (cert, _key) = tls_server, certificate
    esme = RawEsme("127.0.0.1", server.tls_port)
    try:
        esme.send_bytes(v2_tcp4("192.0.2.11", 40008))
        esme.sock = tls_client(cert).wrap_socket(esme.sock)
        esme.send(BIND)
        assert esme.read().command_status == 0
        sessions = server.run(lambda: server.bridge.registry.sessions("esme1"))
        assert [(s.context.peer, s.context.tls) for s in sessions] == [
            (Peer(host="192.0.2.11", port=40008), True)
        ]
    finally:
        esme.close()


def test_over_tls_a_client_hello_in_the_headers_segment_is_not_lost(
    tls_server, certificate: tuple[Path, Path]
) -> None:
    server, (cert, _key) = tls_server, certificate
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=5) as sock:
        client = MemoryTlsClient(sock, tls_client(cert))
        client.handshake(b"PROXY TCP4 192.0.2.12 127.0.0.1 40009 3550\r\n")
        client.send(BIND)
        assert client.read().command_status == 0
        assert bound_peers(server) == [Peer(host="192.0.2.12", port=40009)]


def test_over_tls_a_header_without_a_handshake_after_it_is_closed(tls_server) -> None:
    server = tls_server
    esme = RawEsme("127.0.0.1", server.tls_port)
    try:
        esme.send_bytes(v2_tcp4("192.0.2.13", 40010))
        esme.send(BIND)  # SMPP in the clear where the ClientHello belongs
        assert esme.closed_by_peer(timeout=5)
    finally:
        esme.close()


def bind_and_submit(esme: RawEsme) -> None:
    """Ordinary traffic: a bind and a submit, both answered ESME_ROK."""
    esme.send(BIND)
    assert esme.read().command_status == 0
    esme.send(SubmitSm(source_addr="MyBrand", destination_addr="60123456789", short_message=b"hi"))
    assert esme.read().command_status == 0


def behind_the_balancer(server, raw_esme, client: str, port: int) -> RawEsme:
    """A connection from the balancer's 127.0.0.1 whose header names `client`, once the
    bridge has read it (an enquire_link answered, unbound). One at a time: with a cap of 1,
    a second connection from 127.0.0.1 before the first header is read is over it."""
    esme = raw_esme(server)
    esme.send_bytes(v2_tcp4(client, port))
    esme.send(EnquireLink())
    assert esme.read().command_status == 0
    return esme


def test_the_per_address_cap_counts_the_address_in_the_header(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={**TRUSTED, "max_connections_per_address": 1}))
    behind_the_balancer(server, raw_esme, "192.0.2.20", 40020)  # no bind: 192.0.2.20 is full
    bind_and_submit(behind_the_balancer(server, raw_esme, "192.0.2.21", 40021))
    again = raw_esme(server)
    again.send_bytes(v2_tcp4("192.0.2.20", 40022))  # that ESME's second connection
    assert again.closed_by_peer(timeout=5)
    assert [p.host for p in bound_peers(server)] == ["192.0.2.21"]


def test_binds_behind_the_header_leave_the_count_of_their_address(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={**TRUSTED, "max_connections_per_address": 1}))
    for port in range(40030, 40035):
        bind_and_submit(behind_the_balancer(server, raw_esme, "192.0.2.22", port))
    assert [p.host for p in bound_peers(server)] == ["192.0.2.22"] * 5


def test_over_tls_a_client_stalling_its_handshake_is_counted_under_its_own_address(
    write_config, run_server, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server = run_server(
        write_config(
            smpp={**TRUSTED, "max_connections_per_address": 1},
            tls={"port": 0, "cert_file": cert, "key_file": key},
        )
    )
    opened: list[RawEsme] = []

    def connect(client: str, port: int) -> RawEsme:
        """A connection from the balancer's 127.0.0.1 that sends its header, one at a time
        (a second one from 127.0.0.1 before the first header is read would be over the cap)."""
        esme = RawEsme("127.0.0.1", server.tls_port)
        opened.append(esme)
        esme.send_bytes(v2_tcp4(client, port))
        time.sleep(0.2)
        return esme

    try:
        stalled = connect("192.0.2.30", 40040)  # and then no ClientHello
        assert connect("192.0.2.30", 40041).closed_by_peer(timeout=5)
        # The balancer's own address holds nothing for the stalled client: others go on.
        served = connect("192.0.2.31", 40042)
        served.sock = tls_client(cert).wrap_socket(served.sock)
        bind_and_submit(served)
        assert not stalled.closed_by_peer(timeout=0.2)
    finally:
        for esme in opened:
            esme.close()
