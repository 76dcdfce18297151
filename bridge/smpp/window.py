"""Unanswered requests by sequence_number, one small class per direction (after h2's windows.py).

SMPP is asynchronous (SMPP 3.4 §2.7 / smpp-brief §15): either side may have several requests
outstanding, answered in any order, matched by sequence_number. The windows know nothing
of session states; they only count, match and time out.

- IncomingWindow: the peer's requests the application still has to answer. At most `limit`;
  one more is refused at once with ESME_RTHROTTLED rather than stalling the socket. Answers
  must echo an owed sequence_number exactly once, with the request's own *_resp (or a
  generic_nack): anything else is the application's bug (LocalProtocolError).
- OutgoingWindow: requests the bridge sent, each with a response deadline; it also hands
  out the bridge's sequence numbers, 1..0x7FFFFFFF, wrapping (SMPP 3.4 §5.1.4).

Deadlines all use the same timeout and `now` never goes backwards (the shell passes
loop.time()), so send order is deadline order: the oldest request is the next to expire.
"""

from __future__ import annotations

from typing import Final

from bridge.pdu import RESPONSE_BIT, CommandId, Pdu, command_name
from bridge.smpp.errors import (
    DuplicateSequenceNumber,
    ResponseMismatch,
    UnknownSequenceNumber,
    WindowExceeded,
    WindowFull,
)

MAX_SEQUENCE_NUMBER = 0x7FFFFFFF

# Link control, never held back by the window (see OutgoingWindow).
_LINK_CONTROL = frozenset({CommandId.ENQUIRE_LINK, CommandId.UNBIND})
# Bound once: answers() runs for every response, and a member looked up on its enum class
# is slow on Python 3.11 (docs/performance-notes.md).
_GENERIC_NACK: Final = CommandId.GENERIC_NACK


def answers(response_command_id: int, request_command_id: int) -> bool:
    """True when a response with this id may answer that request: its own *_resp, or a
    generic_nack, which answers any request (SMPP 3.4 §4.3)."""
    return response_command_id in (request_command_id | RESPONSE_BIT, _GENERIC_NACK)


class IncomingWindow:
    """The peer's requests still owed an answer: sequence_number -> command_id."""

    __slots__ = ("_limit", "_owed")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._owed: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._owed)

    def __contains__(self, sequence_number: int) -> bool:
        return sequence_number in self._owed

    def admit(self, command_id: int, sequence_number: int) -> None:
        """Record a request the application will answer, or refuse it (the caller answers)."""
        if sequence_number in self._owed:
            raise DuplicateSequenceNumber(
                f"sequence_number {sequence_number} already awaits an answer",
                command_id=command_id,
                sequence_number=sequence_number,
            )
        if len(self._owed) >= self._limit:
            raise WindowExceeded(
                f"more than {self._limit} unanswered requests",
                command_id=command_id,
                sequence_number=sequence_number,
            )
        self._owed[sequence_number] = command_id

    def answer(self, command_id: int, sequence_number: int) -> None:
        """Mark the request with this sequence_number answered by a PDU with `command_id`."""
        request_id = self._owed.get(sequence_number)
        if request_id is None:
            raise UnknownSequenceNumber(
                f"{command_name(command_id)} answers sequence_number {sequence_number},"
                " which no unanswered request of the peer has",
                command_id=command_id,
                sequence_number=sequence_number,
            )
        if not answers(command_id, request_id):
            raise ResponseMismatch(
                f"{command_name(command_id)} cannot answer {command_name(request_id)}"
                f" (sequence_number {sequence_number})",
                command_id=command_id,
                sequence_number=sequence_number,
            )
        del self._owed[sequence_number]

    def command_id_of(self, sequence_number: int) -> int | None:
        return self._owed.get(sequence_number)


class OutgoingWindow:
    """Requests the bridge sent and still waits on: sequence_number -> (request, deadline).

    `limit` caps the requests that carry traffic (deliver_sm, data_sm); link control
    (enquire_link, unbind) is never held back by it, or a full window could not be pinged
    or closed.
    """

    __slots__ = ("_counted", "_last_sequence_number", "_limit", "_timeout", "_waiting")

    def __init__(self, limit: int, timeout: float) -> None:
        self._limit = limit
        self._timeout = timeout
        self._waiting: dict[int, tuple[Pdu, float]] = {}
        self._counted = 0
        self._last_sequence_number = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def has_room_for(self, command_id: int) -> bool:
        return command_id in _LINK_CONTROL or self._counted < self._limit

    def next_sequence_number(self) -> int:
        """The next number to send under: 1..0x7FFFFFFF, wrapping, never one still waiting."""
        number = self._last_sequence_number
        while True:
            number = number + 1 if number < MAX_SEQUENCE_NUMBER else 1
            if number not in self._waiting:
                self._last_sequence_number = number
                return number

    def track(self, request: Pdu, now: float) -> None:
        """Wait for the answer to `request` (its sequence_number already assigned)."""
        if request.command_id not in _LINK_CONTROL:
            if self._counted >= self._limit:
                raise WindowFull(
                    f"{self._limit} requests of ours already await an answer",
                    command_id=request.command_id,
                    sequence_number=request.sequence_number,
                )
            self._counted += 1
        self._waiting[request.sequence_number] = (request, now + self._timeout)

    def waiting_for(self, sequence_number: int) -> Pdu | None:
        entry = self._waiting.get(sequence_number)
        return None if entry is None else entry[0]

    def match(self, command_id: int, sequence_number: int) -> Pdu | None:
        """The request this response answers (no longer waited on), or None if it answers none."""
        entry = self._waiting.get(sequence_number)
        if entry is None or not answers(command_id, entry[0].command_id):
            return None
        return self._forget(sequence_number)

    def next_deadline(self) -> float | None:
        for _request, deadline in self._waiting.values():
            return deadline
        return None

    def expire(self, now: float) -> list[Pdu]:
        """Stop waiting on every request whose deadline has passed; oldest first."""
        expired = [request for request, deadline in self._waiting.values() if deadline <= now]
        for request in expired:
            self._forget(request.sequence_number)
        return expired

    def requests(self) -> tuple[Pdu, ...]:
        """Every request still waiting, oldest first."""
        return tuple(request for request, _deadline in self._waiting.values())

    def _forget(self, sequence_number: int) -> Pdu:
        request, _deadline = self._waiting.pop(sequence_number)
        if request.command_id not in _LINK_CONTROL:
            self._counted -= 1
        return request
