"""What feeds `BridgeMetrics`: the observers the layers call, and the balance callback.

- `SmppObserver` is the server's `ConnectionObserver` (binds, PDUs both ways, answers,
  throttling) and a `SessionListener` (bound sessions).
- `IsmsObserver` is the upstream's `UpstreamObserver` (each HTTP request, each message) and
  the `BalancePoller`'s callback.

The layers know nothing of Prometheus: they call these through Protocols they declare
themselves, with their own values (events, results), and this module turns those into
bounded labels (see series.py). Each call is a few dictionary lookups and an add or two to
the tallies of its counter children (tally.py) or an observe, cached per raw key
(command_id, status, ...) so the per-PDU cost stays flat; the caches are bounded because a
peer picks command_ids.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from typing import Final, TypeVar, assert_never

from bridge.app.metrics.histograms import Buckets
from bridge.app.metrics.series import (
    CREDIT_PART_CHARS,
    SUBMIT_COMMANDS,
    BridgeMetrics,
    estimated_credits,
    isms_code_label,
    mirror_label,
)
from bridge.app.metrics.tally import CounterTally
from bridge.pdu import CommandId, CommandStatus, Pdu, command_name, is_response, status_name
from bridge.server import (
    BindAttempt,
    BindVerdict,
    ConnectionRefusal,
    Peer,
    ProxyOutcome,
    SessionContext,
    SubmitRequest,
)
from bridge.smpp import (
    BindRequested,
    EnquireLinkReceived,
    Event,
    PduRejected,
    PeerClosed,
    RequestReceived,
    ResponseDropped,
    ResponseReceived,
    Throttled,
    TimerExpired,
    UnbindRequested,
)
from bridge.upstream import (
    BalanceReading,
    IsmsMessage,
    Outcome,
    SendResult,
    SmsType,
    Verdict,
)

# SMPP 3.4 §3.2: command_length, command_id, command_status, sequence_number.
_HEADER = struct.Struct(">III")
_HEADER_SIZE = 16
# A request's command_status is NULL (SMPP 3.4 §3.2); a PDU the session could not read has
# no status worth a label.
_REQUEST_STATUS = 0
_UNREAD = "unknown"
# Bounds the label-child caches: more distinct (command_id, status) pairs than this are
# looked up each time instead of cached (only a peer inventing command_ids gets there).
_CACHE_LIMIT = 512
# Bound once: on Python 3.11 every `Outcome.X` lookup goes through EnumType's __getattr__
# hook (docs/performance-notes.md), and message_finished runs per message.
_ACCEPTED: Final = Outcome.ACCEPTED

_Key = TypeVar("_Key")
_Child = TypeVar("_Child")


class _BoundedCache(dict[_Key, _Child]):
    """Label children by key, at most _CACHE_LIMIT of them; `get` is dict's own (five
    lookups per submit: a Python method around it would be five calls more)."""

    __slots__ = ()

    def put(self, key: _Key, child: _Child) -> _Child:
        if len(self) < _CACHE_LIMIT:
            self[key] = child
        return child


def pdu_headers(data: bytes) -> Iterator[tuple[int, int]]:
    """(command_id, command_status) of each whole PDU in `data`, in order."""
    offset, end = 0, len(data)
    while offset + _HEADER_SIZE <= end:
        length, command_id, command_status = _HEADER.unpack_from(data, offset)
        yield command_id, command_status
        if length < _HEADER_SIZE:
            return  # not ours to judge; never loop on a zero length
        offset += length


def received_pdu(event: Event) -> tuple[int | None, int | None] | None:
    """(command_id, command_status) of the PDU behind an event; None for non-PDU events.

    command_id None: the header was unreadable; command_status None: not known (a response
    the session dropped undecoded)."""
    match event:
        case BindRequested() | RequestReceived() | ResponseReceived():
            return event.pdu.command_id, event.pdu.command_status
        case EnquireLinkReceived():
            return CommandId.ENQUIRE_LINK, _REQUEST_STATUS
        case UnbindRequested():
            return CommandId.UNBIND, _REQUEST_STATUS
        case Throttled():
            return event.command_id, _REQUEST_STATUS
        case ResponseDropped():
            return event.command_id, None
        case PduRejected():
            command_id = event.command_id
            if command_id is None or is_response(command_id):
                return command_id, None
            return command_id, _REQUEST_STATUS
        case TimerExpired() | PeerClosed():
            return None
        case _:
            assert_never(event)


class SmppObserver:
    """Feeds the SMPP series from the server's observer calls and session events."""

    __slots__ = ("_answers", "_metrics", "_received", "_sent")

    def __init__(self, metrics: BridgeMetrics) -> None:
        self._metrics = metrics
        self._received: _BoundedCache[tuple[int | None, int | None], CounterTally]
        self._received = _BoundedCache()
        self._sent: _BoundedCache[tuple[int, int], CounterTally] = _BoundedCache()
        self._answers: _BoundedCache[
            tuple[str, int, int], tuple[CounterTally | None, Buckets | None]
        ] = _BoundedCache()

    # --- SessionListener -------------------------------------------------------------------

    def session_bound(self, context: SessionContext) -> None:
        self._metrics.sessions.labels(context.system_id, context.bind_type.value).inc()

    def session_closed(self, context: SessionContext) -> None:
        self._metrics.sessions.labels(context.system_id, context.bind_type.value).dec()

    # --- ConnectionObserver ----------------------------------------------------------------

    def event_received(self, context: SessionContext | None, event: Event) -> None:
        pdu = received_pdu(event)
        if pdu is None:
            return
        metrics = self._metrics
        child = self._received.get(pdu)
        if child is None:
            command_id, command_status = pdu
            command = _UNREAD if command_id is None else command_name(command_id)
            status = _UNREAD if command_status is None else status_name(command_status)
            child = self._received.put(
                pdu, metrics.tallies.counter(metrics.pdus_received.labels(command, status))
            )
        child.inc()
        if isinstance(event, Throttled | PduRejected):
            self._answered_by_session(context, event)

    def _answered_by_session(
        self, context: SessionContext | None, event: Throttled | PduRejected
    ) -> None:
        """Submits the session answered itself count as submits too: over the window
        (ESME_RTHROTTLED), or refused (ESME_RINVBNDSTS from a receiver, a bad body)."""
        metrics = self._metrics
        account = metrics.account_label(context.system_id if context is not None else "")
        if isinstance(event, Throttled):
            metrics.window_full.labels(account).inc()
            answered: int = CommandStatus.ESME_RTHROTTLED
        else:
            answered = event.command_status
        if event.command_id is None:
            return
        command = command_name(event.command_id)
        if command in SUBMIT_COMMANDS:
            metrics.submits.labels(account, command, status_name(answered)).inc()

    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        self._metrics.proxy_headers.labels(outcome.value).inc()

    # --- ClusterObserver (SharedLimits) ----------------------------------------------------

    def cluster_unavailable(self, operation: str) -> None:
        self._metrics.cluster_state_errors.labels(operation).inc()

    def leases_held(self, count: int) -> None:
        self._metrics.bind_leases.set(count)

    def bind_decided(self, attempt: BindAttempt, verdict: BindVerdict) -> None:
        metrics = self._metrics
        metrics.bind_attempts.labels(
            metrics.account_label(attempt.system_id),
            attempt.bind_type.value,
            status_name(verdict.command_status),
        ).inc()

    def request_throttled(
        self, context: SessionContext, request: SubmitRequest, parts: int
    ) -> None:
        metrics = self._metrics
        metrics.throttled.labels(metrics.account_label(context.system_id)).inc()

    def request_answered(
        self,
        context: SessionContext,
        request: SubmitRequest,
        response: Pdu,
        elapsed_s: float | None,
    ) -> None:
        key = (context.system_id, request.command_id, response.command_status)
        children = self._answers.get(key)
        if children is None:
            children = self._answers.put(key, self._answer_children(*key))
        submits, duration = children
        if submits is None or duration is None:
            return  # query_sm, cancel_sm, replace_sm: counted as PDUs only
        submits.inc()
        if elapsed_s is not None:
            duration.observe(elapsed_s)

    def forget_labels(self) -> None:
        """Drop cached label children (after a reload changed which accounts are known)."""
        self._answers = _BoundedCache()

    def _answer_children(
        self, system_id: str, command_id: int, command_status: int
    ) -> tuple[CounterTally | None, Buckets | None]:
        command = command_name(command_id)
        if command not in SUBMIT_COMMANDS:
            return None, None
        metrics = self._metrics
        submits = metrics.submits.labels(
            metrics.account_label(system_id), command, status_name(command_status)
        )
        return (
            metrics.tallies.counter(submits),
            metrics.submit_duration.labels(command),
        )

    def pdus_sent(self, data: bytes) -> None:
        sent = self._sent
        for header in pdu_headers(data):
            child = sent.get(header)
            if child is None:
                command_id, command_status = header
                metrics = self._metrics
                child = sent.put(
                    header,
                    metrics.tallies.counter(
                        metrics.pdus_sent.labels(
                            command_name(command_id), status_name(command_status)
                        )
                    ),
                )
            child.inc()

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        self._metrics.connections_refused.labels(reason.value).inc()

    def loop_lag_sampled(self, lag_s: float) -> None:
        self._metrics.event_loop_lag.observe(lag_s)


