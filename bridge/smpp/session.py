"""One SMPP 3.4 session, SMSC side, with no I/O: bytes and `now` in, events and bytes out.

Rule 1: the Session never reads a clock or touches a socket. The shell passes `now` with
every call, writes `data_to_send()` after each batch, closes the socket once `must_close`
is True and what was queued has been written, and calls `deadline_passed(now)` at
`next_deadline()`.
Rule 2: the Session answers everything the spec fully decides, at once and into the same
outbound buffer as the application's answers: enquire_link_resp, unbind_resp, generic_nack,
ESME_RINVBNDSTS, ESME_RALYBND, ESME_RTHROTTLED, and a bad body's own status. It still
emits an event for each, for logs and metrics. The application answers what business
decides: binds (`accept_bind` / `refuse_bind`) and requests (`send(resp)`).
Rule 3: a bad PDU costs one answer, not the session (SMPP frames every PDU by command_length,
so unlike HTTP/1.1 the stream stays usable). Only lost framing, a refused bind, a spent
budget of unknown command_ids, an unanswered enquire_link/unbind or an expired timer close it.
Rule 4: what a PDU does in a state is looked up in `table.py`; what is owed in either
direction is kept by `window.py`. This file only applies the rows it finds.

Theory of operation. `receive_data` only stores bytes in the splitter (b"" = the peer
closed). `next_event` first hands out queued events (timers, PeerClosed), then frames one PDU,
decodes it and applies its row: a request becomes an event (and maybe an answer), a response
is matched to the request of ours it answers. Decoding failures are mapped to a
RemoteProtocolError in one place (`table.judge_undecodable`) and answered in one place (`_reject`).
"""

from __future__ import annotations

import dataclasses
from typing import Final, assert_never

from bridge.pdu import (
    BindResp,
    CommandId,
    EnquireLinkResp,
    Pdu,
    PduError,
    PduSplitter,
    Unbind,
    UnbindResp,
    command_name,
    decode,
    encode,
    is_response,
)
from bridge.smpp.answers import bind_answer, error_answer
from bridge.smpp.errors import (
    InvalidCommandId,
    LocalProtocolError,
    RemoteProtocolError,
    ResponseMismatch,
    SendNotAllowed,
    WindowExceeded,
)
from bridge.smpp.events import (
    NEED_DATA,
    BindPdu,
    BindRequested,
    EnquireLinkReceived,
    Event,
    NeedData,
    PduRejected,
    PeerClosed,
    RequestPdu,
    RequestReceived,
    ResponseDropped,
    ResponseReceived,
    Throttled,
    TimerExpired,
    UnbindRequested,
)
from bridge.smpp.settings import SessionConfig
from bridge.smpp.states import BindType, CloseReason, SessionState, Timer
from bridge.smpp.table import (
    ANSWERED,
    BIND_ACCEPTED,
    BIND_REFUSED,
    BIND_TYPES,
    CLOSES_ON_TIMEOUT,
    INBOUND,
    OUTBOUND,
    POLICIES,
    STOPPED_WITHOUT_UNBIND,
    TIMER_RULES,
    UNANSWERED_REQUESTS,
    Action,
    Rule,
    judge_undecodable,
)
from bridge.smpp.timers import Deadlines
from bridge.smpp.window import IncomingWindow, OutgoingWindow

# Bound once: most requests are Action.REQUEST, and a member looked up on its enum class
# (a `case Action.X:` too) is slow on Python 3.11 (docs/performance-notes.md).
_REQUEST: Final = Action.REQUEST


