"""The bound sessions of the whole server, by system_id, oldest bind first.

Three users: the bind authority counts an account's binds (max_binds), the pipeline pushes
deliver_sm (receipts) to a receiver or transceiver session of the account, and a config
reload unbinds the sessions of removed accounts. Per system_id the sessions sit in a dict,
which keeps insertion order, so "oldest bind first" costs nothing.

Failures of `deliver` are builtin exception types (subclassed here), because the pipeline
may not import `bridge.server`: `LookupError` when no receiver is bound (hold the receipt),
`ConnectionError` when it was sent but not confirmed (retry, bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bridge.pdu import DataSm, DeliverSm, Pdu
from bridge.server.handlers import SessionContext, SessionListener

log = logging.getLogger(__name__)


class NoReceiverBound(LookupError):
    """No receiver or transceiver session of this system_id can take a deliver_sm now."""


class ReceiverBusy(LookupError):
    """This session cannot take a deliver_sm now (its window of our requests is full, or it
    is unbinding); the registry tries the next one."""


class DeliveryNotConfirmed(ConnectionError):
    """The request went out, but the session closed or its response timer ran out first."""


class RegisteredSession(Protocol):
    """What the registry needs of a bound connection (`SmppConnection` is one)."""

    @property
    def context(self) -> SessionContext: ...

    @property
    def takes_deliveries(self) -> bool:
        """Bound as receiver or transceiver, and not unbinding or closing."""
        ...

    @property
    def delivery_window(self) -> int:
        """How many deliver_sm may await their response at once on this session."""
        ...

    async def send_request(self, pdu: Pdu) -> Pdu:
        """Send a request the bridge originates and wait for its response.

        Raises ReceiverBusy when it cannot be sent now (nothing went out), and
        DeliveryNotConfirmed when the session ends or the response timer expires first.
        """
        ...

    def unbind(self) -> None:
        """Start an unbind initiated by the bridge (SMPP 3.4 §4.2)."""
        ...


class SessionRegistry:
    __slots__ = ("_by_system_id", "_listeners")

    def __init__(self) -> None:
        self._by_system_id: dict[str, dict[str, RegisteredSession]] = {}
        self._listeners: list[SessionListener] = []

    def subscribe(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def add(self, session: RegisteredSession) -> None:
        context = session.context
        self._by_system_id.setdefault(context.system_id, {})[context.session_id] = session
        for listener in self._listeners:
            _notify(listener.session_bound, context)

    def remove(self, session: RegisteredSession) -> None:
        context = session.context
        sessions = self._by_system_id.get(context.system_id)
        if sessions is None or sessions.pop(context.session_id, None) is None:
            return
        if not sessions:
            del self._by_system_id[context.system_id]
        for listener in self._listeners:
            _notify(listener.session_closed, context)

    def count(self, system_id: str) -> int:
        return len(self._by_system_id.get(system_id, ()))

    def __len__(self) -> int:
        return sum(len(sessions) for sessions in self._by_system_id.values())

    def sessions(self, system_id: str) -> tuple[RegisteredSession, ...]:
        """The system_id's bound sessions, oldest bind first."""
        return tuple(self._by_system_id.get(system_id, {}).values())

    def system_ids(self) -> frozenset[str]:
        return frozenset(self._by_system_id)

    def delivery_window(self, system_id: str) -> int:
        """How many deliver_sm may be in flight to the account at once: the windows of its
        sessions that take deliveries, added up."""
        return sum(
            session.delivery_window
            for session in self._by_system_id.get(system_id, {}).values()
            if session.takes_deliveries
        )

    async def deliver(self, system_id: str, pdu: DeliverSm | DataSm) -> Pdu:
        """Send a deliver_sm (or data_sm) to the account's oldest receiver; return its response.

        The response may carry an error status (the ESME refused it); that is the ESME's
        answer and is returned, not raised. Raises NoReceiverBound (a LookupError) when
        nobody can take it now, DeliveryNotConfirmed (a ConnectionError) when it went out
        but no response came back.
        """
        for session in self.sessions(system_id):
            if not session.takes_deliveries:
                continue
            try:
                return await session.send_request(pdu)
            except ReceiverBusy:
                continue
        raise NoReceiverBound(f"no receiver or transceiver of {system_id!r} can take it now")

    def unbind_where(self, predicate: Callable[[str], bool]) -> int:
        """Unbind every session whose system_id matches (a reload removed its account)."""
        doomed = [
            session
            for system_id, sessions in self._by_system_id.items()
            if predicate(system_id)
            for session in sessions.values()
        ]
        for session in doomed:
            session.unbind()
        return len(doomed)


def _notify(callback: Callable[[SessionContext], None], context: SessionContext) -> None:
    # A listener's bug must not take the session down with it; log it once and go on.
    try:
        callback(context)
    except Exception:
        log.exception(
            "event=listener_failed session=%s callback=%s",
            context.session_id,
            getattr(callback, "__qualname__", "?"),
        )
