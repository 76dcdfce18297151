"""What every connection of one server shares: settings, the two plugged-in deciders, the
registry of bound sessions, and the set of open connections with their caps (limits.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, assert_never

from bridge.server.cluster import SharedLimits
from bridge.server.eventlog import RepeatedLog
from bridge.server.handlers import BindAuthority, Peer, SubmitHandler
from bridge.server.limits import ConnectionCaps, ConnectionLimits, Refusal
from bridge.server.observer import ConnectionObserver, NoConnectionObserver
from bridge.server.registry import SessionRegistry
from bridge.server.settings import ServerSettings

if TYPE_CHECKING:
    from bridge.server.connection import SmppConnection

log = logging.getLogger("bridge.server.connection")

# Caps that make room by closing the oldest unbound connection instead of refusing the new.
_EVICTING = frozenset({Refusal.MAX_CONNECTIONS, Refusal.UNBOUND})


class ConnectionServices:
    """Connections read `authority` per bind, so a reload of its accounts applies to the next."""

    __slots__ = (
        "_next_id",
        "_refusals",
        "_unbound",
        "authority",
        "connections",
        "handler",
        "limits",
        "loop",
        "observer",
        "registry",
        "settings",
        "shared",
    )

    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        settings: ServerSettings,
        authority: BindAuthority,
        handler: SubmitHandler,
        registry: SessionRegistry,
        observer: ConnectionObserver | None = None,
        shared: SharedLimits | None = None,
    ) -> None:
        self.loop = loop
        # max_binds and throughput across a cluster; None: this process alone counts.
        self.shared = shared
        self.settings = settings
        self.authority = authority
        self.handler = handler
        self.registry = registry
        self.observer: ConnectionObserver = (
            observer if observer is not None else NoConnectionObserver()
        )
        self.connections: set[SmppConnection] = set()
        self.limits = ConnectionLimits(
            ConnectionCaps(
                max_connections=settings.max_connections,
                max_connections_per_address=settings.max_connections_per_address,
                max_unbound_connections=settings.max_unbound_connections,
            )
        )
        self._refusals = RepeatedLog(loop, settings.log_summary_interval_s, self._write_summary)
        # Admitted connections not bound yet, oldest first (the first to make room).
        self._unbound: dict[SmppConnection, None] = {}
        self._next_id = 0

    def new_session_id(self) -> str:
        """A short id that every log line of one connection carries (unique per process)."""
        self._next_id += 1
        return f"s{self._next_id}"

    def admit(self, connection: SmppConnection, peer: Peer) -> bool:
        """Count a new connection from `peer` in, unless a cap refuses it (counted, logged).

        When the cap in total or on unbound connections is reached, the oldest connection
        that has not bound is closed to make room (limits.py, Rule 4): a socket that sits
        there without binding can delay a new ESME, never lock it out.
        """
        refusal = self.limits.admit(peer.host)
        if refusal in _EVICTING and self._unbound:
            self._evict(next(iter(self._unbound)), refusal)
            refusal = self.limits.admit(peer.host)
        if refusal is None:
            self.connections.add(connection)
            self._unbound[connection] = None
            return True
        self.refused(refusal, peer)
        return False

    def readdress(self, old: Peer, new: Peer) -> bool:
        """An admitted connection's real source address is `new` (not the proxy's `old`)."""
        refusal = self.limits.move(old.host, new.host)
        if refusal is None:
            return True
        self.refused(refusal, new)
        return False

    def bound(self, connection: SmppConnection) -> None:
        """An admitted connection's bind was accepted: it no longer counts as unbound."""
        if self._unbound.pop(connection, False) is None:
            self.limits.bound()

    def forget(self, connection: SmppConnection, peer: Peer, *, bound: bool) -> None:
        """The connection is gone; release its counts if it was admitted."""
        if connection in self.connections:
            self.connections.discard(connection)
            self._unbound.pop(connection, None)
            self.limits.release(peer.host, bound=bound)

    def refused(self, refusal: Refusal, peer: Peer, *, event: str = "connection_refused") -> None:
        """Count a refused (or evicted) connection; log the first per reason in full, then
        one summary line per interval, so a flood of connections cannot flood the log too."""
        self.observer.connection_refused(refusal, peer)
        if self._refusals.in_full(f"{event} {refusal.value}", self.loop.time()):
            log.warning(
                "event=%s peer=%s reason=%s limit=%d",
                event,
                peer,
                refusal.value,
                self._cap(refusal),
            )

    def _evict(self, victim: SmppConnection, refusal: Refusal) -> None:
        del self._unbound[victim]
        self.connections.discard(victim)
        self.limits.release(victim.peer.host, bound=False)
        self.refused(refusal, victim.peer, event="connection_evicted")
        victim.abort()

    def write_refusal_summaries(self) -> None:
        """Write every refusal summary still pending (the server stops)."""
        self._refusals.flush(final=True)

    def _write_summary(self, name: str, count: int) -> None:
        event, _, reason = name.partition(" ")
        log.warning(
            "event=%s_summary reason=%s count=%d seconds=%g",
            event,
            reason,
            count,
            self._refusals.interval_s,
        )

    def _cap(self, refusal: Refusal) -> int:
        settings = self.settings
        match refusal:
            case Refusal.MAX_CONNECTIONS:
                return settings.max_connections
            case Refusal.PER_ADDRESS:
                return settings.max_connections_per_address
            case Refusal.UNBOUND:
                return settings.max_unbound_connections
            case _:
                assert_never(refusal)
