"""Who may hold a connection: caps on all connections, per source address, and unbound ones.

Rule 1: a connection is counted from the moment it is accepted until it is lost, under its
source address. Over `max_connections_per_address` from its address, over
`max_connections` in total, or over `max_unbound_connections` not yet bound, it is refused.
Rule 2: a bound connection no longer counts as unbound, so sockets that never bind (idle,
or guessing passwords) can hold at most `max_unbound_connections` of the slots, and bound
ESMEs keep the rest.
Rule 3: the source address can change once the real peer is known (a PROXY protocol header
names the ESME behind a load balancer): `move` counts the connection under the new address,
or refuses it when that address is already at its cap.

Rule 4 (applied by `ConnectionServices`, which knows the connections): when the total or
the unbound cap is reached, the oldest connection that has not bound is closed to make room,
so sockets that never bind can delay a new ESME but not lock it out. The per-address cap
only refuses: an address over it is the one flooding.

No sockets and no clock here: `ConnectionServices` asks, the connection reports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Refusal(enum.Enum):
    """Why a connection was refused (the log's `reason=` and the metric's `reason` label)."""

    MAX_CONNECTIONS = "max_connections"
    PER_ADDRESS = "max_connections_per_address"
    UNBOUND = "max_unbound_connections"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionCaps:
    max_connections: int
    max_connections_per_address: int
    max_unbound_connections: int


class ConnectionLimits:
    """Counts of open connections: in total, per source address, and not yet bound."""

    __slots__ = ("_by_address", "_caps", "_total", "_unbound")

    def __init__(self, caps: ConnectionCaps) -> None:
        self._caps = caps
        self._by_address: dict[str, int] = {}
        self._total = 0
        self._unbound = 0

    @property
    def total(self) -> int:
        return self._total

    @property
    def unbound(self) -> int:
        return self._unbound

    def from_address(self, address: str) -> int:
        return self._by_address.get(address, 0)

    def admit(self, address: str) -> Refusal | None:
        """Count a new, unbound connection from `address` in; or say why it is refused."""
        caps = self._caps
        if self._by_address.get(address, 0) >= caps.max_connections_per_address:
            return Refusal.PER_ADDRESS
        if self._total >= caps.max_connections:
            return Refusal.MAX_CONNECTIONS
        if self._unbound >= caps.max_unbound_connections:
            return Refusal.UNBOUND
        self._total += 1
        self._unbound += 1
        self._add(address, 1)
        return None

    def bound(self) -> None:
        """An admitted connection's bind was accepted (Rule 2)."""
        if self._unbound > 0:
            self._unbound -= 1

    def release(self, address: str, *, bound: bool) -> None:
        """An admitted connection is gone."""
        self._total -= 1
        if not bound:
            self._unbound -= 1
        self._add(address, -1)

    def move(self, old: str, new: str) -> Refusal | None:
        """Count an admitted connection under `new` instead of `old` (Rule 3); on a refusal
        it stays counted under `old`, and the caller closes it."""
        if old == new:
            return None
        if self._by_address.get(new, 0) >= self._caps.max_connections_per_address:
            return Refusal.PER_ADDRESS
        self._add(old, -1)
        self._add(new, 1)
        return None

    def _add(self, address: str, delta: int) -> None:
        count = self._by_address.get(address, 0) + delta
        if count > 0:
            self._by_address[address] = count
        else:
            # Forgotten at zero: the table holds only addresses with open connections.
            self._by_address.pop(address, None)
