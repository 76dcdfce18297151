"""One structured log line per session event, safe to show whatever a peer sent.

Lines are logfmt (`event=bind_refused session=s7 peer=10.0.0.5:40112 system_id=esme1 ...`),
so they grep well and any log shipper can split them. Values a peer controls (system_id,
system_type, bodies) are escaped: non-printable bytes become `\\xNN`, so a crafted system_id
cannot forge a second log line. Passwords are never passed in. Message bodies only when the
operator turned `log_bodies` on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import assert_never

from bridge.pdu import CommandStatus, Pdu, PduWithTlvs, Tag, command_name
from bridge.smpp import (
    BindRequested,
    EnquireLinkReceived,
    PduRejected,
    PeerClosed,
    ResponseDropped,
    Throttled,
    Timer,
    TimerExpired,
    UnbindRequested,
)

_SAFE = frozenset(range(0x21, 0x7F)) - {ord('"'), ord("="), ord("\\")}
LogValue = str | int | float | bytes | None


def escape(value: str | bytes) -> str:
    """Printable ASCII as is; everything else as `\\xNN` (or `\\uNNNN`); quoted if it has spaces."""
    if isinstance(value, bytes):
        text = "".join(chr(b) if b in _SAFE or b == 0x20 else f"\\x{b:02x}" for b in value)
    else:
        text = "".join(ch if ord(ch) in _SAFE or ch == " " else _escape_char(ch) for ch in value)
    if not text or " " in text:
        return f'"{text}"'
    return text


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def format_fields(fields: dict[str, LogValue]) -> str:
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            parts.append(f"{key}={str(value).lower()}")
        elif isinstance(value, int | float):
            parts.append(f"{key}={value}")
        else:
            parts.append(f"{key}={escape(value)}")
    return " ".join(parts)


def status_label(status: int) -> str:
    """`ESME_RTHROTTLED` for a status SMPP 3.4 names, `0x00000401` for any other."""
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08x}"


def body_of(request: Pdu) -> bytes | None:
    """short_message, else message_payload (only ever logged under `log_bodies`)."""
    body = getattr(request, "short_message", None)
    if not body and isinstance(request, PduWithTlvs):
        payload = request.tlv(Tag.MESSAGE_PAYLOAD)
        body = payload if isinstance(payload, bytes) else None
    return body or None


Informational = (
    ResponseDropped
    | EnquireLinkReceived
    | UnbindRequested
    | Throttled
    | PduRejected
    | PeerClosed
    | TimerExpired
)


class RepeatedEvents:
    """Log events that can repeat thousands of times a second (a client ignoring the window,
    a flood of connections), so that writing them cannot become the bottleneck.

    The first occurrence of a name opens an interval and is written in full; later ones
    in the interval are only counted. When the interval is over, `summaries` hands out the
    count, and the next interval opens at once if there was one (a flood keeps producing one
    summary per interval), else the next occurrence is written in full again.
    """

    __slots__ = ("_open", "interval_s")

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        # name -> [end of its interval, occurrences counted and not written]
        self._open: dict[str, list[float]] = {}

    def occurred(self, name: str, now: float) -> bool:
        """Count one occurrence; True when it is to be written in full."""
        window = self._open.get(name)
        if window is None or (window[0] <= now and not window[1]):
            self._open[name] = [now + self.interval_s, 0]
            return True
        window[1] += 1
        return False

    def next_summary_at(self) -> float | None:
        """When `summaries` next has a line to hand out (None: nothing is counted)."""
        return min((window[0] for window in self._open.values() if window[1]), default=None)

    def summaries(self, now: float, *, final: bool = False) -> list[tuple[str, int]]:
        """(name, count) for each interval over at `now` (every open one when `final`) that
        counted occurrences it did not write."""
        due: list[tuple[str, int]] = []
        for name, window in list(self._open.items()):
            if not final and window[0] > now:
                continue
            count = int(window[1])
            if count and not final:
                self._open[name] = [now + self.interval_s, 0]
            else:
                del self._open[name]
            if count:
                due.append((name, count))
        return due


class RepeatedLog:
    """`RepeatedEvents` on a loop: the summary lines are written when they are due, by a
    timer armed only while something is counted. `write(name, count)` writes one."""

    __slots__ = ("_events", "_loop", "_timer", "_write")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval_s: float,
        write: Callable[[str, int], None],
    ) -> None:
        self._loop = loop
        self._events = RepeatedEvents(interval_s)
        self._write = write
        self._timer: asyncio.TimerHandle | None = None

    @property
    def interval_s(self) -> float:
        return self._events.interval_s

    def in_full(self, name: str, now: float) -> bool:
        """Count one occurrence of `name`; True when it is to be written in full."""
        if self._events.occurred(name, now):
            return True
        if self._timer is None:
            self._arm()
        return False

    def flush(self, *, final: bool = False) -> None:
        """Write the summaries due (every pending one when `final`: the end of the connection
        or the server)."""
        if self._timer is not None:
            self._timer.cancel()  # harmless when it is the handle running now
            self._timer = None
        for name, count in self._events.summaries(self._loop.time(), final=final):
            self._write(name, count)
        if not final:
            self._arm()

    def _arm(self) -> None:
        at = self._events.next_summary_at()
        if at is not None:
            self._timer = self._loop.call_at(at, self.flush)


class SessionLog:
    """The log of one connection: every line carries its session id, peer, and once bound,
    the system_id and bind type."""

    __slots__ = ("_logger", "_prefix")

    def __init__(self, logger: logging.Logger, session_id: str, peer: str) -> None:
        self._logger = logger
        self._prefix = format_fields({"session": session_id, "peer": peer})

    def identify(self, system_id: str, bind_type: str) -> None:
        """From now on every line names who is bound (system_id as sent by the peer, escaped)."""
        self._prefix += " " + format_fields({"system_id": system_id, "bind": bind_type})

    def enabled(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def event(self, level: int, event: str, **fields: LogValue) -> None:
        if not self._logger.isEnabledFor(level):
            return
        self._logger.log(level, self._line(event, fields))

    def bind_accepted(self, event: BindRequested) -> None:
        self.identify(event.system_id, event.bind_type.value)
        self.event(
            logging.INFO,
            "bind_accepted",
            seq=event.pdu.sequence_number,
            status="ESME_ROK",
            interface_version=f"0x{event.pdu.interface_version:02x}",
        )

    def bind_refused(self, event: BindRequested, status: int, reason: str, held_s: float) -> None:
        self.event(
            logging.WARNING,
            "bind_refused",
            system_id=event.system_id,
            bind=event.bind_type.value,
            seq=event.pdu.sequence_number,
            status=status_label(status),
            reason=reason or None,
            held_s=round(held_s, 3) or None,
        )

    def note(self, event: Informational) -> None:
        """The line for an event the session already acted on (answered, or closing)."""
        match event:
            case ResponseDropped():
                self.event(
                    logging.INFO,
                    "response_dropped",
                    pdu=command_name(event.command_id),
                    seq=event.sequence_number,
                    reason=event.reason,
                )
            case EnquireLinkReceived():
                self.event(logging.DEBUG, "enquire_link", seq=event.sequence_number)
            case UnbindRequested():
                self.event(logging.INFO, "unbind_received", seq=event.sequence_number)
            case Throttled():
                self.event(
                    logging.INFO,
                    "window_full",
                    pdu=command_name(event.command_id),
                    seq=event.sequence_number,
                    status="ESME_RTHROTTLED",
                )
            case PduRejected():
                command_id = event.command_id
                self.event(
                    logging.WARNING if event.closing else logging.INFO,
                    "pdu_rejected",
                    pdu=None if command_id is None else command_name(command_id),
                    command_id=None if command_id is None else f"0x{command_id:08x}",
                    seq=event.sequence_number,
                    status=status_label(event.command_status),
                    reason=event.reason,
                    closing=event.closing or None,
                )
            case PeerClosed():
                self.event(logging.DEBUG, "peer_closed")
            case TimerExpired():
                request = event.request
                self.event(
                    logging.DEBUG if event.timer is Timer.ENQUIRE_LINK else logging.INFO,
                    "timer_expired",
                    timer=event.timer.value,
                    pdu=command_name(request.command_id) if request is not None else None,
                    seq=request.sequence_number if request is not None else None,
                )
            case _:
                assert_never(event)

    def exception(self, event: str, **fields: LogValue) -> None:
        """An error line with the traceback (one per failure: callers do not repeat it)."""
        self._logger.error(self._line(event, fields), exc_info=True)

    def _line(self, event: str, fields: dict[str, LogValue]) -> str:
        rest = format_fields(fields)
        return f"event={event} {self._prefix} {rest}" if rest else f"event={event} {self._prefix}"
