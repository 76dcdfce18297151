"""What every SMPP connection of one server shares: the loop, the settings, the two
plugged-in deciders, the registry of bound sessions, the observer, the seats counted against
the connection caps (seats.py), and the cluster's shared limits when there is a cluster.

Only the connection takes this whole; what it starts gets the parts it needs (the
`RequestRunner` its handler, throughput meters and observer; the PROXY gate the seats).
"""

from __future__ import annotations

import asyncio

from bridge.server.handlers import BindAuthority, SubmitHandler
from bridge.server.observer import ConnectionObserver, NoConnectionObserver
from bridge.server.registry import SessionRegistry
from bridge.server.seats import ConnectionSeats
from bridge.server.settings import ServerSettings
from bridge.server.shared_limits import SharedLimits


class ConnectionServices:
    """Connections read `authority` per bind, so a reload of its accounts applies to the next."""

    __slots__ = (
        "_next_id",
        "authority",
        "handler",
        "loop",
        "observer",
        "registry",
        "seats",
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
        self.seats = ConnectionSeats(loop, settings, self.observer)
        self._next_id = 0

    def new_session_id(self) -> str:
        """A short id that every log line of one connection carries (unique per process)."""
        self._next_id += 1
        return f"s{self._next_id}"
