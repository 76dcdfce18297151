"""The listening sockets and the server's lifecycle: start, reload, graceful stop, abort.

`SmppServer` opens one TCP listener on every configured host (IPv4 and IPv6 alike; asyncio
sets IPV6_V6ONLY, so "0.0.0.0" and "::" can share a port) and, when configured, a TLS
listener on its own port (TLS 1.2 or newer). Each accepted connection gets an
`SmppConnection`; what they share lives in one `ConnectionServices`, the seats counted
against the caps on connections included (seats.py, limits.py: in total, not yet bound, and
not yet bound per address).
With the PROXY protocol on, each connection first passes a `ProxyGate` (proxied.py), which
reads the load balancer's header and then hands the socket on; the TLS listener then listens
as plain TCP and starts TLS after the header. A connection at the gate is counted against
the caps from the moment it is accepted, as any other.

Graceful stop (after aiohttp's `RequestHandler.shutdown`): stop accepting; every
connection finishes the requests it already received (in-flight submits complete their
upstream call) and answers them; bound sessions get an unbind and a bounded wait for
unbind_resp (smpplib never answers one: the session's response timer closes it); whatever
is still open at the deadline is aborted. `abort()` is the second-signal path: close now.

While serving, a `LoopLagSampler` measures how late the event loop runs its timers and
reports each sample to the observer (`loop_lag_sampled`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bridge.server.connection import SmppConnection
from bridge.server.handlers import BindAuthority, SubmitHandler
from bridge.server.looplag import LoopLagSampler
from bridge.server.observer import ConnectionObserver
from bridge.server.proxied import ProxyGate, ProxyGateSettings
from bridge.server.registry import SessionRegistry
from bridge.server.services import ConnectionServices
from bridge.server.settings import ServerSettings
from bridge.server.shared_limits import SharedLimits

log = logging.getLogger(__name__)

# A TLS handshake that has not finished by then is dropped, like a bind that never comes.
_MAX_TLS_HANDSHAKE_S = 60.0


class ServerState(enum.Enum):
    UNSTARTED = "unstarted"
    SERVING = "serving"
    STOPPING = "stopping"
    STOPPED = "stopped"


def tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server context accepting TLS 1.2 and newer, with the PEM certificate chain and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundSession:
    """One bound session as an operator sees it; times are Unix seconds."""

    session_id: str
    system_id: str
    bind_type: str
    peer: str
    tls: bool
    bound_at: float
    last_activity: float
    requests_in_flight: int
    requests: int
    deliveries: int


class SmppServer:
    """The SMPP listeners of one process and every connection they accepted."""

    def __init__(
        self,
        settings: ServerSettings,
        *,
        authority: BindAuthority,
        handler: SubmitHandler,
        registry: SessionRegistry | None = None,
        observer: ConnectionObserver | None = None,
        limits: SharedLimits | None = None,
    ) -> None:
        self._settings = settings
        self._limits = limits
        self._observer = observer
        self._authority = authority
        self._handler = handler
        self._registry = registry if registry is not None else SessionRegistry()
        self._services: ConnectionServices | None = None
        self._listeners: list[asyncio.Server] = []
        self._tls_listeners: list[asyncio.Server] = []
        self._gates: list[ProxyGate] = []
        self._lag: LoopLagSampler | None = None
        self._state = ServerState.UNSTARTED

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def registry(self) -> SessionRegistry:
        return self._registry

    @property
    def connection_count(self) -> int:
        """Open connections, bound or not, those still sending a PROXY header included."""
        return 0 if self._services is None else self._services.seats.limits.total

    @property
    def requests_in_flight(self) -> int:
        """Requests received and not answered yet, over every connection."""
        if self._services is None:
            return 0
        return sum(c.requests_in_flight for c in self._services.seats.connections)

    def sessions(self) -> tuple[BoundSession, ...]:
        """Every bound session of this process (an operator's listing)."""
        if self._services is None:
            return ()
        loop_now, wall_now = self._services.loop.time(), time.time()
        found = []
        for connection in self._services.seats.connections:
            if not connection.bound:
                continue
            context = connection.context
            bound_at, last_at, requests, deliveries = connection.activity()
            found.append(
                BoundSession(
                    session_id=context.session_id,
                    system_id=context.system_id,
                    bind_type=context.bind_type.value,
                    peer=str(context.peer),
                    tls=context.tls,
                    bound_at=wall_now - (loop_now - bound_at),
                    last_activity=wall_now - (loop_now - max(last_at, bound_at)),
                    requests_in_flight=connection.requests_in_flight,
                    requests=requests,
                    deliveries=deliveries,
                )
            )
        return tuple(found)

    async def unbind_all(self, timeout: float) -> int:  # noqa: ASYNC109 (a shared deadline)
        """Unbind every bound session as a graceful stop does, the listeners left open (an
        operator's drain): each finishes the requests it received, gets an unbind and waits
        for unbind_resp until `timeout`, then is aborted. How many were bound."""
        services = self._services
        if services is None or self._state is not ServerState.SERVING:
            return 0
        deadline = services.loop.time() + timeout
        bound = [c for c in services.seats.connections if c.bound]
        results = await asyncio.gather(
            *(connection.shutdown(deadline) for connection in bound), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("event=shutdown_failed error=%r", result)
        return len(bound)

    @property
    def worst_loop_lag_s(self) -> float | None:
        """The largest event-loop lag sampled while serving, also once stopped (None: lag
        is not sampled)."""
        return None if self._lag is None else self._lag.worst_s

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """(host, port) of every plain listening socket (port 0 in settings is resolved here)."""
        return _addresses(self._listeners)

    @property
    def tls_addresses(self) -> tuple[tuple[str, int], ...]:
        return _addresses(self._tls_listeners)

    async def start(self) -> None:
        if self._state is not ServerState.UNSTARTED:
            raise RuntimeError(f"cannot start a server that is {self._state.value}")
        loop = asyncio.get_running_loop()
        settings = self._settings
        services = ConnectionServices(
            loop=loop,
            settings=settings,
            authority=self._authority,
            handler=self._handler,
            registry=self._registry,
            observer=self._observer,
            shared=self._limits,
        )
        self._services = services
        try:
            self._listeners.append(
                await loop.create_server(
                    self._protocol_factory(services, tls=None),
                    host=list(settings.hosts),
                    port=settings.port,
                    backlog=settings.backlog,
                    reuse_address=True,
                )
            )
            if settings.tls is not None:
                context = tls_context(settings.tls.cert_file, settings.tls.key_file)
                handshake_timeout = min(settings.session.session_init_s, _MAX_TLS_HANDSHAKE_S)
                # Behind a PROXY header the listener is plain TCP: TLS starts after the header.
                direct_tls = settings.proxy is None
                self._tls_listeners.append(
                    await loop.create_server(
                        self._protocol_factory(services, tls=context),
                        host=list(settings.tls.hosts),
                        port=settings.tls.port,
                        backlog=settings.backlog,
                        reuse_address=True,
                        ssl=context if direct_tls else None,
                        ssl_handshake_timeout=handshake_timeout if direct_tls else None,
                    )
                )
        except BaseException:
            self._close_listeners()
            raise
        self._state = ServerState.SERVING
        if self._limits is not None:
            self._limits.on_lost(self._unbind_session)
            self._limits.start()
        if settings.loop_lag_interval_s > 0:
            self._lag = LoopLagSampler(
                loop,
                settings.loop_lag_interval_s,
                services.observer.loop_lag_sampled,
                summary_interval_s=settings.log_summary_interval_s,
            )
            self._lag.start()
        log.info(
            "event=connection_limits max_connections=%d max_connections_per_address=%d "
            "max_unbound_connections=%d",
            settings.max_connections,
            settings.max_connections_per_address,
            settings.max_unbound_connections,
        )
        for host, port in self.addresses:
            log.info("event=listening host=%s port=%d tls=false", host, port)
        for host, port in self.tls_addresses:
            log.info("event=listening host=%s port=%d tls=true", host, port)

    def _protocol_factory(
        self, services: ConnectionServices, *, tls: ssl.SSLContext | None
    ) -> Callable[[], asyncio.BaseProtocol]:
        """What each accepted connection of one listener starts with: the SMPP connection,
        or, with the PROXY protocol, the gate that reads the header first."""
        settings = self._settings
        proxy = settings.proxy
        is_tls = tls is not None
        if proxy is None:
            return lambda: SmppConnection(services, services.new_session_id(), tls=is_tls)
        gate = ProxyGate(
            services.loop,
            ProxyGateSettings(
                trusted=proxy.trusted,
                header_timeout_s=settings.session.session_init_s,
                tls_context=tls,
                tls_handshake_timeout_s=min(settings.session.session_init_s, _MAX_TLS_HANDSHAKE_S),
            ),
            lambda session_id, tls: SmppConnection(services, session_id, tls=tls),
            services.observer,
            services.seats,
        )
        self._gates.append(gate)
        return lambda: gate.protocol(services.new_session_id())

    # Not asyncio.timeout(): at the deadline connections are aborted, not cancelled.
    async def shutdown(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Graceful stop, bounded by `timeout` (default: settings.shutdown_timeout_s)."""
        if self._state is ServerState.UNSTARTED:
            self._state = ServerState.STOPPED
            return
        if self._state is not ServerState.SERVING:
            return
        self._state = ServerState.STOPPING
        services = self._services
        assert services is not None
        loop = services.loop
        timeout = self._settings.shutdown_timeout_s if timeout is None else timeout
        deadline = loop.time() + timeout
        self._close_listeners()
        connections = list(services.seats.connections)
        log.info(
            "event=shutdown_started connections=%d bound=%d timeout_s=%g",
            len(connections),
            len(self._registry),
            timeout,
        )
        results = await asyncio.gather(
            *(connection.shutdown(deadline) for connection in connections),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("event=shutdown_failed error=%r", result)
        if self._limits is not None:
            await self._limits.aclose()  # the sessions closed: their leases are released
        self._stop_watching()
        self._state = ServerState.STOPPED
        log.info("event=shutdown_done")

    def abort(self) -> None:
        """Stop at once: close the listeners and drop every connection, answered or not."""
        self._close_listeners()
        if self._services is not None:
            for connection in list(self._services.seats.connections):
                connection.abort()
        self._stop_watching()
        self._state = ServerState.STOPPED
        log.warning("event=aborted")

    def _unbind_session(self, system_id: str, session_id: str) -> None:
        """The cluster has more binds of the account than max_binds (a lease was lost)."""
        for session in self._registry.sessions(system_id):
            if session.context.session_id == session_id:
                session.unbind()

    def _close_listeners(self) -> None:
        for listener in (*self._listeners, *self._tls_listeners):
            listener.close()
        # Connections still at a PROXY gate have read no SMPP byte: nobody is owed anything.
        for gate in self._gates:
            gate.abort_pending()

    def _stop_watching(self) -> None:
        """Stop the lag sampler and the lease heartbeat; write the refusal summaries still
        pending."""
        if self._limits is not None:
            self._limits.stop()
        if self._lag is not None:
            self._lag.stop()  # kept: worst_loop_lag_s still reads after the stop
        if self._services is not None:
            self._services.seats.write_refusal_summaries()


def _addresses(listeners: Sequence[asyncio.Server]) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    for listener in listeners:
        for sock in listener.sockets:
            name = sock.getsockname()
            found.append((str(name[0]), int(name[1])))
    return tuple(found)
