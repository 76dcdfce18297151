"""The seats of one server's open connections, counted against the caps of limits.py.

A connection holds a *seat* from the moment it is accepted until it is lost. Usually the
seat's holder is its `SmppConnection`; with the PROXY protocol it is first the
`ProxyHeaderProtocol` reading the header (proxied.py), which passes the seat on to the
`SmppConnection` it hands the socket to (`pass_on`), so the connection is counted, and can
be evicted, from its first moment, and keeps its age in the eviction order.

Holders are known only by the small Protocols below, so this module imports neither the
connection nor the PROXY gate.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, assert_never

from bridge.server.eventlog import RepeatedLog
from bridge.server.handlers import Peer, SessionContext
from bridge.server.limits import ConnectionCaps, ConnectionLimits, ConnectionRefusal
from bridge.server.observer import ConnectionObserver
from bridge.server.settings import ServerSettings

# Refusals are a connection's story: they are logged under the connection's logger.
log = logging.getLogger("bridge.server.connection")

# Caps that make room by closing the oldest unbound connection instead of refusing the new.
_EVICTING = frozenset({ConnectionRefusal.MAX_CONNECTIONS, ConnectionRefusal.UNBOUND})


class Admitted(Protocol):
    """What holds a seat: an `SmppConnection`, or a connection still at the PROXY gate."""

    def abort(self) -> None:
        """Close at once (the seat is taken back to make room, limits.py Rule 4)."""
        ...


class ServedConnection(Admitted, Protocol):
    """An SMPP connection holding a seat, as the server stops it (`SmppConnection`)."""

    async def shutdown(self, deadline: float) -> None:
        """Graceful stop, bounded by `deadline` (loop time)."""
        ...

    @property
    def bound(self) -> bool: ...

    @property
    def context(self) -> SessionContext:
        """Who is bound (only once `bound`)."""
        ...

    @property
    def requests_in_flight(self) -> int: ...

    def activity(self) -> tuple[float, float, int, int]:
        """(bound at, last bytes in: loop times; requests handed up, deliver_sm sent)."""
        ...


class _Seat:
    """One admitted connection's place in the counts: who holds it, and the address it is
    counted under (the peer's, or the client's a PROXY header named)."""

    __slots__ = ("connection", "holder", "peer")

    def __init__(self, holder: Admitted, peer: Peer) -> None:
        self.holder = holder
        self.peer = peer
        # The holder once it is an SMPP connection (then in `ConnectionSeats.connections`).
        self.connection: ServedConnection | None = None


class ConnectionSeats:
    """Who holds a connection of this server, and which caps a new one would break."""

    __slots__ = (
        "_loop",
        "_observer",
        "_refusals",
        "_seats",
        "_settings",
        "_unbound",
        "connections",
        "limits",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: ServerSettings,
        observer: ConnectionObserver,
    ) -> None:
        self._loop = loop
        self._settings = settings
        self._observer = observer
        # The SMPP connections (those still at a PROXY gate hold a seat, but are not here).
        self.connections: set[ServedConnection] = set()
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

    def admit(self, connection: ServedConnection, peer: Peer) -> bool:
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

    def bound(self, connection: Admitted) -> None:
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

    def refused(
        self, refusal: ConnectionRefusal, peer: Peer, *, event: str = "connection_refused"
    ) -> None:
        """Count a refused (or evicted) connection; log the first per reason in full, then
        one summary line per interval, so a flood of connections cannot flood the log too."""
        self._observer.connection_refused(refusal, peer)
        if self._refusals.in_full(f"{event} {refusal.value}", self._loop.time()):
            log.warning(
                "event=%s peer=%s reason=%s limit=%d",
                event,
                peer,
                refusal.value,
                self._cap(refusal),
            )

    def write_refusal_summaries(self) -> None:
        """Write every refusal summary still pending (the server stops)."""
        self._refusals.flush(final=True)

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

    def _evict(self, victim: _Seat, refusal: ConnectionRefusal) -> None:
        self._release(victim)
        self.refused(refusal, victim.peer, event="connection_evicted")
        victim.holder.abort()

    def _write_summary(self, name: str, count: int) -> None:
        event, _, reason = name.partition(" ")
        log.warning(
            "event=%s_summary reason=%s count=%d seconds=%g",
            event,
            reason,
            count,
            self._refusals.interval_s,
        )

    def _cap(self, refusal: ConnectionRefusal) -> int:
        settings = self._settings
        match refusal:
            case ConnectionRefusal.MAX_CONNECTIONS:
                return settings.max_connections
            case ConnectionRefusal.PER_ADDRESS:
                return settings.max_connections_per_address
            case ConnectionRefusal.UNBOUND:
                return settings.max_unbound_connections
            case _:
                assert_never(refusal)
