"""The whole session policy, as data: what each PDU does in each state, in both directions.

Rule 1: everything that decides what a PDU does in a state lives in this file. The Session
looks rows up and acts on the row's `Action`; it never tests `state == ...` itself.
Rule 2: a lookup miss *is* the answer. A command_id with no row in INBOUND is unknown to
SMPP 3.4: generic_nack ESME_RINVCMDID, counted against the unknown-command budget. A PDU the
bridge wants to send with no row in OUTBOUND is a LocalProtocolError (SendNotAllowed).
Rule 3: the bridge is always the SMSC side. PDUs only an SMSC originates (outbind,
alert_notification, deliver_sm) are rows too, so the ESME gets a defined answer for them.

Theory of operation. A connection starts OPEN. A bind moves it to BINDING while the
application judges the credentials; its answer moves it to BOUND_TX / BOUND_RX / BOUND_TRX
(accepted) or CLOSED (refused: SMPP 3.4 §4.1 leaves nothing else to do). Either side may
unbind: the ESME's unbind is answered at once and leads to UNBOUND; the bridge's leads to
UNBINDING until unbind_resp (or the response timer). UNBOUND still sends the answers it owes,
then closes. Responses from the peer are never answered in any state (§4.3); they are matched
to the bridge's own requests by sequence_number in `window.py`, which has no state rules.

Inbound matrix (a request from the ESME; `-` = its own *_resp with ESME_RINVBNDSTS 0x04):

    request              OPEN  BINDING BOUND_TX BOUND_RX BOUND_TRX UNBINDING UNBOUND
    bind_*               bind  ALYBND  ALYBND   ALYBND   ALYBND    ALYBND    ALYBND
    submit_sm, submit_multi, data_sm, query_sm, cancel_sm, replace_sm
                         -     -       app      -        app       -         -
    deliver_sm           -     -       -        -        -         -         -
    enquire_link         resp  resp    resp     resp     resp      resp      resp
    unbind               -     -       unbind   unbind   unbind    unbind    -
    outbind, alert_notification   generic_nack ESME_RINVCMDID 0x03 in every state

CLOSED reads nothing: bytes that arrive after the session decided to close are dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.pdu import CommandId, EnquireLink, Pdu, PduError, Unbind
from bridge.smpp.errors import (
    AlreadyBound,
    InvalidBindStatus,
    InvalidCommandId,
    InvalidCommandLength,
    MalformedPdu,
    RemoteProtocolError,
)
from bridge.smpp.states import BindType, CloseReason, SessionState, Timer

OPEN = SessionState.OPEN
BINDING = SessionState.BINDING
BOUND_TX = SessionState.BOUND_TX
BOUND_RX = SessionState.BOUND_RX
BOUND_TRX = SessionState.BOUND_TRX
UNBINDING = SessionState.UNBINDING
UNBOUND = SessionState.UNBOUND
CLOSED = SessionState.CLOSED


class Action(enum.Enum):
    BIND = "bind"  # hand the bind to the application: BindRequested
    REQUEST = "request"  # hand it to the application if the window has room: RequestReceived
    ENQUIRE_LINK = "enquire_link"  # answer enquire_link_resp at once (SMPP 3.4 §4.11)
    UNBIND = "unbind"  # answer unbind_resp at once (SMPP 3.4 §4.2)
    REFUSE = "refuse"  # answer with the refusal's status at once


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    next_state: SessionState | None = None  # None: the state does not change
    refusal: type[RemoteProtocolError] | None = None  # for Action.REFUSE


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePolicy:
    """What a state does besides judging PDUs.

    reads_input: PDUs are processed (False: bytes are dropped). answers: responses and bind
    answers the application sends go out (False: dropped, the session is over). session_init:
    the session_init timer runs. keepalive: the enquire_link and inactivity timers run.
    closes_when_drained: the session must close once no answer is owed. closed: the session
    is over; the shell flushes what is queued and closes the socket.
    """

    reads_input: bool = True
    answers: bool = True
    session_init: bool = False
    keepalive: bool = False
    closes_when_drained: bool = False
    closed: bool = False
    close_reason: CloseReason | None = None  # recorded on entry, reported once must_close


POLICIES: dict[SessionState, StatePolicy] = {
    OPEN: StatePolicy(session_init=True),
    BINDING: StatePolicy(session_init=True),
    BOUND_TX: StatePolicy(keepalive=True),
    BOUND_RX: StatePolicy(keepalive=True),
    BOUND_TRX: StatePolicy(keepalive=True),
    UNBINDING: StatePolicy(),
    UNBOUND: StatePolicy(closes_when_drained=True, close_reason=CloseReason.UNBOUND),
    CLOSED: StatePolicy(reads_input=False, answers=False, closed=True),
}

# --- inbound: (state, command_id of a request from the ESME) -> Rule ----------------------

_BIND = Rule(Action.BIND, BINDING)
_ALYBND = Rule(Action.REFUSE, refusal=AlreadyBound)  # SMPP 3.4 §4.1: one bind per session
_NOT_NOW = Rule(Action.REFUSE, refusal=InvalidBindStatus)
_APP = Rule(Action.REQUEST)
_PING = Rule(Action.ENQUIRE_LINK)
_UNBIND = Rule(Action.UNBIND, UNBOUND)
# SMPP 3.4 §4.3: generic_nack for an "unknown or invalid command_id". outbind (§4.1.7) and
# alert_notification (§4.12) are SMSC->ESME only and have no *_resp, so from an ESME they
# are invalid command_ids; they get the same answer.
_NACK = Rule(Action.REFUSE, refusal=InvalidCommandId)

_COLUMNS = (OPEN, BINDING, BOUND_TX, BOUND_RX, BOUND_TRX, UNBINDING, UNBOUND)
# SMPP 3.4 §2.2 and Table 2-1 (smpp-brief §2): a transmitter submits, a receiver only
# receives (its submits get 0x04), a transceiver does both.
_SUBMITTING = (_NOT_NOW, _NOT_NOW, _APP, _NOT_NOW, _APP, _NOT_NOW, _NOT_NOW)
_MATRIX: dict[CommandId, tuple[Rule, ...]] = {
    # one Rule per state, in _COLUMNS order: OPEN BINDING TX RX TRX UNBINDING UNBOUND
    CommandId.BIND_TRANSMITTER: (_BIND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND),
    CommandId.BIND_RECEIVER: (_BIND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND),
    CommandId.BIND_TRANSCEIVER: (_BIND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND, _ALYBND),
    CommandId.SUBMIT_SM: _SUBMITTING,
    CommandId.SUBMIT_MULTI: _SUBMITTING,
    CommandId.DATA_SM: _SUBMITTING,
    CommandId.QUERY_SM: _SUBMITTING,
    CommandId.CANCEL_SM: _SUBMITTING,
    CommandId.REPLACE_SM: _SUBMITTING,
    # deliver_sm is SMSC->ESME (SMPP 3.4 §4.6); it has a *_resp, so it gets its own 0x04.
    CommandId.DELIVER_SM: (_NOT_NOW,) * 7,
    # SMPP 3.4 lists enquire_link for bound states; 5.0 §4.1.2 adds open and unbound. An
    # answer costs nothing and keeps pinging clients happy; it never resets session_init.
    CommandId.ENQUIRE_LINK: (_PING,) * 7,
    # SMPP 3.4 §4.2: unbind needs a bind. Crossing unbinds (UNBINDING) are both answered.
    CommandId.UNBIND: (_NOT_NOW, _NOT_NOW, _UNBIND, _UNBIND, _UNBIND, _UNBIND, _NOT_NOW),
    CommandId.OUTBIND: (_NACK,) * 7,
    CommandId.ALERT_NOTIFICATION: (_NACK,) * 7,
}

INBOUND: dict[tuple[SessionState, int], Rule] = {
    (state, command_id): rule
    for command_id, row in _MATRIX.items()
    for state, rule in zip(_COLUMNS, row, strict=True)
}


def judge_undecodable(state: SessionState, err: PduError) -> RemoteProtocolError:
    """What a PDU the codec refused is, in this state (SMPP 3.4 §4.3):
    a lost frame (generic_nack 0x02, close); an unknown command_id (generic_nack 0x03);
    a request this state refuses anyway (its refusal, whatever the body says); or a bad
    body of an allowed request (its own *_resp with the codec's status)."""
    command_id, sequence_number = err.command_id, err.sequence_number
    if not err.in_sync:
        return InvalidCommandLength(
            err.message,
            command_status=err.command_status,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    rule = None if command_id is None else INBOUND.get((state, command_id))
    if rule is None:
        return InvalidCommandId(err.message, command_id=command_id, sequence_number=sequence_number)
    if rule.action is Action.REFUSE:
        refusal = rule.refusal or InvalidCommandId
        return refusal(
            f"{err.message} (and not allowed now)",
            command_id=command_id,
            sequence_number=sequence_number,
        )
    return MalformedPdu(
        err.message,
        command_status=err.command_status,
        command_id=command_id,
        sequence_number=sequence_number,
    )


# --- outbound: (state, command_id of a request the bridge sends) -> state after it ------

_RECEIVING = (BOUND_RX, BOUND_TRX)
_BOUND = (BOUND_TX, BOUND_RX, BOUND_TRX)
OUTBOUND: dict[tuple[SessionState, int], SessionState] = {
    # SMPP 3.4 §2.2: deliver_sm, data_sm and alert_notification go to receivers only.
    **{(s, CommandId.DELIVER_SM): s for s in _RECEIVING},
    **{(s, CommandId.DATA_SM): s for s in _RECEIVING},
    **{(s, CommandId.ALERT_NOTIFICATION): s for s in _RECEIVING},
    **{(s, CommandId.ENQUIRE_LINK): s for s in _BOUND},
    **{(s, CommandId.UNBIND): UNBINDING for s in _BOUND},
}

# Requests that need no answer (SMPP 3.4 §4.12: alert_notification has no *_resp).
UNANSWERED_REQUESTS: frozenset[int] = frozenset({CommandId.ALERT_NOTIFICATION})

# Requests that keep the link itself alive: outside the window, and a timeout closes.
CLOSES_ON_TIMEOUT: dict[int, CloseReason] = {
    CommandId.ENQUIRE_LINK: CloseReason.ENQUIRE_LINK_TIMEOUT,
    CommandId.UNBIND: CloseReason.UNBIND_TIMEOUT,  # SMPP 3.4 §4.2 / §7.2: close anyway
}

# (state, command_id of the bridge's request that was answered) -> state after the answer.
ANSWERED: dict[tuple[SessionState, int], SessionState] = {
    (UNBINDING, CommandId.UNBIND): UNBOUND,
}

# --- what a timer does when it falls due (SMPP 3.4 §7.2) ----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerRule:
    closes: CloseReason | None = None  # close the session for this reason
    sends: type[Pdu] | None = None  # or send this request (through OUTBOUND, like any other)


TIMER_RULES: dict[Timer, TimerRule] = {
    Timer.SESSION_INIT: TimerRule(closes=CloseReason.SESSION_INIT_TIMEOUT),  # drop it
    Timer.ENQUIRE_LINK: TimerRule(sends=EnquireLink),  # interrogate the peer
    Timer.INACTIVITY: TimerRule(sends=Unbind),  # "close the session or issue an unbind"
    Timer.UNBOUND_DRAIN: TimerRule(closes=CloseReason.UNBOUND_DRAIN_TIMEOUT),
}

# --- the application's answer to a bind (only while BINDING) -----------------------------

BIND_TYPES: dict[int, BindType] = {
    CommandId.BIND_TRANSMITTER: BindType.TRANSMITTER,
    CommandId.BIND_RECEIVER: BindType.RECEIVER,
    CommandId.BIND_TRANSCEIVER: BindType.TRANSCEIVER,
}
BIND_ACCEPTED: dict[tuple[SessionState, BindType], SessionState] = {
    (BINDING, BindType.TRANSMITTER): BOUND_TX,
    (BINDING, BindType.RECEIVER): BOUND_RX,
    (BINDING, BindType.TRANSCEIVER): BOUND_TRX,
}
# SMPP 3.4 §4.1: a refused bind leaves the session nothing to do but close.
BIND_REFUSED: dict[SessionState, SessionState] = {BINDING: CLOSED}

# Graceful stop (`Session.start_unbind`) of a session with no bind to end: just close.
# Bound states send unbind instead (OUTBOUND); UNBINDING/UNBOUND are already ending.
STOPPED_WITHOUT_UNBIND: dict[SessionState, SessionState] = {OPEN: CLOSED, BINDING: CLOSED}