class IsmsObserver:
    """Feeds the iSMS series from the client's observer calls and the balance poller."""

    __slots__ = ("_messages", "_metrics", "_part_chars", "_requests")

    def __init__(
        self, metrics: BridgeMetrics, part_chars: Mapping[SmsType, int] = CREDIT_PART_CHARS
    ) -> None:
        """`part_chars`: characters per credit of each iSMS type (`[policy] credit_chars_*`)."""
        self._metrics = metrics
        self._part_chars = part_chars
        # Keys are configured mirrors and iSMS usernames, codes and outcomes: bounded.
        self._requests: _BoundedCache[tuple[str, int | None, Verdict], tuple[CounterTally, Buckets]]
        self._requests = _BoundedCache()
        self._messages: _BoundedCache[tuple[str, Outcome], tuple[CounterTally, CounterTally]]
        self._messages = _BoundedCache()

    def request_finished(
        self, *, mirror: str, code: int | None, verdict: Verdict, elapsed_s: float
    ) -> None:
        key = (mirror, code, verdict)
        children = self._requests.get(key)
        if children is None:
            metrics = self._metrics
            host = mirror_label(mirror)
            children = self._requests.put(
                key,
                (
                    metrics.tallies.counter(
                        metrics.isms_requests.labels(host, isms_code_label(code, verdict))
                    ),
                    metrics.isms_request_duration.labels(host),
                ),
            )
        requests, duration = children
        requests.inc()
        duration.observe(elapsed_s)

    def message_finished(self, message: IsmsMessage, result: SendResult) -> None:
        metrics = self._metrics
        account = message.credentials.username
        key = (account, result.outcome)
        children = self._messages.get(key)
        if children is None:
            children = self._messages.put(
                key,
                (
                    metrics.tallies.counter(
                        metrics.isms_messages.labels(account, result.outcome.value)
                    ),
                    metrics.tallies.counter(metrics.isms_credits_spent.labels(account)),
                ),
            )
        messages, credits = children
        messages.inc()
        if result.attempts > 1:
            # Each mirror after the first was tried because the one before certainly
            # never got the request: mirrors fail over only on NotSent.
            metrics.isms_failovers.inc(result.attempts - 1)
        outcome = result.outcome
        if outcome is _ACCEPTED:
            credits.inc(
                estimated_credits(
                    message.text, message.sms_type, len(message.destinations), self._part_chars
                )
            )
        elif outcome is Outcome.UNKNOWN:
            metrics.isms_unknown_outcomes.labels(mirror_label(result.mirror)).inc()

    def balance_read(self, reading: BalanceReading) -> None:
        """The BalancePoller's `on_reading` callback."""
        metrics = self._metrics
        if reading.credits is not None:
            metrics.isms_credit_balance.labels(reading.username).set(float(reading.credits))
            metrics.isms_credit_balance_known.labels(reading.username).set(1)
            result = "ok"
        else:
            result = "refused" if reading.code is not None else "unavailable"
        metrics.isms_balance_polls.labels(reading.username, result).inc()
