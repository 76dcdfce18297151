"""Who may hold a connection: caps on all connections, on unbound ones, and on unbound ones
per source address.

Rule 1: a connection is counted from the moment it is accepted until it is lost: in total,
as unbound, and as unbound under its source address. A new one is refused when its address
already has `max_connections_per_address` unbound connections, when `max_connections` are
open in total, or when `max_unbound_connections` are not yet bound (checked in that order).
Rule 2: a connection whose bind is accepted leaves both unbound counts (the one in total and
the one of its address) and stays in the total until it is lost. So the per-address cap
limits what one address can hold *without having authenticated*: an application server may
hold as many bound sessions as its accounts' `max_binds` allow (hundreds from one address),
while idle or password-guessing sockets from one address stop at the cap. Bound sessions are
limited by each account's `max_binds` (the bind authority) and by `max_connections`.
Rule 3: the source address can change once the real peer is known (a PROXY protocol header
names the ESME behind a load balancer): `move` counts the unbound connection under the new
address, or refuses it when that address is already at its cap. Until then the connection
counts under the address that connected (the balancer's): that is all that is known of it,
and a trusted balancer sends its header at once (HAProxy writes it as it connects), so what
waits for a header there is the balancer misbehaving or some other host in `proxy_trusted`;
it must not hold more than any other address. Once the header names the client, whatever
the connection does next (stays idle, never finishes its TLS handshake) is charged to the
client, so one client behind the balancer cannot use up the balancer's slots.
The price: an address that opens more than the cap at once, before any of them has bound
(or a balancer relaying more than the cap whose headers are not read yet), has the excess
refused, and those ESMEs connect again. Size the cap above such a burst.

Rule 4 (applied by `ConnectionSeats`, which knows the connections): when the total or
the unbound cap is reached, the oldest connection that has not bound (one still waiting for
its PROXY header included) is closed to make room, so sockets that never bind can delay a
new ESME but not lock it out. The per-address cap only refuses: an address over it is the
one flooding, and making it close its own sockets would only let it churn the others.

No sockets and no clock here: `ConnectionSeats` (seats.py) asks, the connection reports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ConnectionRefusal(enum.Enum):
    """Why a connection was refused (the log's `reason=` and the metric's `reason` label)."""

    MAX_CONNECTIONS = "max_connections"
    PER_ADDRESS = "max_connections_per_address"
    UNBOUND = "max_unbound_connections"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionCaps:
    """`max_connections_per_address` counts the connections of one address not yet bound."""

    max_connections: int
    max_connections_per_address: int
    max_unbound_connections: int


class ConnectionLimits:
    """Counts of open connections: in total, not yet bound, and not yet bound per address."""

    __slots__ = ("_caps", "_total", "_unbound", "_unbound_by_address")

    def __init__(self, caps: ConnectionCaps) -> None:
        self._caps = caps
        self._unbound_by_address: dict[str, int] = {}
        self._total = 0
        self._unbound = 0

    @property
    def total(self) -> int:
        return self._total

    @property
    def unbound(self) -> int:
        return self._unbound

    def unbound_from(self, address: str) -> int:
        """Connections from `address` that have not bound (what its cap counts)."""
        return self._unbound_by_address.get(address, 0)

    def admit(self, address: str) -> ConnectionRefusal | None:
        """Count a new, unbound connection from `address` in; or say why it is refused."""
        caps = self._caps
        if self.unbound_from(address) >= caps.max_connections_per_address:
            return ConnectionRefusal.PER_ADDRESS
        if self._total >= caps.max_connections:
            return ConnectionRefusal.MAX_CONNECTIONS
        if self._unbound >= caps.max_unbound_connections:
            return ConnectionRefusal.UNBOUND
        self._total += 1
        self._unbound += 1
        self._add(address, 1)
        return None

    def bound(self, address: str) -> None:
        """An admitted connection from `address` bound (Rule 2): it leaves both unbound counts."""
        self._unbound -= 1
        self._add(address, -1)

    def release(self, address: str, *, bound: bool) -> None:
        """An admitted connection is gone (`address`: where it was last counted)."""
        self._total -= 1
        if not bound:
            self._unbound -= 1
            self._add(address, -1)

    def move(self, old: str, new: str) -> ConnectionRefusal | None:
        """Count an admitted, unbound connection under `new` instead of `old` (Rule 3); on a
        refusal it stays counted under `old`, and the caller closes it."""
        if old == new:
            return None
        if self.unbound_from(new) >= self._caps.max_connections_per_address:
            return ConnectionRefusal.PER_ADDRESS
        self._add(old, -1)
        self._add(new, 1)
        return None

    def _add(self, address: str, delta: int) -> None:
        count = self._unbound_by_address.get(address, 0) + delta
        if count > 0:
            self._unbound_by_address[address] = count
        else:
            # Forgotten at zero: the table holds only addresses with unbound connections.
            self._unbound_by_address.pop(address, None)