class Session:
    """The SMSC side of one SMPP 3.4 connection (see the module docstring for the rules)."""

    __slots__ = (
        "_bind_type",
        "_bound_system_id",
        "_close_reason",
        "_config",
        "_deadlines",
        "_eof",
        "_events",
        "_incoming",
        "_now",
        "_outbox",
        "_outgoing",
        "_splitter",
        "_state",
        "_unknown_commands",
    )

    def __init__(self, config: SessionConfig, now: float) -> None:
        self._config = config
        self._state = SessionState.OPEN
        self._splitter = PduSplitter(config.max_pdu_size)
        self._incoming = IncomingWindow(config.window)
        self._outgoing = OutgoingWindow(config.window, config.response_timeout_s)
        self._outbox = bytearray()
        self._events: list[Event] = []
        self._now = now
        self._deadlines = Deadlines(config, now)
        self._unknown_commands = 0
        self._close_reason: CloseReason | None = None
        self._eof = False
        self._bind_type: BindType | None = None
        self._bound_system_id: str | None = None

    # --- what the shell reads -------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def must_close(self) -> bool:
        """Flush `data_to_send()`, then close the socket."""
        policy = POLICIES[self._state]
        return policy.closed or (policy.closes_when_drained and not self._incoming)

    @property
    def close_reason(self) -> CloseReason | None:
        return self._close_reason if self.must_close else None

    @property
    def bind_type(self) -> BindType | None:
        return self._bind_type

    @property
    def bound_system_id(self) -> str | None:
        return self._bound_system_id

    @property
    def window(self) -> int:
        """How many requests that carry traffic may await their answer at once, each way."""
        return self._config.window

    @property
    def answers_owed(self) -> int:
        """Requests of the peer (binds included) that still await the application's answer."""
        return len(self._incoming)

    @property
    def buffered_bytes(self) -> int:
        """Octets received and not yet turned into events (at most one max_pdu_size of an
        incomplete PDU once `next_event` has returned NEED_DATA)."""
        return self._splitter.buffered

    def unanswered_requests(self) -> tuple[Pdu, ...]:
        """Requests the bridge sent whose answer has not arrived (oldest first), e.g. the
        deliver_sm to retry elsewhere once the session has closed."""
        return self._outgoing.requests()

    def may_send(self, command_id: int) -> bool:
        """True when `send` would accept a request with this command_id right now."""
        return (self._state, command_id) in OUTBOUND and self._outgoing.has_room_for(command_id)

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        queued = bytes(self._outbox)
        self._outbox.clear()
        return queued

    # --- input ----------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Store bytes from the peer; b"" means the peer closed the connection."""
        self._now = now
        if not data:
            if not self._eof:
                self._eof = True
                self._events.append(PeerClosed())
                # Nobody can read an answer any more: complete PDUs still buffered are moot.
                self._close(CloseReason.PEER_CLOSED)
            return
        if POLICIES[self._state].reads_input:
            self._splitter.feed(data)

    def next_event(self) -> Event | NeedData:
        """The next event, or NEED_DATA when more bytes (or a deadline) are needed."""
        if self._events:
            return self._events.pop(0)
        if not POLICIES[self._state].reads_input:
            return NEED_DATA
        try:
            frame = self._splitter.next_frame()
        except PduError as err:
            return self._reject(judge_undecodable(self._state, err))
        if frame is None:
            return NEED_DATA
        self._deadlines.last_heard = self._now
        try:
            pdu = decode(frame)
        except PduError as err:
            if err.command_id is not None and is_response(err.command_id):
                return ResponseDropped(
                    command_id=err.command_id,
                    sequence_number=err.sequence_number or 0,
                    reason=f"undecodable: {err}",
                )
            return self._reject(judge_undecodable(self._state, err))
        if is_response(pdu.command_id):
            return self._on_response(pdu)
        try:
            return self._on_request(pdu)
        except RemoteProtocolError as err:
            return self._reject(err)

    # --- the application's answers --------------------------------------------------------

    def accept_bind(self, event: BindRequested, now: float) -> None:
        """Answer the bind with ESME_ROK: the session becomes BOUND_TX / BOUND_RX / BOUND_TRX."""
        self._now = now
        if not POLICIES[self._state].answers:
            return  # the session is over; nobody reads the answer
        bound = BIND_ACCEPTED.get((self._state, event.bind_type))
        if bound is None:
            raise SendNotAllowed(f"no bind awaits an answer in state {self._state.name}")
        pdu = event.pdu
        self._write_answer(
            bind_answer(
                pdu.command_id,
                pdu.sequence_number,
                0,
                self._config.our_system_id,
                pdu.interface_version,
            )
        )
        self._bind_type = event.bind_type
        self._bound_system_id = pdu.system_id
        self._deadlines.last_heard = now  # keepalive counts from the bind
        self._move(bound)

    def refuse_bind(self, event: BindRequested, command_status: int, now: float) -> None:
        """Answer the bind with this error status; the session then must close (the shell
        may hold the close back a little so the ESME reads the status first)."""
        self._now = now
        if command_status == 0:
            raise LocalProtocolError("a bind refusal needs a non-zero command_status")
        if not POLICIES[self._state].answers:
            return
        after = BIND_REFUSED.get(self._state)
        if after is None:
            raise SendNotAllowed(f"no bind awaits an answer in state {self._state.name}")
        pdu = event.pdu
        self._write_answer(
            bind_answer(
                pdu.command_id, pdu.sequence_number, command_status, self._config.our_system_id
            )
        )
        self._close(CloseReason.BIND_REFUSED, after)

    def send(self, pdu: Pdu, now: float) -> int:
        """Queue a PDU for the peer and return its sequence_number.

        A response answers an unanswered request of the peer, echoing its sequence_number
        (any order). A request (deliver_sm, data_sm, alert_notification, enquire_link,
        unbind) gets the next sequence number of ours and a response deadline.
        Raises LocalProtocolError for what SMPP does not allow (see errors.py).
        """
        self._now = now
        if is_response(pdu.command_id):
            if not POLICIES[self._state].answers:
                return pdu.sequence_number  # the session is over; nobody reads the answer
            if (
                isinstance(pdu, BindResp)
                or self._incoming.command_id_of(pdu.sequence_number) in BIND_TYPES
            ):
                raise ResponseMismatch("answer a bind with accept_bind or refuse_bind")
            self._write_answer(pdu)
            return pdu.sequence_number
        return self._send_request(pdu)

    def start_unbind(self, now: float) -> int | None:
        """End the session gracefully: unbind a bound session (then wait for unbind_resp
        within the response timer), close one that never bound. Returns the unbind's
        sequence_number, or None when no unbind was sent."""
        self._now = now
        if (self._state, CommandId.UNBIND) in OUTBOUND:
            return self._send_request(Unbind())
        after = STOPPED_WITHOUT_UNBIND.get(self._state)
        if after is not None:
            self._close(CloseReason.STOPPED, after)
        return None

    # --- timers ---------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When `deadline_passed` must next be called, or None when no timer runs."""
        policy = POLICIES[self._state]
        if policy.closed:
            return None
        timers = self._deadlines.next_deadline(policy, bool(self._incoming))
        responses = self._outgoing.next_deadline()
        return min((d for d in (timers, responses) if d is not None), default=None)

    def deadline_passed(self, now: float) -> None:
        """Act on the timers due at `now` (an early call does nothing), then drain events."""
        self._now = now
        if POLICIES[self._state].closed:
            return
        closing: CloseReason | None = None
        for request in self._outgoing.expire(now):
            if request.command_id == CommandId.ENQUIRE_LINK:
                self._deadlines.pinging = False
            self._events.append(TimerExpired(timer=Timer.RESPONSE, request=request))
            closing = closing or CLOSES_ON_TIMEOUT.get(request.command_id)
        if closing is not None:
            self._close(closing)
            return
        timer = self._deadlines.due(POLICIES[self._state], bool(self._incoming), now)
        if timer is not None:
            self._events.append(TimerExpired(timer=timer))
            rule = TIMER_RULES[timer]
            if rule.sends is not None:
                self._send_request(rule.sends())
            if rule.closes is not None:
                self._close(rule.closes)

    # --- inside ---------------------------------------------------------------------------

    def _on_request(self, pdu: Pdu) -> Event:
        rule: Rule | None = INBOUND.get((self._state, pdu.command_id))
        if rule is None:  # a request the codec knows and SMPP 3.4 does not define
            raise InvalidCommandId(
                f"{command_name(pdu.command_id)} is not a request an ESME sends",
                command_id=pdu.command_id,
                sequence_number=pdu.sequence_number,
            )
        sequence_number = pdu.sequence_number
        action = rule.action
        if action is _REQUEST:  # the usual one, before the match's member lookups
            self._incoming.admit(pdu.command_id, sequence_number)
            return RequestReceived(pdu=_as_request(pdu))
        match action:
            case Action.BIND:
                self._incoming.admit(pdu.command_id, sequence_number)
                self._move_to(rule)
                return BindRequested(pdu=_as_bind(pdu), bind_type=BIND_TYPES[pdu.command_id])
            case Action.ENQUIRE_LINK:
                self._write(EnquireLinkResp(sequence_number=sequence_number))
                return EnquireLinkReceived(sequence_number=sequence_number)
            case Action.UNBIND:
                self._write(UnbindResp(sequence_number=sequence_number))
                self._move_to(rule)
                return UnbindRequested(sequence_number=sequence_number)
            case Action.REFUSE:
                refusal = rule.refusal or InvalidCommandId
                raise refusal(
                    f"{command_name(pdu.command_id)} is not allowed in state {self._state.name}",
                    command_id=pdu.command_id,
                    sequence_number=sequence_number,
                )
            case _:
                assert_never(action)

    def _on_response(self, pdu: Pdu) -> Event:
        # SMPP 3.4 §4.3: a response is never answered, matched or not.
        request = self._outgoing.match(pdu.command_id, pdu.sequence_number)
        if request is None:
            waiting = self._outgoing.waiting_for(pdu.sequence_number)
            reason = (
                f"no request of ours has sequence_number {pdu.sequence_number}"
                if waiting is None
                else f"does not answer our {command_name(waiting.command_id)}"
            )
            return ResponseDropped(
                command_id=pdu.command_id, sequence_number=pdu.sequence_number, reason=reason
            )
        if request.command_id == CommandId.ENQUIRE_LINK:
            self._deadlines.pinging = False
        after = ANSWERED.get((self._state, request.command_id))
        if after is not None:
            self._move(after)
        return ResponseReceived(pdu=pdu, request=request)

    def _reject(self, err: RemoteProtocolError) -> Event:
        """The one place a peer's error is answered: its *_resp or generic_nack, then an event."""
        sequence_number = err.sequence_number or 0
        nack = not err.in_sync or isinstance(err, InvalidCommandId)
        self._write(
            error_answer(
                None if nack else err.command_id,
                sequence_number,
                err.command_status,
                self._config.our_system_id,
            )
        )
        if isinstance(err, WindowExceeded):
            return Throttled(command_id=err.command_id or 0, sequence_number=sequence_number)
        closing = not err.in_sync
        if closing:
            self._close(CloseReason.FRAMING_LOST)
        elif isinstance(err, InvalidCommandId):
            self._unknown_commands += 1
            if self._unknown_commands > self._config.max_unknown_commands:
                closing = True
                self._close(CloseReason.UNKNOWN_COMMANDS)
        return PduRejected(
            command_id=err.command_id,
            sequence_number=sequence_number,
            command_status=err.command_status,
            reason=err.message,
            closing=closing,
        )

    def _send_request(self, pdu: Pdu) -> int:
        after = OUTBOUND.get((self._state, pdu.command_id))
        if after is None:
            raise SendNotAllowed(
                f"the bridge may not send {command_name(pdu.command_id)}"
                f" in state {self._state.name}",
                command_id=pdu.command_id,
            )
        request = dataclasses.replace(pdu, sequence_number=self._outgoing.next_sequence_number())
        wire = self._encode(request)
        if request.command_id not in UNANSWERED_REQUESTS:
            self._outgoing.track(request, self._now)
        if request.command_id == CommandId.ENQUIRE_LINK:
            self._deadlines.pinging = True
        self._outbox += wire
        self._move(after)
        return request.sequence_number

    def _write_answer(self, pdu: Pdu) -> None:
        wire = self._encode(pdu)  # first, so a PDU that cannot be sent leaves nothing answered
        self._incoming.answer(pdu.command_id, pdu.sequence_number)
        self._outbox += wire

    def _write(self, pdu: Pdu) -> None:
        self._outbox += self._encode(pdu)

    def _encode(self, pdu: Pdu) -> bytes:
        try:
            return encode(pdu)
        except PduError as err:
            raise LocalProtocolError(
                f"cannot encode {command_name(pdu.command_id)}: {err}",
                command_status=err.command_status,
                command_id=pdu.command_id,
                sequence_number=pdu.sequence_number,
            ) from err

    def _move_to(self, rule: Rule) -> None:
        if rule.next_state is not None:
            self._move(rule.next_state)

    def _move(self, state: SessionState) -> None:
        if state is not self._state:
            self._state = state
            self._deadlines.entered_at = self._now
            entry_reason = POLICIES[state].close_reason
            if entry_reason is not None:
                self._close_reason = entry_reason

    def _close(self, reason: CloseReason, state: SessionState = SessionState.CLOSED) -> None:
        if not POLICIES[self._state].closed:
            self._close_reason = reason
        self._move(state)


def _as_bind(pdu: Pdu) -> BindPdu:
    # The table only routes the three bind ids to Action.BIND, and the codec decodes each
    # to its class; this narrows the type for mypy and fails loudly if either ever changes.
    if not isinstance(pdu, BindPdu):
        raise TypeError(f"{type(pdu).__name__} is not a bind")
    return pdu


def _as_request(pdu: Pdu) -> RequestPdu:
    if not isinstance(pdu, RequestPdu):
        raise TypeError(f"{type(pdu).__name__} is not a request handed to the application")
    return pdu
