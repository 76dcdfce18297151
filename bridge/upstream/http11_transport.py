"""`HttpTransport` on asyncio Protocols: the bridge's own HTTP/1.1 client, replies parsed by
httptools (llhttp, the parser uvicorn uses).

It does only what the iSMS client needs: one request per connection at a time, keep-alive, a
bounded pool, TLS through asyncio, no redirects, cookies, proxies or compression. What it
saves against aiohttp is the per-request machinery around the exchange (request and response
objects, stream readers, timers, tracing): the request is one `bytes` built once and written
in one call, and the reply is one future resolved by the parser's callbacks.

Where a failure becomes `NotSent` or `OutcomeUnknown`, one place per phase:
- before the request is written, here: a URL or header it cannot send, no connection free in
  the pool before the deadline, and `_connect` (DNS, refused, TLS handshake or certificate,
  connect timeout), all `NotSent`;
- from `Http11Connection.send` on, in http11_connection.py: every failure is
  `OutcomeUnknown` (read timeout, reset, the server closing, a malformed or oversized reply).
A pooled connection the server closed while idle is found before it is written to (`usable`)
and replaced by another, so it costs neither a failover nor an unknown outcome.

Deadlines: `Timeouts.total_s` bounds the whole request, waiting for a connection included;
`connect_s` bounds opening one (TCP and TLS). The requests waiting for a reply share one
event-loop timer, armed at the earliest deadline known when it is armed (the aiohttp
adapter's `Deadlines` does the same for tasks); a passed deadline fails its reply at once.
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
from collections import deque
from collections.abc import Coroutine, Mapping
from functools import partial
from urllib.parse import urlsplit

from bridge.upstream.errors import NotSent
from bridge.upstream.http11_connection import Http11Connection
from bridge.upstream.transport import HttpReply, Timeouts

_USER_AGENT = "isms-bridge"
# POST URLs are the mirrors' endpoints: a handful. Parsed once each, up to this many.
_URLS_KEPT = 64
# A request target or host is visible ASCII only: no space, control character or line break
# can reach the request line (which would split it into two requests).
_VISIBLE = re.compile(r"[!-~]+")
# A deadline timer may fire a little before its time (uvloop counts in milliseconds).
_TIMER_SLACK_S = 0.001
_CLOSED_REASON = "the HTTP transport is closed"

PoolKey = tuple[str, int, bool]


class Route:
    """Where one URL's requests go: the host's pool of idle connections, and the request
    head up to the caller's headers, encoded once."""

    __slots__ = ("head", "host", "idle", "port", "tls")

    def __init__(
        self, *, host: str, port: int, tls: bool, head: bytes, idle: list[Http11Connection]
    ):
        self.host = host
        self.port = port
        self.tls = tls
        self.head = head
        # Idle connections to this host (shared by every route to it), oldest first; the
        # newest is reused first, so the ones left over grow old and are closed.
        self.idle = idle


