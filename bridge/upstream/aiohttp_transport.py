"""`HttpTransport` over aiohttp: one pooled session per process, keep-alive, bounded reads.

`_request` is the one place where aiohttp exceptions become `NotSent` / `OutcomeUnknown`.

Each request's whole deadline (`Timeouts.total_s`) is kept here, not by aiohttp: aiohttp
arms and cancels an event-loop timer per request for its `total` timeout, where
`Deadlines` keeps one timer for all of them. Reaching the host (`connect_s`) is still
aiohttp's `sock_connect`, armed only when a connection is opened.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
import yarl

from bridge.upstream.errors import NotSent, OutcomeUnknown
from bridge.upstream.transport import MAX_REPLY_BYTES, HttpReply, Timeouts

_USER_AGENT = "isms-bridge"
# POST URLs are the mirrors' endpoints: a handful. Parsed once each, up to this many.
_URLS_KEPT = 64


class Deadline:
    """One request's deadline: the task to cancel when it passes, and whether that task had
    a connection yet (nothing of the request is written before it has)."""

    __slots__ = ("at", "cancelling", "connected", "expired", "task")

    def __init__(self, task: asyncio.Task[Any], at: float) -> None:
        self.task = task
        self.at = at
        # Cancellations already asked of the task before this request: those are not ours.
        self.cancelling = task.cancelling()
        self.connected = False
        self.expired = False


class Deadlines:
    """The deadlines of the requests in flight, under one event-loop timer.

    The timer is armed at the earliest deadline known when it is armed; a request that
    ends early leaves it armed (it then finds nothing due and re-arms at the earliest
    left). A passed deadline cancels its task, as `asyncio.timeout` does, and
    `AiohttpTransport._request` turns that cancellation into its outcome.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[asyncio.Task[Any], Deadline] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def start(self, total_s: float) -> Deadline:
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("an aiohttp request runs in a task")
        deadline = Deadline(task, self._loop.time() + total_s)
        self._pending[task] = deadline
        if deadline.at < self._timer_at:
            self._arm(deadline.at)
        return deadline

    def connected(self) -> None:
        """The current task's request has its connection."""
        task = asyncio.current_task(self._loop)
        deadline = self._pending.get(task) if task is not None else None
        if deadline is not None:
            deadline.connected = True

    def finish(self, deadline: Deadline) -> None:
        self._pending.pop(deadline.task, None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = self._loop.call_at(at, self._expire), at

    def _expire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        now = self._loop.time()
        earliest = math.inf
        for task, deadline in list(self._pending.items()):
            if deadline.at <= now:
                del self._pending[task]
                deadline.expired = True
                task.cancel()
            else:
                earliest = min(earliest, deadline.at)
        if earliest < math.inf:
            self._arm(earliest)


class _Connector(aiohttp.TCPConnector):
    """A `TCPConnector` that tells `Deadlines` when a request has its connection."""

    def __init__(self, deadlines: Deadlines, **options: Any) -> None:
        super().__init__(**options)
        self._deadlines = deadlines

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[aiohttp.tracing.Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> aiohttp.connector.Connection:
        connection = await super().connect(req, traces, timeout)
        self._deadlines.connected()
        return connection


class AiohttpTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        keepalive_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._pool_size = pool_size
        self._keepalive_s = keepalive_s
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._deadlines: Deadlines | None = None
        # One ClientTimeout per distinct connect_s (in practice one), not per request.
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._urls: dict[str, yarl.URL] = {}

    # post and get hand back _request's coroutine rather than awaiting it: one coroutine
    # frame less per request on the hot path.
    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts
    ) -> Coroutine[None, None, HttpReply]:
        parsed: str | yarl.URL | None = self._urls.get(url)
        if parsed is None:
            try:
                parsed = yarl.URL(url)
            except ValueError:
                parsed = url  # aiohttp refuses it in _request, where that becomes NotSent
            else:
                if len(self._urls) < _URLS_KEPT:
                    self._urls[url] = parsed
        return self._request("POST", parsed, body, headers, timeouts)

    def get(
        self, url: str, headers: Mapping[str, str], timeouts: Timeouts
    ) -> Coroutine[None, None, HttpReply]:
        # Not kept: a GET's query carries the account's password.
        return self._request("GET", url, None, headers, timeouts)

    async def aclose(self) -> None:
        if self._deadlines is not None:
            self._deadlines.close()
        if self._session is not None:
            await self._session.close()

    async def _request(
        self,
        method: str,
        url: str | yarl.URL,
        body: bytes | None,
        headers: Mapping[str, str],
        timeouts: Timeouts,
    ) -> HttpReply:
        session = self._session or self._open()
        assert self._deadlines is not None  # opened with the session
        deadline = self._deadlines.start(timeouts.total_s)
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self._client_timeout(timeouts.connect_s),
                allow_redirects=False,
                ssl=self._ssl,
            ) as response:
                content = response.content
                payload = await content.read(MAX_REPLY_BYTES + 1)
                if not content.at_eof() or len(payload) > MAX_REPLY_BYTES:
                    # Not the usual one-line reply, complete in the first read.
                    payload = await _read_rest(content, payload)
                return HttpReply(status=response.status, body=payload)
        except asyncio.CancelledError:
            # Our deadline's cancellation, and no other: asked of the task by nobody else.
            if deadline.expired and deadline.task.uncancel() <= deadline.cancelling:
                if not deadline.connected:
                    raise NotSent("connect timeout") from None
                raise OutcomeUnknown("read timeout") from None
            raise
        # Before the request was written: DNS, refused, TLS handshake or certificate, connect
        # timeout (sock_connect covers TCP and TLS; aiohttp raises ConnectionTimeoutError for
        # any timeout while it is still getting a connection), and a URL it cannot use:
        # unparseable (InvalidURL) or not http/https (NonHttpUrlClientError, which is no
        # InvalidURL), both refused before any connection exists.
        except aiohttp.ClientConnectorError as exc:
            raise NotSent(_describe(exc)) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise NotSent("connect timeout") from exc
        except (
            aiohttp.ServerFingerprintMismatch,
            aiohttp.InvalidURL,
            aiohttp.NonHttpUrlClientError,
        ) as exc:
            raise NotSent(_describe(exc)) from exc
        # After it may have been written: reset or close while sending or reading (also on a
        # reused keep-alive connection), a malformed response.
        except (aiohttp.ClientError, OSError) as exc:
            raise OutcomeUnknown(_describe(exc)) from exc
        finally:
            self._deadlines.finish(deadline)

    def _open(self) -> aiohttp.ClientSession:
        self._deadlines = Deadlines(asyncio.get_running_loop())
        connector = _Connector(
            self._deadlines,
            limit=self._pool_size,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_s,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": _USER_AGENT},
            # iSMS sets no cookie we need; not storing any keeps each request stateless.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
        )
        return self._session

    def _client_timeout(self, connect_s: float) -> aiohttp.ClientTimeout:
        client_timeout = self._timeouts.get(connect_s)
        if client_timeout is None:
            # Only reaching the host: the whole request's deadline is Deadlines' (no pool
            # wait limit: the client's semaphore keeps in-flight requests within the pool).
            client_timeout = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=connect_s)
            self._timeouts[connect_s] = client_timeout
        return client_timeout


async def _read_rest(content: aiohttp.StreamReader, payload: bytes) -> bytes:
    """The rest of a body after its first read, or OutcomeUnknown past any iSMS reply's size."""
    chunks = [payload]
    size = len(payload)
    while size <= MAX_REPLY_BYTES and (chunk := await content.read(MAX_REPLY_BYTES + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_REPLY_BYTES:
        raise OutcomeUnknown(f"reply over {MAX_REPLY_BYTES} bytes is not an iSMS reply")
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    """The failure without the URL: aiohttp's messages can quote a GET query (with `pwd`)."""
    name = type(exc).__name__
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    strerror = cause.strerror if isinstance(cause, OSError) else None
    return f"{name}: {strerror}" if strerror else name
