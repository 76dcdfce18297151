"""Connections behind a load balancer: read the PROXY header, then hand the socket to SMPP.

With `proxy_protocol` on, every accepted connection first gets a `ProxyHeaderProtocol`. It
refuses a peer outside `proxy_trusted` before reading a byte, reads exactly one header
(`proxy_protocol.ProxyHeaderReader`, bounded, at most `header_timeout_s`), and then gives
the transport to the protocol the listener would have used, built for the client's address
from the header (`Peer`): allowed_ips, the bind-failure slowdown, logs and metrics see the
ESME, not the balancer. A missing, malformed or untrusted header closes the connection,
logged once and counted (`ConnectionObserver.proxy_header_read`).

Caps (limits.py): a connection from a trusted peer is counted as it is accepted, like any
other (`GateAdmission`, the server's `ConnectionSeats`): in total, as unbound, and as
unbound under the address that connected, the balancer's, since nothing else is known of it
yet. So sockets that never send their header are held to the per-address and unbound caps,
and the oldest of them is closed to make room like any connection that has not bound. Once
the header names the client, the connection counts under the client's address (refused if
that address is at its cap), before a TLS handshake, so a client behind the balancer that
stalls charges its own address, not the balancer's. The SMPP connection the socket is handed
to takes over the same seat (`pass_on`).

TLS: the header comes in the clear, before the ClientHello, so a TLS listener with the
PROXY protocol listens as plain TCP and upgrades with `loop.start_tls` once the header is
read. This is why the header is read with `asyncio.BufferedProtocol` in exact reads
(`bytes_wanted`): a read past the header would swallow the start of the ClientHello, and
asyncio offers no way to give bytes back to the transport. `start_tls` finishes the
handshake and decrypts what arrived with it before our coroutine resumes, so a small
`_HandshakeWait` protocol keeps those bytes until the SMPP connection is attached.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from bridge.server.eventlog import SessionLog
from bridge.server.handlers import Peer, peer_address
from bridge.server.proxy_protocol import (
    NEED_DATA,
    ProxyHeader,
    ProxyHeaderError,
    ProxyHeaderReader,
    ProxyRejection,
)

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyOutcome(enum.Enum):
    """What became of a connection's PROXY header (the metric's `result` label)."""

    ACCEPTED = "accepted"  # a header with the client's address
    LOCAL = "local"  # v2 LOCAL / v1 UNKNOWN: the balancer's own connection (a health check)
    UNTRUSTED = "untrusted"  # the peer is not in proxy_trusted: nothing was read
    TIMEOUT = "timeout"  # no complete header within the time allowed
    MISSING = "missing"
    MALFORMED = "malformed"
    TOO_LONG = "too_long"
    TRUNCATED = "truncated"


_REJECTIONS = {
    ProxyRejection.MISSING: ProxyOutcome.MISSING,
    ProxyRejection.MALFORMED: ProxyOutcome.MALFORMED,
    ProxyRejection.TOO_LONG: ProxyOutcome.TOO_LONG,
    ProxyRejection.TRUNCATED: ProxyOutcome.TRUNCATED,
}


class GateAdmission(Protocol):
    """Counts the connections at the gate against the server's caps (`ConnectionSeats`)."""

    def admit_waiting(self, waiting: ProxyHeaderProtocol, peer: Peer) -> bool:
        """Count a connection from `peer` in as it is accepted; False: refused by a cap
        (counted and logged), to be closed."""
        ...

    def readdress(self, holder: ProxyHeaderProtocol, new: Peer) -> bool:
        """The header named the client: count the connection under `new`; False: refused
        (counted and logged), to be closed."""
        ...

    def pass_on(self, waiting: ProxyHeaderProtocol, successor: ProxiedConnection) -> None:
        """`successor` takes over the connection's place in the counts."""
        ...

    def forget(self, holder: ProxyHeaderProtocol) -> None:
        """The connection is gone before it was handed on: its place is free."""
        ...


