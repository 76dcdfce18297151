"""bridge.smpp: the sans-I/O SMPP 3.4 session (SMSC side), and who may bind.

Nothing here reads a clock or touches a socket: time comes in as `now`, bytes come in
through `Session.receive_data` and go out through `Session.data_to_send`. The shape agreed
with bridge/server (session-api), as built:

    s = Session(SessionConfig(...), now=loop.time())
    s.receive_data(chunk, now)              # b"" = the peer closed (-> PeerClosed, CLOSED)
    while (ev := s.next_event()) is not NEED_DATA:     # NEED_DATA: a NeedData enum member
        match ev:
            case BindRequested():           # .pdu (BindPdu), .bind_type (BindType), .system_id
                s.accept_bind(ev, now)  or  s.refuse_bind(ev, CommandStatus.ESME_RINVPASWD, now)
            case RequestReceived():         # .pdu (RequestPdu); later, in any order:
                ...                         # s.send(SubmitSmResp(sequence_number=..., ...), now)
            case ResponseReceived():        # .pdu answers .request (our deliver_sm, ...)
            case TimerExpired():            # .timer (Timer), .request for Timer.RESPONSE
            case _: ...                     # EnquireLinkReceived, UnbindRequested, Throttled,
                                            # PduRejected, ResponseDropped, PeerClosed: for logs
    transport.write(s.data_to_send())       # once per batch / per completed answer
    if s.must_close: close once written     # s.close_reason says why (CloseReason)
    s.next_deadline() -> float | None       # then at that time: s.deadline_passed(now) and
                                            # drain next_event() / data_to_send() again

Refinements of the agreed shape:
- `send(pdu, now) -> int` returns the sequence_number: the echoed one for a response, the
  one assigned for a request of ours (1..0x7FFFFFFF, wrapping). `may_send(command_id)` says
  beforehand whether a request would be accepted (bind type, state, our window).
- `start_unbind(now) -> int | None`: the unbind's sequence_number; None when no unbind goes
  out (a session that never bound is simply closed; one already unbinding is left alone).
- After the session closed (peer gone, bind refused, framing lost, timers), answers and bind
  decisions are dropped quietly instead of raising: they race with the peer, they are not
  bugs. Requests of ours raise SendNotAllowed. `unanswered_requests()` lists the requests of
  ours never answered (deliver_sm to retry later); `answers_owed` counts what the
  application still owes the peer; `buffered_bytes` what the splitter holds.
- After the ESME's unbind (UNBOUND), answers still owed go out; `must_close` turns True once
  none is owed, or after response_timeout_s (Timer.UNBOUND_DRAIN).
- Remote errors never escape `next_event()`: each is answered and reported as PduRejected
  (or Throttled). LocalProtocolError (SendNotAllowed, UnknownSequenceNumber,
  ResponseMismatch, WindowFull) is raised for the application's own mistakes.

`table.py` holds the whole policy; `window.py` the unanswered requests in both directions;
`timers.py` the §7.2 deadlines; `answers.py` the shape of the session's own answers, and
`error_answer`, the one builder of a request's error answer (the server's and the
pipeline's too).
"""

from bridge.smpp.answers import error_answer
from bridge.smpp.auth import (
    BIND_TYPES,
    AccountChanges,
    AccountPolicy,
    Authenticator,
    BindDecision,
    BindRefusal,
)
from bridge.smpp.errors import (
    AlreadyBound,
    DuplicateSequenceNumber,
    InvalidBindStatus,
    InvalidCommandId,
    InvalidCommandLength,
    LocalProtocolError,
    MalformedPdu,
    ProtocolError,
    RemoteProtocolError,
    ResponseMismatch,
    SendNotAllowed,
    SmppError,
    UnknownSequenceNumber,
    WindowExceeded,
    WindowFull,
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
from bridge.smpp.session import Session
from bridge.smpp.settings import SessionConfig
from bridge.smpp.states import BindType, CloseReason, SessionState, Timer
from bridge.smpp.throttle import AccountThrottles, ThrottledAccount, TokenBucket, default_burst

__all__: list[str] = [
    "BIND_TYPES",
    "NEED_DATA",
    "AccountChanges",
    "AccountPolicy",
    "AccountThrottles",
    "AlreadyBound",
    "Authenticator",
    "BindDecision",
    "BindPdu",
    "BindRefusal",
    "BindRequested",
    "BindType",
    "CloseReason",
    "DuplicateSequenceNumber",
    "EnquireLinkReceived",
    "Event",
    "InvalidBindStatus",
    "InvalidCommandId",
    "InvalidCommandLength",
    "LocalProtocolError",
    "MalformedPdu",
    "NeedData",
    "PduRejected",
    "PeerClosed",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestPdu",
    "RequestReceived",
    "ResponseDropped",
    "ResponseMismatch",
    "ResponseReceived",
    "SendNotAllowed",
    "Session",
    "SessionConfig",
    "SessionState",
    "SmppError",
    "ThrottledAccount",
    "Throttled",
    "Timer",
    "TimerExpired",
    "TokenBucket",
    "UnbindRequested",
    "UnknownSequenceNumber",
    "WindowExceeded",
    "WindowFull",
    "default_burst",
    "error_answer",
]
