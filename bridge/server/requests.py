"""The application's side of one bound session: its requests, each answered by the handler.

Per request (SMPP 3.4 §4.4-§4.10): charge its message parts to the account's
throughput bucket (over it: ESME_RTHROTTLED at once, the handler never sees it), then one
task runs `SubmitHandler.handle`; its answer goes out when it completes, in any order, under
the request's sequence_number. A handler exception costs that one request an ESME_RSYSERR
(as aiosmtpd's handle_exception does), logged once with the session id; the bind stays up.
The tasks are bounded by the session's window and cancelled when the connection ends, but
those the handler must finish (an iSMS request in flight): they run to their end and their
answers, with nobody to go to, are logged as answer_lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Protocol

from bridge.pdu import CommandStatus, Pdu, command_name
from bridge.server.eventlog import SessionLog, body_of, status_label
from bridge.server.handlers import BindAuthority, SessionContext, SubmitHandler, SubmitRequest
from bridge.server.observer import ConnectionObserver
from bridge.server.shared_limits import Admission, SharedLimits
from bridge.smpp import LocalProtocolError, Session, error_answer


class AnswerSink(Protocol):
    """What the runner needs of its connection (`SmppConnection`), and no more; the
    server's parts it uses are handed to it one by one (`RequestRunner.__init__`)."""

    @property
    def open(self) -> bool:
        """False once the connection is closing: an answer has nobody to go to."""
        ...

    def answers_queued(self) -> None:
        """Write what the session queued, and re-arm the timer."""
        ...

    def log_in_full(self, name: str, now: float) -> bool:
        """False when this occurrence of a repeating log event is only counted (a summary
        line per interval reports it)."""
        ...


