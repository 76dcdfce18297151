"""What every connection of one server shares: settings, the two plugged-in deciders, the
registry of bound sessions, and the set of open connections with their caps (limits.py).

A connection holds a *seat* in the caps from the moment it is accepted until it is lost.
Usually the seat's holder is its `SmppConnection`; with the PROXY protocol it is first the
`ProxyHeaderProtocol` reading the header (proxied.py), which passes the seat on to the
`SmppConnection` it hands the socket to (`pass_on`), so the connection is counted, and can
be evicted, from its first moment, and keeps its age in the eviction order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol, assert_never

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


class Admitted(Protocol):
    """What holds a seat: an `SmppConnection`, or a connection still at the PROXY gate."""

    def abort(self) -> None:
        """Close at once (the seat is taken back to make room, limits.py Rule 4)."""
        ...


class _Seat:
    """One admitted connection's place in the counts: who holds it, and the address it is
    counted under (the peer's, or the client's a PROXY header named)."""

    __slots__ = ("connection", "holder", "peer")

    def __init__(self, holder: Admitted, peer: Peer) -> None:
        self.holder = holder
        self.peer = peer
        # The holder once it is an SmppConnection (then in `ConnectionServices.connections`).
        self.connection: SmppConnection | None = None


class ConnectionServices:
    """Connections read `authority` per bind, so a reload of its accounts applies to the next."""

    __slots__ = (
        "_next_id",
        "_refusals",
        "_seats",
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
        # The SMPP connections (those still at a PROXY gate hold a seat, but are not here).
        self.connections: set[SmppConnection] = set()
        self.limits = ConnectionLimits(
            ConnectionCaps(
                max_connections=settings.max_connections,
                max_connections_per_address=settings.max_connections_per_address,
                max_unbound_connections=settings.max_unbound_connections,
            )
        )
        self._refusals = RepeatedLog(loop, settings.log_summary_interval_s, self._write_summary)
        self._seats: dict[Admitted, _Seat] = {}
        # The seats of connections not bound yet, oldest first (the first to make room).
        self._unbound: dict[_Seat, None] = {}
        self._next_id = 0

    def new_session_id(self) -> str:
        """A short id that every log line of one connection carries (unique per process)."""
        self._next_id += 1
        return f"s{self._next_id}"

    def admit(self, connection: SmppConnection, peer: Peer) -> bool:
        """Count a new connection from `peer` in, unless a cap refuses it (counted, logged).

        A connection the PROXY gate handed on (`pass_on`) was counted as it was accepted: it
        keeps that seat, and the address it is counted under. When the cap in total or on
        unbound connections is reached, the oldest connection that has not bound is closed
        to make room (limits.py, Rule 4): a socket that sits there without binding can
        delay a new ESME, never lock it out.
        """
        seat = self._seats.get(connection)
        if seat is None:
            seat = self._take_seat(connection, peer)
            if seat is None:
                return False
        seat.connection = connection
        self.connections.add(connection)
        return True

    def admit_waiting(self, waiting: Admitted, peer: Peer) -> bool:
        """Count a connection still waiting for its PROXY header in, under the address that
        connected, like any new connection; False: refused (counted, logged)."""
        return self._take_seat(waiting, peer) is not None

    def pass_on(self, waiting: Admitted, successor: Admitted) -> None:
        """`successor` (the SMPP connection given the socket) takes `waiting`'s seat."""
        seat = self._seats.pop(waiting, None)
        if seat is not None:
            seat.holder = successor
            self._seats[successor] = seat

    def readdress(self, holder: Admitted, new: Peer) -> bool:
        """An admitted, unbound connection's real source address is `new` (a PROXY header
        named it): it is counted there from now on; False: that address is at its cap
        (counted, logged; the caller closes the connection)."""
        seat = self._seats.get(holder)
        if seat is None:
            return False
        refusal = self.limits.move(seat.peer.host, new.host)
        if refusal is not None:
            self.refused(refusal, new)
            return False
        seat.peer = new
        return True

    def bound(self, connection: SmppConnection) -> None:
        """An admitted connection's bind was accepted: it no longer counts as unbound, in
        total or under its address (limits.py, Rule 2)."""
        seat = self._seats.get(connection)
        if seat is not None and self._unbound.pop(seat, False) is None:
            self.limits.bound(seat.peer.host)

    def forget(self, holder: Admitted) -> None:
        """The connection is gone; release its seat if it holds one (not if it was refused,
        evicted, or handed on)."""
        seat = self._seats.get(holder)
        if seat is not None:
            self._release(seat)

    def _take_seat(self, holder: Admitted, peer: Peer) -> _Seat | None:
        refusal = self.limits.admit(peer.host)
        if refusal in _EVICTING and self._unbound:
            self._evict(next(iter(self._unbound)), refusal)
            refusal = self.limits.admit(peer.host)
        if refusal is not None:
            self.refused(refusal, peer)
            return None
        seat = _Seat(holder, peer)
        self._seats[holder] = seat
        self._unbound[seat] = None
        return seat

    def _release(self, seat: _Seat) -> None:
        del self._seats[seat.holder]
        if seat.connection is not None:
            self.connections.discard(seat.connection)
        bound = self._unbound.pop(seat, False) is not None
        self.limits.release(seat.peer.host, bound=bound)

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

    def _evict(self, victim: _Seat, refusal: Refusal) -> None:
        self._release(victim)
        self.refused(refusal, victim.peer, event="connection_evicted")
        victim.holder.abort()

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