class ProxyObserver(Protocol):
    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        """A proxied connection's header was judged (once per connection)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyGateSettings:
    trusted: tuple[IpNetwork, ...]
    header_timeout_s: float
    tls_context: ssl.SSLContext | None = None
    tls_handshake_timeout_s: float = 60.0


class ProxiedConnection(Protocol):
    """The protocol a connection is handed to once its header is read (`SmppConnection`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> bool | None: ...

    def connection_lost(self, exc: Exception | None) -> None: ...

    def abort(self) -> None: ...

    def readdress(self, peer: Peer) -> bool:
        """The ESME's address from the header; False if refused (the connection is closed)."""
        ...


# Builds the protocol a connection is handed to: (session id, tls).
ConnectionFactory = Callable[[str, bool], ProxiedConnection]


class ProxyGate:
    """What the proxied connections of one listener share, and the ones still at the gate."""

    __slots__ = ("_connect", "_loop", "admission", "observer", "pending", "settings")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: ProxyGateSettings,
        connect: ConnectionFactory,
        observer: ProxyObserver,
        admission: GateAdmission,
    ) -> None:
        self._loop = loop
        self._connect = connect
        self.settings = settings
        self.observer = observer
        self.admission = admission
        self.pending: set[ProxyHeaderProtocol] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def protocol(self, session_id: str) -> ProxyHeaderProtocol:
        return ProxyHeaderProtocol(self, session_id)

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(address in network for network in self.settings.trusted)

    def hand_over(
        self,
        waiting: ProxyHeaderProtocol,
        transport: asyncio.Transport,
        client: Peer | None,
        *,
        tls: bool,
    ) -> ProxiedConnection | None:
        """Give `transport` to a new SMPP connection, in `waiting`'s place in the counts and
        readdressed to `client` when the header named one; None when it is closed already."""
        connection = self._connect(waiting.session_id, tls)
        self.admission.pass_on(waiting, connection)
        transport.set_protocol(cast(asyncio.BaseProtocol, connection))
        connection.connection_made(transport)
        if transport.is_closing() or (client is not None and not connection.readdress(client)):
            return None
        return connection

    def abort_pending(self) -> None:
        """Close every connection still reading its header or in its TLS handshake (they
        owe nobody an answer: no SMPP byte was read)."""
        for waiting in list(self.pending):
            waiting.abort()