class RequestRunner:
    """One bound session's requests in flight (see the module docstring)."""

    __slots__ = (
        "_authority",
        "_context",
        "_handler",
        "_log",
        "_log_bodies",
        "_loop",
        "_observer",
        "_session",
        "_shared",
        "_sink",
        "tasks",
    )

    def __init__(
        self,
        sink: AnswerSink,
        session: Session,
        context: SessionContext,
        session_log: SessionLog,
        *,
        loop: asyncio.AbstractEventLoop,
        handler: SubmitHandler,
        authority: BindAuthority,
        shared: SharedLimits | None,
        observer: ConnectionObserver,
        log_bodies: bool,
    ) -> None:
        self._sink = sink
        self._session = session
        self._context = context
        self._log = session_log
        self._loop = loop
        self._handler = handler
        # Throughput is metered by `authority` in this process, or by `shared` across the
        # cluster when there is one.
        self._authority = authority
        self._shared = shared
        self._observer = observer
        self._log_bodies = log_bodies
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, request: SubmitRequest, now: float) -> None:
        """Take one request the session handed up (RequestReceived)."""
        try:
            parts = self._handler.parts(request)
        except Exception:
            self._log.exception(
                "handler_failed", pdu=command_name(request.command_id), seq=request.sequence_number
            )
            self._refuse(request, CommandStatus.ESME_RSYSERR, now)
            return
        # Across a cluster the shared bucket is asked in the request's task (it is I/O).
        shared = parts if self._shared is not None else 0
        system_id = self._context.system_id
        if parts > 0 and not shared and not self._authority.admit(system_id, parts, now):
            self._throttled(request, parts, now)
            return
        if self._log_bodies:
            # `log_bodies` is a debug option: message bodies are never logged otherwise.
            self._log.event(
                logging.INFO,
                "request_body",
                pdu=command_name(request.command_id),
                seq=request.sequence_number,
                body=body_of(request),
            )
        # One task per request; the session's window bounds how many a peer can make.
        task = self._loop.create_task(self._run(request, now, shared))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def finish(self, timeout: float) -> None:  # noqa: ASYNC109 (a shared deadline)
        """Wait (bounded) for every request in flight to be answered (graceful stop)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=max(0.0, timeout))

    def cancel(self) -> int:
        """The connection is gone: cancel what is still running, but what the handler must
        finish (SubmitHandler.must_finish); how many requests go unanswered."""
        must_finish = self._handler.must_finish
        for task in self.tasks:
            if not must_finish(task):
                task.cancel()
        return len(self.tasks)

    def _throttled(self, request: SubmitRequest, parts: int, now: float) -> None:
        # A client over its throughput gets one of these per message it sends.
        if self._sink.log_in_full("throttled", now):
            self._log.event(
                logging.INFO,
                "throttled",
                pdu=command_name(request.command_id),
                seq=request.sequence_number,
                parts=parts,
                status="ESME_RTHROTTLED",
            )
        self._observer.request_throttled(self._context, request, parts)
        self._refuse(request, CommandStatus.ESME_RTHROTTLED, now)

    async def _admitted(self, request: SubmitRequest, parts: int) -> bool:
        """The cluster-wide bucket's say; a refusal is answered here."""
        limits = self._shared
        assert limits is not None
        admission = await limits.admit(self._context.system_id, parts)
        if admission is Admission.ADMITTED:
            return True
        if not self._sink.open:
            return False
        now = self._loop.time()
        if admission is Admission.THROTTLED:
            self._throttled(request, parts, now)
        else:
            # The message could not be metered, so it is not sent: a temporary error.
            self._refuse(request, CommandStatus.ESME_RSYSERR, now)
        self._sink.answers_queued()
        return False

    async def _run(self, request: SubmitRequest, started: float, shared: int = 0) -> None:
        if shared and not await self._admitted(request, shared):
            return
        try:
            response = await self._handler.handle(self._context, request)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._log.exception(
                "handler_failed", pdu=command_name(request.command_id), seq=request.sequence_number
            )
            response = _error_response(request, CommandStatus.ESME_RSYSERR)
        if not self._sink.open:
            self._log.event(
                logging.WARNING,
                "answer_lost",
                pdu=command_name(request.command_id),
                seq=request.sequence_number,
                status=status_label(response.command_status),
                message_id=getattr(response, "message_id", None) or None,
            )
            self._handler.answer_written(self._context, response)
            return
        self.answer(request, response, self._loop.time(), started=started)
        self._sink.answers_queued()
        # Callbacks run in the order they were scheduled (asyncio's and uvloop's ready queue
        # is FIFO), and answers_queued has scheduled the write of this answer already: so
        # the handler hears of it only once the response is in the transport.
        self._loop.call_soon(self._handler.answer_written, self._context, response)

    def _refuse(self, request: SubmitRequest, status: CommandStatus, now: float) -> None:
        self.answer(request, _error_response(request, status), now)

    def answer(
        self, request: SubmitRequest, response: Pdu, now: float, started: float | None = None
    ) -> None:
        """Queue `response` under the request's sequence_number (0x08 if it is the wrong PDU)."""
        session = self._session
        if response.sequence_number != request.sequence_number:
            response = dataclasses.replace(response, sequence_number=request.sequence_number)
        try:
            session.send(response, now)
        except LocalProtocolError:
            # The handler answered with the wrong PDU type: our bug; the ESME still gets 0x08.
            self._log.exception(
                "handler_answer_invalid",
                pdu=command_name(request.command_id),
                seq=request.sequence_number,
                answer=command_name(response.command_id),
            )
            response = _error_response(request, CommandStatus.ESME_RSYSERR)
            session.send(response, now)
        elapsed = None if started is None else now - started
        self._observer.request_answered(self._context, request, response, elapsed)
        # One line per request at debug only: at the default level the message record (the
        # state store, `isms-bridge messages`) is the per-message trace, since a log line per
        # message cost a quarter of the throughput (formatting plus one write per line).
        if self._log.enabled(logging.DEBUG):
            self._log.event(
                logging.DEBUG,
                "answered",
                pdu=command_name(request.command_id),
                seq=request.sequence_number,
                status=status_label(response.command_status),
                message_id=getattr(response, "message_id", None) or None,
                ms=None if elapsed is None else round(elapsed * 1000, 1),
            )


def _error_response(request: SubmitRequest, status: CommandStatus) -> Pdu:
    return error_answer(request.command_id, request.sequence_number, status)
