"""What `Session.next_event()` returns: small immutable values, named for what happened.

Two kinds (after h2's PING handling):
- Events the application must act on: `BindRequested` (answer with `accept_bind` or
  `refuse_bind`) and `RequestReceived` (answer later with `send(resp)`).
- Everything else is for logs and metrics: the session has already queued whatever answer
  the spec fully decides (enquire_link_resp, unbind_resp, generic_nack, ESME_RINVBNDSTS,
  ESME_RALYBND, ESME_RTHROTTLED) or decided to close (`Session.must_close`).

`NEED_DATA` says "feed me more bytes (or a passed deadline)"; it is an enum member, so
`ev is NEED_DATA` narrows types for mypy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CancelSm,
    DataSm,
    Pdu,
    QuerySm,
    ReplaceSm,
    SubmitMulti,
    SubmitSm,
)
from bridge.smpp.states import BindType, Timer

# The requests a bound ESME hands to the application (SMPP 3.4 §4.4-§4.10).
RequestPdu = SubmitSm | SubmitMulti | DataSm | QuerySm | CancelSm | ReplaceSm
BindPdu = BindTransmitter | BindReceiver | BindTransceiver


class NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRequested:
    """A bind arrived in OPEN; answer it with `Session.accept_bind` or `refuse_bind`.
    The password is in `pdu` and never in its repr."""

    pdu: BindPdu
    bind_type: BindType

    @property
    def system_id(self) -> str:
        return self.pdu.system_id


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived:
    """A request allowed in this bind and within the window; answer it with
    `Session.send(<its *_resp>)` echoing `pdu.sequence_number`, in any order."""

    pdu: RequestPdu


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived:
    """The peer answered `request`, one the bridge sent (deliver_sm, data_sm, enquire_link,
    unbind). `pdu` is its *_resp, or a generic_nack echoing its sequence_number."""

    pdu: Pdu
    request: Pdu


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseDropped:
    """A response that answers nothing the bridge is waiting for (wrong or stale
    sequence_number, wrong type, or a body the codec refused). SMPP 3.4 §4.3: responses are
    never answered, so it is only reported."""

    command_id: int
    sequence_number: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkReceived:
    """Answered with enquire_link_resp already (SMPP 3.4 §4.11)."""

    sequence_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindRequested:
    """The ESME unbound; unbind_resp is queued and the session closes once every request
    it still has outstanding has been answered (SMPP 3.4 §4.2)."""

    sequence_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttled:
    """A request over the window, answered with ESME_RTHROTTLED (0x58) already."""

    command_id: int
    sequence_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PduRejected:
    """A PDU answered with an error already: its own *_resp, or a generic_nack.

    `command_id` is None when the header could not be read. `closing` is True when the
    session closes because of it (framing lost, or the unknown-command budget spent)."""

    command_id: int | None
    sequence_number: int
    command_status: int
    reason: str
    closing: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerExpired:
    """A §7.2 timer ran out. What follows is in `Session.state` / `must_close`:
    SESSION_INIT closes; ENQUIRE_LINK queued a ping; INACTIVITY queued unbind;
    RESPONSE for an enquire_link or unbind closes, for any other `request` (deliver_sm,
    data_sm) it is only reported, for the application to retry or give up;
    UNBOUND_DRAIN closes."""

    timer: Timer
    request: Pdu | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerClosed:
    """The peer closed the connection (`receive_data(b"")`). Requests the bridge sent and
    never saw answered are in `Session.unanswered_requests()`."""


Event = (
    BindRequested
    | RequestReceived
    | ResponseReceived
    | ResponseDropped
    | EnquireLinkReceived
    | UnbindRequested
    | Throttled
    | PduRejected
    | TimerExpired
    | PeerClosed
)
