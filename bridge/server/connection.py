"""One TCP (or TLS) connection: socket bytes <-> `bridge.smpp.Session`, and nothing more.

Theory of operation (after aiohttp's `web_protocol.py`):
- Bytes go into `Session.receive_data`; events come out and are dispatched with `match`.
  The session already answered everything the spec decides; this shell answers only what
  the application decides: binds (`BindAuthority`) and requests (`SubmitHandler`, one task
  each, in a set bounded by the session's window and cancelled when the connection ends).
- Fair reading: per event-loop turn a connection handles at most one `ReadBudget` of
  events (budget.py). What is left waits, with reading paused, for the next turn; every
  reason to pause reading is kept by the connection's `ReadGate` (reading.py).
- Output is drained from `Session.data_to_send()` in one place, `_flush`: once per
  slice of input handled, once per event-loop turn in which tasks completed, once per
  timer tick.
- Timers: ONE `loop.call_at` handle (timer.py), aimed at the earliest of the session's
  deadline and the shell's own two (a held-back bind refusal, the delayed close after a
  refusal).
- Backpressure: when the ESME stops reading our answers (`pause_writing`), we stop reading
  (and handling) its requests until the buffer drains, so nobody can make us queue answers
  without bound.
- The source address: `peer_address(transport)` when the connection is made, replaced by
  `readdress(peer)` when the real one is learned later (a PROXY protocol header). Caps per
  address, a bind's allowed_ips and auth slowdown, and every log line use `self._peer`.
- Our own requests (deliver_sm, data_sm) wait for their responses in `AwaitedResponses`
  (awaited.py).
- Repeating log events (window full, throughput exceeded) are written once per interval in
  full and otherwise summed into one `<event>_summary` line (eventlog.RepeatedEvents).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVarTuple, assert_never, cast

from bridge.pdu import (
    CommandStatus,
    Pdu,
    command_name,
)
from bridge.server.awaited import AwaitedResponses
from bridge.server.budget import SPENT
from bridge.server.eventlog import RepeatedLog, SessionLog, status_label
from bridge.server.handlers import (
    BindAttempt,
    BindVerdict,
    Peer,
    SessionContext,
    peer_address,
)
from bridge.server.reading import BUDGET, CLAIMING, REFUSED, SHUTDOWN, WRITE_BACKLOG, ReadGate
from bridge.server.registry import ReceiverBusy
from bridge.server.requests import RequestRunner
from bridge.server.services import ConnectionServices
from bridge.server.timer import ConnectionTimer
from bridge.smpp import (
    NEED_DATA,
    BindRequested,
    EnquireLinkReceived,
    PduRejected,
    PeerClosed,
    RequestReceived,
    ResponseDropped,
    ResponseReceived,
    Session,
    SessionState,
    Throttled,
    Timer,
    TimerExpired,
    UnbindRequested,
    WindowFull,
)

log = logging.getLogger(__name__)

_Args = TypeVarTuple("_Args")

_BOUND_STATES = frozenset({SessionState.BOUND_TX, SessionState.BOUND_RX, SessionState.BOUND_TRX})
_RECEIVING_STATES = frozenset({SessionState.BOUND_RX, SessionState.BOUND_TRX})


class SmppConnection(asyncio.Protocol):
    __slots__ = (
        "_activity",
        "_awaited",
        "_close_at",
        "_closed",
        "_context",
        "_flush_soon",
        "_gate",
        "_log",
        "_peer",
        "_pending_refusal",
        "_repeats",
        "_requests",
        "_services",
        "_session",
        "_session_id",
        "_stopping",
        "_timer",
        "_tls",
        "_transport",
    )

    def __init__(self, services: ConnectionServices, session_id: str, *, tls: bool) -> None:
        self._services = services
        self._session_id = session_id
        self._tls = tls
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        self._peer = Peer(host="?", port=0)
        self._log = SessionLog(log, session_id, "?")
        self._context: SessionContext | None = None
        self._requests: RequestRunner | None = None
        self._awaited = AwaitedResponses(services.loop)
        self._timer = ConnectionTimer(services.loop, self._on_timer)
        self._gate = ReadGate(services.loop, services.settings.read_budget, self._next_turn)
        self._flush_soon = False
        self._pending_refusal: tuple[BindRequested, BindVerdict, float] | None = None
        self._close_at: float | None = None
        self._stopping = False
        self._repeats = RepeatedLog(
            services.loop, services.settings.log_summary_interval_s, self._write_summary
        )
        self._closed: asyncio.Future[None] = services.loop.create_future()
        # Loop times of the bind and of the last bytes in; requests handed up; deliveries sent.
        self._activity = [0.0, 0.0, 0, 0]

    # --- what the registry and the server see -----------------------------------------------

    @property
    def context(self) -> SessionContext:
        if self._context is None:
            raise RuntimeError("the session is not bound")
        return self._context

    @property
    def takes_deliveries(self) -> bool:
        session = self._session
        return (
            session is not None
            and not self._stopping
            and self._transport is not None
            and not self._transport.is_closing()
            and session.state in _RECEIVING_STATES
        )

    @property
    def delivery_window(self) -> int:
        """How many deliver_sm this session may have unanswered at once (its window)."""
        session = self._session
        return 0 if session is None else session.window

    @property
    def peer(self) -> Peer:
        """The source address every cap, bind check and log line of this connection uses."""
        return self._peer

    @property
    def open(self) -> bool:
        # Once connection_lost ran (_closed), requests left to finish answer no one.
        transport = self._transport
        return (
            self._session is not None
            and transport is not None
            and not transport.is_closing()
            and not self._closed.done()
        )

    @property
    def requests_in_flight(self) -> int:
        return 0 if self._requests is None else len(self._requests.tasks)

    @property
    def bound(self) -> bool:
        return self._context is not None

    def activity(self) -> tuple[float, float, int, int]:
        """(bound at, last bytes in: loop times; requests handed up, deliver_sm sent)."""
        bound_at, last_at, requests, deliveries = self._activity
        return float(bound_at), float(last_at), int(requests), int(deliveries)

    def answers_queued(self) -> None:
        """A request task queued its answer: write it out once this turn of the event loop
        is over, so the answers of every task completed in the same turn (their iSMS replies
        arrive together) leave in one write rather than one system call each."""
        if not self._flush_soon:
            self._flush_soon = True
            self._services.loop.call_soon(self._flush_answers)

    def _flush_answers(self) -> None:
        self._flush_soon = False
        self._flush()
        self._arm_timer()

    def log_in_full(self, name: str, now: float) -> bool:
        """True when this occurrence of the repeating log event `name` is to be written in
        full; otherwise it was counted into the interval's `<name>_summary` line."""
        return self._repeats.in_full(name, now)

    def readdress(self, peer: Peer) -> bool:
        """The real source address, learned after connecting (a PROXY protocol header names
        the ESME behind a load balancer). From now on the per-address cap, the bind's
        allowed_ips and auth slowdown, and every log line use it. False when that address
        is already at its cap: the connection is then closed at once."""
        if self._context is not None:
            raise RuntimeError("a bound connection's source address cannot change")
        if self._session is None or not self._services.seats.readdress(self, peer):
            self.abort()
            return False
        self._peer = peer
        self._log = SessionLog(log, self._session_id, str(peer))
        return True

    async def send_request(self, pdu: Pdu) -> Pdu:
        """Send a request of ours (deliver_sm, data_sm) and wait for the ESME's response."""
        session = self._session
        if session is None or not self.takes_deliveries:
            raise ReceiverBusy(f"session {self._session_id} is not taking deliveries")
        loop = self._services.loop
        try:
            sequence_number = session.send(pdu, loop.time())
        except WindowFull as exc:
            raise ReceiverBusy(f"session {self._session_id}: {exc}") from exc
        waiter = self._awaited.expect(sequence_number)
        self._activity[3] += 1
        self._log.event(
            logging.DEBUG, "request_sent", pdu=command_name(pdu.command_id), seq=sequence_number
        )
        self._flush()
        self._arm_timer()
        try:
            return await waiter
        finally:
            self._awaited.forget(sequence_number)

    def unbind(self) -> None:
        """Unbind initiated by the bridge: unbind now, close on unbind_resp or the response
        timer (SMPP 3.4 §4.2); a session that never bound is just closed."""
        session = self._session
        if session is None or self._transport is None or self._transport.is_closing():
            return
        now = self._services.loop.time()
        if session.start_unbind(now) is not None:
            self._log.event(logging.INFO, "unbind_sent")
        self._flush()
        self._arm_timer()

    async def shutdown(self, deadline: float) -> None:
        """Graceful stop: finish in-flight requests, unbind, wait for unbind_resp, close.

        Everything waits at most until `deadline` (loop time); then the connection is aborted.
        """
        loop = self._services.loop
        self._stopping = True
        session, transport = self._session, self._transport
        if session is None or transport is None or transport.is_closing():
            await self._wait_closed(deadline)
            return
        if session.state not in _BOUND_STATES:
            self.unbind()  # never bound: closes at once
        else:
            # No new requests while the owed answers are finished (they are answered below).
            self._gate.pause(SHUTDOWN)
            if self._requests is not None:
                await self._requests.finish(deadline - loop.time())
            if not transport.is_closing() and session.state in _BOUND_STATES:
                self.unbind()
            # Read again: the unbind_resp has to come in, and enquire_link is still answered.
            self._gate.resume(SHUTDOWN)
        await self._wait_closed(deadline)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (asyncio's or uvloop's; uvloop's do not subclass asyncio.Transport).
        transport = cast(asyncio.Transport, transport)
        services = self._services
        self._transport = transport
        self._gate.attach(transport)
        self._peer = peer_address(transport)
        self._log = SessionLog(log, self._session_id, str(self._peer))
        if not services.seats.admit(self, self._peer):
            transport.abort()  # counted and logged by admit
            return
        now = services.loop.time()
        self._session = Session(services.settings.session, now=now)
        self._log.event(logging.INFO, "connected", tls=self._tls or None)
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        if self._session is not None:
            self._guarded(self._receive, data)

    def eof_received(self) -> bool:
        if self._session is not None:
            self._guarded(self._receive, b"")  # b"": the peer closed (Session.receive_data)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        services = self._services
        self._timer.cancel()
        self._repeats.flush(final=True)
        self._awaited.closed(f"session {self._session_id} closed")
        owed = self._requests.cancel() if self._requests is not None else 0
        if self._context is not None:
            services.registry.remove(self)
        if services.shared is not None:
            services.shared.release_soon(self._session_id)  # a lease or a claim in flight
        if self._session is not None:
            reason = self._session.close_reason
            self._log.event(
                logging.INFO,
                "closed",
                reason=reason.value if reason is not None else "connection_lost",
                error=str(exc) if exc is not None else None,
                unanswered=owed or None,
            )
        services.seats.forget(self)
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._gate.pause(WRITE_BACKLOG)

    def resume_writing(self) -> None:
        self._gate.resume(WRITE_BACKLOG)

    # --- events ----------------------------------------------------------------------------

    def _guarded(self, step: Callable[[*_Args], None], *args: *_Args) -> None:
        """Run one piece of socket or timer work. A bug on our side must cost this connection
        only, with one clear log line; unguarded, a timer's exception would also leave the
        session with no timer, never to time out."""
        try:
            step(*args)
        except Exception:
            self._log.exception("session_failed")
            self.abort()

    def _receive(self, data: bytes) -> None:
        session = self._session
        assert session is not None
        now = self._services.loop.time()
        session.receive_data(data, now)
        self._activity[1] = now
        if data and self._gate.budget_spent:
            return  # bytes a TLS layer had already decrypted: the next turn handles them
        self._process(now)
        self._flush()
        self._arm_timer()

    def _next_turn(self) -> None:
        """A new loop turn, and the input left over from the last one (ReadGate)."""
        if self.open:
            self._guarded(self._carry_on)

    def _carry_on(self) -> None:
        now = self._services.loop.time()
        self._process(now)
        self._flush()
        self._arm_timer()

    def _process(self, now: float) -> None:
        """Handle the session's events within this turn's budget; when it is spent, pause
        reading and carry on next turn (`_next_turn`)."""
        session = self._session
        assert session is not None
        turn = self._gate.turn()
        observer = self._services.observer
        while (event := turn.next_event(session)) is not NEED_DATA:
            if event is SPENT:
                self._gate.pause(BUDGET)
                return
            observer.event_received(self._context, event)
            match event:
                case BindRequested():
                    self._on_bind(event, now)
                case RequestReceived():
                    assert self._requests is not None  # handed up only once bound
                    self._activity[2] += 1
                    self._requests.start(event.pdu, now)
                case ResponseReceived():
                    self._on_response(event.request, event.pdu)
                case Throttled():
                    # A client ignoring the window gets one of these per PDU it sends.
                    if self.log_in_full("window_full", now):
                        self._log.note(event)
                case (
                    ResponseDropped()
                    | EnquireLinkReceived()
                    | UnbindRequested()
                    | PduRejected()
                    | PeerClosed()
                ):
                    self._log.note(event)
                case TimerExpired():
                    self._on_timer_expired(event)
                case _:
                    assert_never(event)
        self._gate.resume(BUDGET)

    def _on_bind(self, event: BindRequested, now: float) -> None:
        services = self._services
        pdu = event.pdu
        attempt = BindAttempt(
            session_id=self._session_id,
            peer=self._peer,
            bind_type=event.bind_type,
            system_id=pdu.system_id,
            password=pdu.password,
            system_type=pdu.system_type,
            interface_version=pdu.interface_version,
        )
        if self._stopping:
            verdict = BindVerdict(
                command_status=CommandStatus.ESME_RBINDFAIL, reason="server is stopping"
            )
        else:
            try:
                verdict = services.authority.decide(
                    attempt, services.registry.count(pdu.system_id), now
                )
            except Exception:
                self._log.exception("bind_authority_failed", system_id=pdu.system_id)
                verdict = BindVerdict(
                    command_status=CommandStatus.ESME_RSYSERR, reason="internal error"
                )
        if verdict.accepted and services.shared is not None and not self._stopping:
            # Across a cluster max_binds is a lease in the shared store: the answer waits.
            self._gate.pause(CLAIMING)
            services.shared.claim_soon(
                pdu.system_id,
                self._session_id,
                lambda verdict: self._guarded(self._decided, event, attempt, verdict),
            )
            return
        self._decided(event, attempt, verdict)

    def _decided(self, event: BindRequested, attempt: BindAttempt, verdict: BindVerdict) -> None:
        self._gate.resume(CLAIMING)  # if the cluster's lease was asked; a refusal pauses again
        self._services.observer.bind_decided(attempt, verdict)
        now = self._services.loop.time()
        if verdict.accepted:
            self._accept(event, now)
        elif verdict.answer_delay_s > 0:
            # Held back: guessing passwords from one address gets slower.
            self._gate.pause(REFUSED)
            self._pending_refusal = (event, verdict, now + verdict.answer_delay_s)
        else:
            self._refuse(event, verdict, now)
        self._flush()
        self._arm_timer()

    def _accept(self, event: BindRequested, now: float) -> None:
        session = self._session
        assert session is not None
        session.accept_bind(event, now)
        self._activity[0] = now
        self._context = SessionContext(
            session_id=self._session_id,
            peer=self._peer,
            system_id=event.system_id,
            bind_type=event.bind_type,
            tls=self._tls,
        )
        self._log.bind_accepted(event)
        services = self._services
        self._requests = RequestRunner(
            self,
            session,
            self._context,
            self._log,
            loop=services.loop,
            handler=services.handler,
            authority=services.authority,
            shared=services.shared,
            observer=services.observer,
            log_bodies=services.settings.log_bodies,
        )
        services.registry.add(self)
        services.seats.bound(self)

    def _refuse(self, event: BindRequested, verdict: BindVerdict, now: float) -> None:
        session = self._session
        assert session is not None
        session.refuse_bind(event, verdict.command_status, now)
        self._log.bind_refused(
            event, verdict.command_status, verdict.reason, verdict.answer_delay_s
        )
        # SMPP 3.4 §4.1: nothing is left to do but close; the delay lets the ESME read the
        # status before the connection goes.
        self._gate.pause(REFUSED)
        self._close_at = now + self._services.settings.bind_failure_delay_s

    def _on_response(self, request: Pdu, response: Pdu) -> None:
        self._awaited.answered(request, response)
        level = logging.DEBUG if response.command_status == 0 else logging.INFO
        self._log.event(
            level,
            "response_received",
            pdu=command_name(response.command_id),
            seq=response.sequence_number,
            status=status_label(response.command_status),
        )

    def _on_timer_expired(self, event: TimerExpired) -> None:
        if event.timer is Timer.RESPONSE and event.request is not None:
            self._awaited.timed_out(event.request)
        self._log.note(event)

    # --- output, timers, flow control ------------------------------------------------------

    def _flush(self) -> None:
        session, transport = self._session, self._transport
        if session is None or transport is None or transport.is_closing():
            return
        data = session.data_to_send()
        if data:
            transport.write(data)
            self._services.observer.pdus_sent(data)
        if session.must_close and self._close_at is None:
            self._close()

    def _close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            # close() flushes what is buffered first; abort() would drop it.
            self._transport.close()

    def _arm_timer(self) -> None:
        session = self._session
        if session is None or self._transport is None or self._transport.is_closing():
            return
        deadline = session.next_deadline()
        for own in (self._close_at, self._pending_refusal[2] if self._pending_refusal else None):
            if own is not None and (deadline is None or own < deadline):
                deadline = own
        if deadline is not None:
            self._timer.aim(deadline)

    def _on_timer(self) -> None:
        self._guarded(self._timer_fired)

    def _timer_fired(self) -> None:
        session = self._session
        if session is None or self._transport is None or self._transport.is_closing():
            return
        now = self._timer.due_time()
        if self._pending_refusal is not None and self._pending_refusal[2] <= now:
            event, verdict, _at = self._pending_refusal
            self._pending_refusal = None
            self._refuse(event, verdict, now)
        session.deadline_passed(now)
        self._process(now)
        self._flush()
        if self._close_at is not None and self._close_at <= now:
            self._close()
            return
        self._arm_timer()

    def _write_summary(self, name: str, count: int) -> None:
        """How many of a repeating event in its interval were not written in full."""
        self._log.event(
            logging.INFO, f"{name}_summary", count=count, seconds=self._repeats.interval_s
        )

    async def _wait_closed(self, deadline: float) -> None:
        remaining = deadline - self._services.loop.time()
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), timeout=max(0.0, remaining))
        except TimeoutError:
            self._log.event(logging.WARNING, "shutdown_abort", reason="shutdown timeout")
            self.abort()
            await self._closed
