"""`IsmsClient`: one message in, one `SendResult` out, sent at most once.

Layered like httpx's client, one concern per step:
`send` (limits, observer reports, logging) -> `_send_with_failover` (mirror order, breaker, the
verdict of `judge_attempt`, the request encoded for each mirror) -> `_send_once` (one call
to the transport, its failure labelled with the mirror and message).
The reply body is parsed by `parse_send_reply`, a pure function. Nothing here knows SMPP.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final, Protocol

from bridge.upstream.alarms import AccountAlarms
from bridge.upstream.api import HttpMethod, HttpRequest, balance_request, send_request
from bridge.upstream.codes import code_name
from bridge.upstream.errors import NotSent, OutcomeUnknown, UpstreamError
from bridge.upstream.messages import IsmsCredentials, IsmsMessage, Outcome, SendResult
from bridge.upstream.mirrors import BreakerState, Mirror, MirrorSet, Verdict, judge_attempt
from bridge.upstream.observer import NoUpstreamObserver, UpstreamObserver
from bridge.upstream.replies import (
    BalanceReply,
    UnparseableReply,
    parse_balance_reply,
    parse_send_reply,
)
from bridge.upstream.settings import HttpClientKind, IsmsSettings
from bridge.upstream.transport import HttpReply, HttpTransport, Timeouts

log = logging.getLogger(__name__)


class ClientState(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


# Members bound to module names where they are used per message: a member looked up on its
# enum class is slow on Python 3.11 (docs/performance-notes.md).
_OPENED: Final = ClientState.OPENED
_POST: Final = HttpMethod.POST
_ACCEPTED: Final = Outcome.ACCEPTED
_REJECTED: Final = Outcome.REJECTED
_NOT_SENT: Final = Outcome.NOT_SENT
_ANSWERED: Final = Verdict.ANSWERED
_NOT_REACHED: Final = Verdict.NOT_REACHED
_UNKNOWN: Final = Verdict.UNKNOWN
_CLOSED: Final = BreakerState.CLOSED


class IsmsSender(Protocol):
    """What the pipeline needs from the client (a fake satisfies it in tests)."""

    async def send(self, message: IsmsMessage) -> SendResult: ...


def make_transport(settings: IsmsSettings) -> HttpTransport:
    """The adapter `[isms] http_client` names (imported only when chosen)."""
    if settings.http_client is HttpClientKind.HTTP11:
        from bridge.upstream.http11_transport import Http11Transport

        return Http11Transport(pool_size=settings.pool_size, keepalive_s=settings.keepalive_s)
    if settings.http_client is HttpClientKind.HTTPX:
        from bridge.upstream.httpx_transport import HttpxTransport

        return HttpxTransport(pool_size=settings.pool_size, keepalive_s=settings.keepalive_s)
    from bridge.upstream.aiohttp_transport import AiohttpTransport

    return AiohttpTransport(pool_size=settings.pool_size, keepalive_s=settings.keepalive_s)


class IsmsClient:
    def __init__(
        self,
        settings: IsmsSettings,
        *,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: UpstreamObserver | None = None,
    ) -> None:
        self.settings = settings
        self._observer: UpstreamObserver = (
            observer if observer is not None else NoUpstreamObserver()
        )
        # Without an observer the per-request reports are skipped, not sent to a no-op.
        self._observing = observer is not None
        self.state = ClientState.UNOPENED
        self._transport = transport
        self._clock = clock
        self._mirrors = MirrorSet(
            settings.endpoints,
            cooldown_s=settings.mirror_cooldown_s,
            breaker_failures=settings.breaker_failures,
            clock=clock,
        )
        self._api = settings.api
        self._method = settings.method
        self._timeouts = Timeouts(connect_s=settings.connect_timeout_s, total_s=settings.timeout_s)
        # At most pool_size requests in flight, so the HTTP library never queues for a
        # connection (its pool-wait timeout would look like a dead mirror).
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._alarms = AccountAlarms(clock=clock)
        self._cut = CutMessages(clock=clock)

    @property
    def mirrors(self) -> tuple[Mirror, ...]:
        return self._mirrors.mirrors

    def set_mirror_in_service(self, index: int, in_service: bool) -> bool:
        """An operator takes mirror `index` out or puts it back (MirrorSet.set_in_service)."""
        changed = self._mirrors.set_in_service(index, in_service)
        if changed:
            log.warning(
                "event=mirror_in_service mirror=%s in_service=%s",
                self._mirrors.mirrors[index].name,
                str(in_service).lower(),
            )
        return changed

    async def __aenter__(self) -> IsmsClient:
        self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def open(self) -> None:
        if self.state is ClientState.CLOSED:
            raise RuntimeError("this IsmsClient is closed; create a new one")
        if self.state is ClientState.UNOPENED:
            if self._transport is None:
                self._transport = make_transport(self.settings)
            self.state = ClientState.OPENED

    async def aclose(self) -> None:
        if self.state is ClientState.OPENED and self._transport is not None:
            await self._transport.aclose()
        self.state = ClientState.CLOSED

    async def send(self, message: IsmsMessage) -> SendResult:
        limit = self.settings.max_destinations_per_request
        if len(message.destinations) > limit:
            raise ValueError(
                f"{len(message.destinations)} destinations in one request; at most {limit} "
                "(split them with split_destinations)"
            )
        transport = self._ready()
        started = self._clock()
        # acquire/release rather than `async with`: two coroutine frames less per message.
        await self._slots.acquire()
        try:
            result = await self._send_with_failover(transport, message, started)
        finally:
            self._slots.release()
        self._report(message, result)
        if self._observing:
            self._observer.message_finished(message, result)
        return result

    async def balance(self, credentials: IsmsCredentials) -> BalanceReply:
        """The account's credit balance from isms_balance.php.

        Reading a balance sends nothing and costs nothing, so unlike `send` it moves on to
        the next mirror after any failure. Raises `UpstreamError` when no mirror answered.
        """
        transport = self._ready()
        failure: UpstreamError = NotSent(
            "every mirror's circuit breaker is open"
            if self._mirrors.all_open
            else "no iSMS endpoint"
        )
        for mirror in self._mirrors.route():
            request = balance_request(self._method, mirror.url, credentials)
            attempt = await self._send_once(transport, mirror, request, "balance")
            verdict = judge_attempt(attempt)
            if isinstance(attempt, HttpReply) and verdict is Verdict.ANSWERED:
                try:
                    reply = parse_balance_reply(attempt.body)
                except UnparseableReply as exc:
                    failure = OutcomeUnknown(str(exc), mirror=mirror.name)
                    self._vote_against(mirror, str(exc))
                    continue
                self._vote_for(mirror)
                return reply
            self._vote_against(mirror, _describe(attempt))
            failure = (
                attempt
                if isinstance(attempt, UpstreamError)
                else OutcomeUnknown(_describe(attempt), mirror=mirror.name)
            )
        raise failure

    def _ready(self) -> HttpTransport:
        if self.state is not _OPENED:
            self.open()
        assert self._transport is not None
        return self._transport

    async def _send_with_failover(
        self, transport: HttpTransport, message: IsmsMessage, started: float
    ) -> SendResult:
        attempts = 0
        mirror_name = ""
        reason = "no iSMS endpoint"
        if self._mirrors.all_open:
            reason = (
                "every mirror's circuit breaker is open, the next probe in "
                f"{self._mirrors.next_probe_in():.1f}s"
            )
        for mirror in self._mirrors.route():
            attempts += 1
            mirror_name = mirror.name
            sent_at = self._clock() if self._observing else 0.0
            request = send_request(self._api, self._method, mirror.url, message)
            attempt = await self._send_once(transport, mirror, request, message.reference)
            verdict = judge_attempt(attempt)
            if verdict is _NOT_REACHED:
                self._observe(mirror, None, verdict, sent_at)
                reason = _describe(attempt)
                self._vote_against(mirror, reason)
                log.warning(
                    "isms mirror not reached: mirror=%s ref=%s reason=%s; trying the next one",
                    mirror.name,
                    message.reference,
                    reason,
                )
                continue
            if verdict is _UNKNOWN or not isinstance(attempt, HttpReply):
                # The message ends here (Rule 1); the mirror gets one vote against (Rule 2).
                self._observe(mirror, None, Verdict.UNKNOWN, sent_at)
                reason = _describe(attempt)
                self._vote_against(mirror, reason)
                return self._result(Outcome.UNKNOWN, mirror, started, attempts, reason)
            try:
                reply = parse_send_reply(attempt.body)
            except UnparseableReply as exc:
                self._observe(mirror, None, Verdict.UNKNOWN, sent_at)
                self._vote_against(mirror, str(exc))
                return self._result(Outcome.UNKNOWN, mirror, started, attempts, str(exc))
            self._observe(mirror, reply.code, _ANSWERED, sent_at)
            if self._mirrors.record(mirror, healthy=True) is not None:
                self._breaker_closed(mirror)
            return SendResult(
                outcome=_ACCEPTED if reply.success else _REJECTED,
                code=reply.code,
                trx_id=reply.trx_id,
                mirror=mirror.name,
                elapsed_s=self._clock() - started,
                attempts=attempts,
                description=reply.description,
            )
        return SendResult(
            outcome=Outcome.NOT_SENT,
            code=None,
            trx_id=None,
            mirror=mirror_name,
            elapsed_s=self._clock() - started,
            attempts=attempts,
            reason=f"no mirror reached: {reason}",
        )

    async def _send_once(
        self, transport: HttpTransport, mirror: Mirror, request: HttpRequest, reference: str
    ) -> HttpReply | UpstreamError:
        """One request to one mirror: the reply, or the failure labelled with where it was."""
        try:
            if request.method is _POST:
                return await transport.post(
                    request.url, request.body, request.headers, self._timeouts
                )
            return await transport.get(request.url, request.headers, self._timeouts)
        except UpstreamError as exc:
            return exc.at(mirror=mirror.name, reference=reference)
        except BaseException:
            # Cancelled mid-request: no verdict on the mirror; free its probe slot.
            self._mirrors.release(mirror)
            raise

    def _vote_for(self, mirror: Mirror) -> None:
        if self._mirrors.record(mirror, healthy=True) is not None:
            self._breaker_closed(mirror)

    def _vote_against(self, mirror: Mirror, reason: str) -> None:
        """One failed attempt on `mirror` (Rule 2); reported when it opens the breaker."""
        left = self._mirrors.record(mirror, healthy=False)
        if left is None:
            return
        cooldown_s = self._mirrors.cooldown_s
        if left is _CLOSED:
            log.warning(
                "isms breaker opened: mirror=%s failures=%d in a row, the last: %s; skipped "
                "for %.1fs, then one message probes it",
                mirror.name,
                mirror.failures,
                reason,
                cooldown_s,
            )
        else:
            # A failed probe: once per cool-down in an outage, already announced as opened.
            log.debug(
                "isms breaker probe failed: mirror=%s reason=%s; open again for %.1fs",
                mirror.name,
                reason,
                cooldown_s,
            )

    def _breaker_closed(self, mirror: Mirror) -> None:
        log.info(
            "isms breaker closed: mirror=%s answered again after %.1fs open",
            mirror.name,
            self._clock() - mirror.opened_at,
        )

    def _observe(self, mirror: Mirror, code: int | None, verdict: Verdict, sent_at: float) -> None:
        if not self._observing:
            return
        self._observer.request_finished(
            mirror=mirror.name, code=code, verdict=verdict, elapsed_s=self._clock() - sent_at
        )

    def _result(
        self, outcome: Outcome, mirror: Mirror, started: float, attempts: int, reason: str
    ) -> SendResult:
        return SendResult(
            outcome=outcome,
            code=None,
            trx_id=None,
            mirror=mirror.name,
            elapsed_s=self._clock() - started,
            attempts=attempts,
            reason=reason,
        )

    def _report(self, message: IsmsMessage, result: SendResult) -> None:
        username = message.credentials.username
        if result.attempts == 0 and result.outcome is _NOT_SENT:
            if not self._cut.in_full():
                return
        else:
            self._cut.end()
        if result.outcome is _ACCEPTED:
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "isms accepted: ref=%s account=%s trx_id=%s mirror=%s elapsed=%.3fs",
                    message.reference,
                    username,
                    result.trx_id,
                    result.mirror,
                    result.elapsed_s,
                )
        elif result.outcome is Outcome.REJECTED:
            assert result.code is not None
            log.info(
                "isms rejected: ref=%s account=%s code=%d (%s) mirror=%s",
                message.reference,
                username,
                result.code,
                code_name(result.code),
                result.mirror,
            )
            self._alarms.check(username, result.code)
        else:
            if result.outcome is Outcome.UNKNOWN:
                advice = "iSMS may have sent it: check the iSMS portal before resending"
            else:
                advice = "nothing was sent"
            log.warning(
                "isms outcome %s: ref=%s account=%s destinations=%s type=%d mirror=%s "
                "attempts=%d elapsed=%.3fs reason=%s; %s",
                result.outcome.value,
                message.reference,
                username,
                ";".join(message.destinations),
                message.sms_type,
                result.mirror,
                result.attempts,
                result.elapsed_s,
                result.reason,
                advice,
            )


class CutMessages:
    """Messages the breakers answered not-sent without any request (every breaker open).

    In an outage ESMEs resend at once, so one warning per message would be hundreds of lines
    a second saying the same. The first of a run is logged in full; the rest are counted and
    reported in one line per `interval_s` (at the next cut message after it), and once more
    when a message is sent again.
    """

    __slots__ = ("_clock", "_count", "_since", "interval_s")

    def __init__(self, *, clock: Callable[[], float], interval_s: float = 10.0) -> None:
        self._clock = clock
        self.interval_s = interval_s
        self._since: float | None = None
        self._count = 0

    def in_full(self) -> bool:
        """Count one cut message; True when it is to be logged in full."""
        now = self._clock()
        if self._since is not None and now - self._since < self.interval_s:
            self._count += 1
            return False
        self._summarise(now)
        self._since = now
        return True

    def end(self) -> None:
        """A message reached a mirror again: report what the run left uncounted."""
        if self._since is not None:
            self._summarise(self._clock())
            self._since = None

    def _summarise(self, now: float) -> None:
        if self._count and self._since is not None:
            log.warning(
                "isms breakers cut: %d more messages not sent in %.1fs, no request made "
                "(every mirror's circuit breaker open); ESMEs got ESME_RSYSERR",
                self._count,
                now - self._since,
            )
        self._count = 0


def _describe(attempt: HttpReply | UpstreamError) -> str:
    if isinstance(attempt, UpstreamError):
        return attempt.reason
    return f"HTTP {attempt.status}"
