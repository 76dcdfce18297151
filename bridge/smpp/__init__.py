"""bridge.smpp: the sans-I/O SMPP 3.4 session (SMSC side), and who may bind.

Nothing here reads a clock or touches a socket: time comes in as `now`, bytes come in
through `Session.receive_data` and go out through `Session.data_to_send`. Shape (agreed with
bridge/server, see session.py for the rules):

    s = Session(SessionConfig(...), now=loop.time())
    s.receive_data(chunk, now)              # b"" = the peer closed
    while (ev := s.next_event()) is not NEED_DATA:
        match ev:
            case BindRequested(): s.accept_bind(ev, now) or s.refuse_bind(ev, status, now)
            case RequestReceived(): ...     # later: s.send(<its *_resp>, now)
            case _: ...                     # informational; the session already answered
    transport.write(s.data_to_send()); if s.must_close: close after flushing
    s.next_deadline() -> float | None; s.deadline_passed(now), then drain events again.

`table.py` holds the whole policy; `window.py` the unanswered requests in both directions.
"""

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
]
