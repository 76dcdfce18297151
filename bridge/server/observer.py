"""`ConnectionObserver`: what every connection reports as it works, for metrics.

Like httpx's event hooks: the server calls it with its own values (session events, bind
decisions, answers, the bytes it writes) and never imports a metrics library; the
application plugs in an implementation (bridge.app.metrics.observers). Bound sessions are
reported to `SessionListener`s of the `SessionRegistry` instead. Calls happen on the event
loop for every PDU, so an implementation must be quick and must not raise.
"""

from __future__ import annotations

from typing import Protocol

from bridge.pdu import Pdu
from bridge.server.handlers import BindAttempt, BindVerdict, Peer, SessionContext, SubmitRequest
from bridge.server.limits import ConnectionRefusal
from bridge.server.proxied import ProxyOutcome
from bridge.smpp import Event


class ConnectionObserver(Protocol):
    def event_received(self, context: SessionContext | None, event: Event) -> None:
        """The session reported `event` (a PDU received, a window-full refusal, a timer);
        `context` is None before the bind is accepted."""
        ...

    def bind_decided(self, attempt: BindAttempt, verdict: BindVerdict) -> None:
        """A bind was judged (accepted, refused, or refused because the server is stopping)."""
        ...

    def request_throttled(
        self, context: SessionContext, request: SubmitRequest, parts: int
    ) -> None:
        """The account's throughput limit refused `request` (answered ESME_RTHROTTLED)."""
        ...

    def request_answered(
        self,
        context: SessionContext,
        request: SubmitRequest,
        response: Pdu,
        elapsed_s: float | None,
    ) -> None:
        """`response` was queued for `request`; `elapsed_s` from its arrival when the
        handler answered it, None when the server refused it at once."""
        ...

    def pdus_sent(self, data: bytes) -> None:
        """`data`, whole PDUs, was written to a connection."""
        ...

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        """A connection from `peer` was closed as soon as it was accepted, for `reason`."""
        ...

    def loop_lag_sampled(self, lag_s: float) -> None:
        """The event loop ran a due timer `lag_s` seconds late (a sample, a few per second)."""
        ...

    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        """A connection's PROXY protocol header was judged (proxy_protocol on)."""
        ...


class NoConnectionObserver:
    """The default: observes nothing."""

    __slots__ = ()

    def event_received(self, context: SessionContext | None, event: Event) -> None:
        return None

    def bind_decided(self, attempt: BindAttempt, verdict: BindVerdict) -> None:
        return None

    def request_throttled(
        self, context: SessionContext, request: SubmitRequest, parts: int
    ) -> None:
        return None

    def request_answered(
        self,
        context: SessionContext,
        request: SubmitRequest,
        response: Pdu,
        elapsed_s: float | None,
    ) -> None:
        return None

    def pdus_sent(self, data: bytes) -> None:
        return None

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        return None

    def loop_lag_sampled(self, lag_s: float) -> None:
        return None

    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        return None