class ProxyHeaderProtocol(asyncio.BufferedProtocol):
    """One connection until its PROXY header is read (and, on a TLS listener, the handshake)."""

    __slots__ = (
        "_chunk",
        "_gate",
        "_handshake",
        "_log",
        "_peer",
        "_reader",
        "_session_id",
        "_timer",
        "_transport",
    )

    def __init__(self, gate: ProxyGate, session_id: str) -> None:
        self._gate = gate
        self._session_id = session_id
        self._reader = ProxyHeaderReader()
        self._chunk = bytearray()
        self._transport: asyncio.Transport | None = None
        self._peer = Peer(host="?", port=0)
        self._log = SessionLog(log, session_id, "?")
        self._timer: asyncio.TimerHandle | None = None
        self._handshake: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        gate = self._gate
        self._transport = transport
        self._peer = peer_address(transport)
        self._log = SessionLog(log, self._session_id, str(self._peer))
        if not gate.trusts(self._peer.host):
            self._refuse(ProxyOutcome.UNTRUSTED, "peer not in proxy_trusted")
            return
        if not gate.admission.admit_waiting(self, self._peer):
            transport.abort()  # counted and logged by the admission
            return
        gate.pending.add(self)
        self._timer = gate.loop.call_later(gate.settings.header_timeout_s, self._timed_out)

    def get_buffer(self, sizehint: int) -> bytearray:
        # Exactly what the header can still need, never more (module docstring: TLS).
        self._chunk = bytearray(self._reader.bytes_wanted())
        return self._chunk

    def buffer_updated(self, nbytes: int) -> None:
        self._reader.receive_data(bytes(self._chunk[:nbytes]))
        self._advance()

    def eof_received(self) -> bool:
        if self._handshake is None:
            self._reader.receive_data(b"")
            self._advance()
        return False

    @property
    def session_id(self) -> str:
        return self._session_id

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._gate.pending.discard(self)
        self._gate.admission.forget(self)

    def abort(self) -> None:
        if self._handshake is not None:
            self._handshake.cancel()
        if self._transport is not None:
            self._transport.abort()

    def _advance(self) -> None:
        try:
            header = self._reader.next_header()
        except ProxyHeaderError as exc:
            self._refuse(_REJECTIONS[exc.rejection], exc.detail)
            return
        if header is NEED_DATA:
            return
        assert isinstance(header, ProxyHeader)
        self._accept(header)

    def _accept(self, header: ProxyHeader) -> None:
        gate = self._gate
        transport = self._transport
        assert transport is not None
        client: Peer | None = None
        outcome = ProxyOutcome.LOCAL
        if header.source is not None:
            outcome = ProxyOutcome.ACCEPTED
            client = Peer(host=header.source[0], port=header.source[1])
        gate.observer.proxy_header_read(outcome)
        self._log.event(
            logging.DEBUG,
            "proxy_header",
            version=header.version,
            result=outcome.value,
            client=str(client) if client is not None else None,
        )
        if client is not None and not gate.admission.readdress(self, client):
            self._stop_timer()
            gate.pending.discard(self)
            transport.abort()  # the client's address is at its cap (counted and logged)
            return
        context = gate.settings.tls_context
        if context is None:
            self._stop_timer()
            gate.pending.discard(self)
            connection = gate.hand_over(self, transport, client, tls=False)
            if connection is not None and self._reader.trailing:
                connection.data_received(self._reader.trailing)
            return
        # Nothing more may be read until the TLS layer is in place (module docstring); the
        # handshake has a timeout of its own.
        self._stop_timer()
        transport.pause_reading()
        self._handshake = gate.loop.create_task(self._start_tls(transport, context, client))

    async def _start_tls(
        self, transport: asyncio.Transport, context: ssl.SSLContext, client: Peer | None
    ) -> None:
        try:
            await self._hand_over_tls(transport, context, client)
        finally:
            # start_tls gave the socket to the TLS layer: connection_lost no longer comes
            # here. Handed on, nothing is held any more; otherwise its place is free now.
            self._gate.admission.forget(self)

    async def _hand_over_tls(
        self, transport: asyncio.Transport, context: ssl.SSLContext, client: Peer | None
    ) -> None:
        gate = self._gate
        waiting = _HandshakeWait()
        try:
            tls_transport = await gate.loop.start_tls(
                transport,
                waiting,
                context,
                server_side=True,
                ssl_handshake_timeout=gate.settings.tls_handshake_timeout_s,
            )
        except OSError as exc:  # ssl.SSLError, a reset, the handshake timeout (start_tls closed it)
            self._log.event(logging.INFO, "tls_handshake_failed", error=str(exc) or repr(exc))
            return
        finally:
            gate.pending.discard(self)
        if tls_transport is None or tls_transport.is_closing() or waiting.lost:
            return
        connection = gate.hand_over(self, tls_transport, client, tls=True)
        if connection is not None:
            waiting.replay(connection)

    def _refuse(self, outcome: ProxyOutcome, detail: str) -> None:
        self._stop_timer()
        self._gate.pending.discard(self)
        self._gate.observer.proxy_header_read(outcome)
        self._log.event(logging.WARNING, "proxy_refused", result=outcome.value, error=detail)
        if self._transport is not None:
            self._transport.abort()

    def _timed_out(self) -> None:
        self._timer = None
        limit = self._gate.settings.header_timeout_s
        self._refuse(ProxyOutcome.TIMEOUT, f"no complete header within {limit:g} s")

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _HandshakeWait(asyncio.Protocol):
    """The TLS layer's protocol between the end of the handshake and the SMPP connection
    being attached (one event-loop turn): keeps what it is given, in order."""

    __slots__ = ("_chunks", "_eof", "lost")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._eof = False
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)

    def eof_received(self) -> bool:
        self._eof = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True

    def replay(self, connection: ProxiedConnection) -> None:
        for chunk in self._chunks:
            connection.data_received(chunk)
        self._chunks.clear()
        if self._eof:
            connection.eof_received()
