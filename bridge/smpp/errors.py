"""Who broke a rule, and what to answer (h11's Local/Remote split, h2's per-class codes).

SmppError
 └ ProtocolError(command_status, in_sync)
    ├ RemoteProtocolError    the peer broke a rule; the session answers it and goes on
    │   ├ InvalidCommandLength   0x02 ESME_RINVCMDLEN  framing lost (in_sync=False): close
    │   ├ InvalidCommandId       0x03 ESME_RINVCMDID   unknown id, or one a client never sends
    │   ├ InvalidBindStatus      0x04 ESME_RINVBNDSTS  request not allowed in this state
    │   ├ AlreadyBound           0x05 ESME_RALYBND     a bind after the first
    │   ├ DuplicateSequenceNumber 0x08 ESME_RSYSERR    sequence_number already awaiting an answer
    │   ├ WindowExceeded         0x58 ESME_RTHROTTLED  more than `window` unanswered requests
    │   └ MalformedPdu           (the codec's status)  bad body of a known request
    └ LocalProtocolError     the application broke a rule (a bug on our side)
        ├ SendNotAllowed         0x04  e.g. deliver_sm to a transmitter bind
        ├ UnknownSequenceNumber  0x08  answering a request never received, or twice
        ├ ResponseMismatch       0x08  a submit_sm_resp for a query_sm, a request for a bind
        └ WindowFull             0x58  more than `window` of our own requests unanswered

Remote errors never escape the Session: `next_event()` turns each into its answer (the
request's own *_resp, or generic_nack when the PDU has no *_resp or its id is unknown) plus
a `PduRejected` event. SMPP frames every PDU with command_length, so unlike HTTP/1.1 a bad
PDU costs one reply and not the connection; only `in_sync=False` does.
"""

from __future__ import annotations

from typing import ClassVar

from bridge.pdu import CommandStatus, status_name


class SmppError(Exception):
    """Base of every error bridge.smpp raises."""


class ProtocolError(SmppError):
    """A broken SMPP rule. `command_status` is the status to answer with; `in_sync` is False
    when the byte stream can no longer be framed. `command_id` and `sequence_number` are
    those of the offending PDU when known (the answer echoes the sequence_number)."""

    default_status: ClassVar[int] = CommandStatus.ESME_RSYSERR
    default_in_sync: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        command_status: int | None = None,
        in_sync: bool | None = None,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        self.message = message
        self.command_status = self.default_status if command_status is None else command_status
        self.in_sync = self.default_in_sync if in_sync is None else in_sync
        self.command_id = command_id
        self.sequence_number = sequence_number
        super().__init__(f"{message} -> {status_name(self.command_status)}")


class RemoteProtocolError(ProtocolError):
    """The peer broke a rule."""


class LocalProtocolError(ProtocolError):
    """The application broke a rule: a bug on the bridge's side, never the peer's doing."""


class InvalidCommandLength(RemoteProtocolError):
    # SMPP 3.4 §4.3: command_length unusable -> generic_nack 0x02; framing is lost.
    default_status = CommandStatus.ESME_RINVCMDLEN
    default_in_sync = False


class InvalidCommandId(RemoteProtocolError):
    # SMPP 3.4 §4.3: "unknown or invalid command_id" -> generic_nack 0x03.
    default_status = CommandStatus.ESME_RINVCMDID


class InvalidBindStatus(RemoteProtocolError):
    # SMPP 3.4 §5.1.3: 0x04 "incorrect BIND status for given command".
    default_status = CommandStatus.ESME_RINVBNDSTS


class AlreadyBound(RemoteProtocolError):
    # SMPP 3.4 §5.1.3: 0x05 "ESME already in bound state".
    default_status = CommandStatus.ESME_RALYBND


class DuplicateSequenceNumber(RemoteProtocolError):
    # SMPP 3.4 §3.2 wants a sequence_number unique among unanswered requests; a second
    # request under the same number is refused at once (0x08, temporary: the ESME may
    # resubmit under a fresh number) and never processed, so it cannot be sent twice.
    default_status = CommandStatus.ESME_RSYSERR


class WindowExceeded(RemoteProtocolError):
    # Past `window` unanswered requests, answer ESME_RTHROTTLED (0x58) at once rather than
    # stall the socket: the ESME can still be answered enquire_link and unbind meanwhile.
    default_status = CommandStatus.ESME_RTHROTTLED


class MalformedPdu(RemoteProtocolError):
    """A known request whose body the codec refused; the status is the codec's."""


class SendNotAllowed(LocalProtocolError):
    default_status = CommandStatus.ESME_RINVBNDSTS


class UnknownSequenceNumber(LocalProtocolError):
    """A response echoing no unanswered request of the peer (never received, or answered)."""


class ResponseMismatch(LocalProtocolError):
    """A response of the wrong type for its request, or a PDU send() cannot carry."""


class WindowFull(LocalProtocolError):
    default_status = CommandStatus.ESME_RTHROTTLED


__all__ = [
    "AlreadyBound",
    "DuplicateSequenceNumber",
    "InvalidBindStatus",
    "InvalidCommandId",
    "InvalidCommandLength",
    "LocalProtocolError",
    "MalformedPdu",
    "ProtocolError",
    "RemoteProtocolError",
    "ResponseMismatch",
    "SendNotAllowed",
    "SmppError",
    "UnknownSequenceNumber",
    "WindowExceeded",
    "WindowFull",
]
