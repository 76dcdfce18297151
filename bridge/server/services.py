"""What every connection of one server shares: settings, the two plugged-in deciders, the
registry of bound sessions, and the set of open connections (bounded by max_connections)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.server.cluster import SharedLimits
from bridge.server.handlers import BindAuthority, SubmitHandler
from bridge.server.observer import ConnectionObserver, NoConnectionObserver
from bridge.server.registry import SessionRegistry
from bridge.server.settings import ServerSettings

if TYPE_CHECKING:
    from bridge.server.connection import SmppConnection


class ConnectionServices:
    """Connections read `authority` per bind, so a reload of its accounts applies to the next."""

    __slots__ = (
        "_next_id",
        "authority",
        "connections",
        "handler",
        "limits",
        "loop",
        "observer",
        "registry",
        "settings",
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
        limits: SharedLimits | None = None,
    ) -> None:
        self.loop = loop
        # max_binds and throughput across a cluster; None: this process alone counts.
        self.limits = limits
        self.settings = settings
        self.authority = authority
        self.handler = handler
        self.registry = registry
        self.observer: ConnectionObserver = (
            observer if observer is not None else NoConnectionObserver()
        )
        self.connections: set[SmppConnection] = set()
        self._next_id = 0

    def new_session_id(self) -> str:
        """A short id that every log line of one connection carries (unique per process)."""
        self._next_id += 1
        return f"s{self._next_id}"

    def admit(self, connection: SmppConnection) -> bool:
        """Count a new connection in, unless max_connections are open already."""
        if len(self.connections) >= self.settings.max_connections:
            return False
        self.connections.add(connection)
        return True

    def forget(self, connection: SmppConnection) -> None:
        self.connections.discard(connection)