class Http11Transport:
    def __init__(
        self,
        *,
        pool_size: int,
        keepalive_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool_size = pool_size
        self._keepalive_s = keepalive_s
        self._ssl_context = ssl_context
        self._routes: dict[str, Route] = {}
        self._idle: dict[PoolKey, list[Http11Connection]] = {}
        # Connections carrying a request, each with its deadline: what the timer looks at.
        self._busy: set[Http11Connection] = set()
        # Connections taken or being opened, across hosts: at most pool_size (as aiohttp's
        # `limit`); requests beyond it wait in order for one to be put back.
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    # post and get hand back _request's coroutine rather than awaiting it: one coroutine
    # frame less per request on the hot path.
    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts
    ) -> Coroutine[None, None, HttpReply]:
        return self._request("POST", url, body, headers, timeouts)

    def get(
        self, url: str, headers: Mapping[str, str], timeouts: Timeouts
    ) -> Coroutine[None, None, HttpReply]:
        return self._request("GET", url, None, headers, timeouts)

    async def aclose(self) -> None:
        self._closed = True
        for timer in (self._timer, self._sweeper):
            if timer is not None:
                timer.cancel()
        self._timer = self._sweeper = None
        self._timer_at = math.inf
        for idle in self._idle.values():
            for connection in idle:
                connection.abort()
            idle.clear()
        for connection in list(self._busy):
            connection.fail(_CLOSED_REASON)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(NotSent(_CLOSED_REASON))
        # Let the transports' connection_lost run, so their sockets are closed on return.
        await asyncio.sleep(0)

    # -- one request ---------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeouts: Timeouts,
    ) -> HttpReply:
        loop = self._loop or self._start()
        at = loop.time() + timeouts.total_s
        # Not kept for GET: its query carries the account's password.
        route = self._routes.get(url) if body is not None else None
        if route is None:
            route = self._route(method, url, keep=body is not None)
        request = _request_bytes(route.head, headers, body)
        connection = self._take_idle(route)
        if connection is None:
            connection = await self._take(route, at, timeouts.connect_s)
        connection.deadline = at
        self._busy.add(connection)
        if at < self._timer_at:
            self._arm(at)
        try:
            return await connection.send(request)
        finally:
            self._busy.discard(connection)
            self._put_back(route, connection)

    def _start(self) -> asyncio.AbstractEventLoop:
        self._loop = loop = asyncio.get_running_loop()
        return loop

    def _route(self, method: str, url: str, *, keep: bool) -> Route:
        """The URL parsed, or NotSent for one this client cannot send to (the message
        never names the URL: a GET's query holds the password)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise NotSent("a URL that cannot be parsed") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise NotSent(f"a URL with scheme {scheme!r}, not http or https")
        host = parts.hostname or ""
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        if not _VISIBLE.fullmatch(host) or not _VISIBLE.fullmatch(target):
            raise NotSent("a URL with characters a request line cannot carry")
        tls = scheme == "https"
        default_port = 443 if tls else 80
        if port is None:
            port = default_port
        authority = f"[{host}]" if ":" in host else host
        if port != default_port:
            authority = f"{authority}:{port}"
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {_USER_AGENT}\r\n"
        ).encode("ascii")
        key = (host, port, tls)
        idle = self._idle.get(key)
        if idle is None:
            idle = self._idle[key] = []
        route = Route(host=host, port=port, tls=tls, head=head, idle=idle)
        if keep and len(self._routes) < _URLS_KEPT:
            self._routes[url] = route
        return route

    # -- the pool ------------------------------------------------------------------------------

    def _take_idle(self, route: Route) -> Http11Connection | None:
        """An idle connection to the route's host, with a free slot and nobody waiting for
        one: the usual case, taken without a coroutine of its own."""
        idle = route.idle
        if not idle or self._in_use >= self._pool_size or self._waiters or self._closed:
            return None
        assert self._loop is not None
        now = self._loop.time()
        while idle:
            connection = idle.pop()
            if connection.usable(now, self._keepalive_s):
                self._in_use += 1
                return connection
            connection.close()  # closed by the server, or kept too long
        return None

    async def _take(self, route: Route, at: float, connect_s: float) -> Http11Connection:
        """A connection for `route`: a usable idle one, or a new one. NotSent if none is had
        before the deadline."""
        if self._closed:
            raise NotSent(_CLOSED_REASON)
        if self._in_use < self._pool_size and not self._waiters:
            self._in_use += 1
        else:
            await self._wait_for_slot(at)
        try:
            idle = route.idle
            if idle:
                assert self._loop is not None
                now = self._loop.time()
                while idle:
                    connection = idle.pop()
                    if connection.usable(now, self._keepalive_s):
                        return connection
                    connection.close()  # closed by the server, or kept too long
            return await self._connect(route, at, connect_s)
        except BaseException:
            self._free_slot()
            raise

    async def _wait_for_slot(self, at: float) -> None:
        assert self._loop is not None
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(at):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._free_slot()  # granted just as it was given up: passed on
            elif not waiter.done():
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise NotSent("connect timeout: no connection free in the pool") from None
            raise

    async def _connect(self, route: Route, at: float, connect_s: float) -> Http11Connection:
        loop = self._loop
        assert loop is not None
        tls = self._tls_context() if route.tls else None
        try:
            async with asyncio.timeout_at(min(at, loop.time() + connect_s)):
                _, connection = await loop.create_connection(
                    partial(Http11Connection, loop),
                    route.host,
                    route.port,
                    ssl=tls,
                    server_hostname=route.host if tls is not None else None,
                )
        # Nothing of the request is written before a connection exists: DNS, refused,
        # unreachable, the TLS handshake or the certificate (ssl errors are OSErrors; a
        # hostname mismatch is also a ValueError), and the connect timeout.
        except TimeoutError:
            raise NotSent("connect timeout") from None
        except (OSError, ValueError) as exc:
            raise NotSent(_describe(exc)) from exc
        if self._closed:
            connection.abort()
            raise NotSent(_CLOSED_REASON)
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _put_back(self, route: Route, connection: Http11Connection) -> None:
        if connection.reusable and self._keepalive_s > 0 and not self._closed:
            loop = self._loop
            assert loop is not None
            connection.idle_since = now = loop.time()
            route.idle.append(connection)
            if self._sweeper is None:
                self._sweeper = loop.call_at(now + self._keepalive_s, self._sweep)
        else:
            # Connection: close, a reply framed by the connection's end, a failure, or an
            # exchange cut short (cancelled): nothing more is written on it.
            connection.abort()
        self._free_slot()

    def _free_slot(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the longest waiting request
                return
        self._in_use -= 1

    def _sweep(self) -> None:
        """Close the idle connections past keepalive_s or closed by the server."""
        loop = self._loop
        assert loop is not None
        self._sweeper = None
        now = loop.time()
        oldest = math.inf
        for idle in self._idle.values():
            kept = []
            for connection in idle:
                if connection.usable(now, self._keepalive_s):
                    kept.append(connection)
                else:
                    connection.close()
            idle[:] = kept
            if kept:
                oldest = min(oldest, kept[0].idle_since)
        if oldest < math.inf:
            self._sweeper = loop.call_at(oldest + self._keepalive_s, self._sweep)

    # -- deadlines -----------------------------------------------------------------------------

    def _arm(self, at: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = self._loop.call_at(at, self._expire), at

    def _expire(self) -> None:
        assert self._loop is not None
        self._timer, self._timer_at = None, math.inf
        now = self._loop.time() + _TIMER_SLACK_S
        earliest = math.inf
        for connection in list(self._busy):
            if connection.deadline <= now:
                connection.deadline = math.inf
                connection.fail("read timeout")
            else:
                earliest = min(earliest, connection.deadline)
        if earliest < math.inf:
            self._arm(earliest)


def _request_bytes(head: bytes, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """The whole request, built once: written in one call, sent in one segment if it fits."""
    if headers:
        lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        # One line break per header, the ones put here: a name or value with its own would
        # split the head (header injection).
        if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
            raise NotSent("a header with a line break")
        try:
            extra = lines.encode("latin-1")
        except UnicodeEncodeError:
            raise NotSent("a header that is not Latin-1") from None
    else:
        extra = b""
    if body is None:
        return b"".join((head, extra, b"\r\n"))
    return b"".join((head, extra, b"Content-Length: %d\r\n\r\n" % len(body), body))


def _describe(exc: BaseException) -> str:
    """The failure without the URL: a GET's query holds the password."""
    name = type(exc).__name__
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{name}: {exc.reason}"
    strerror = exc.strerror if isinstance(exc, OSError) else None
    return f"{name}: {strerror}" if strerror else name
