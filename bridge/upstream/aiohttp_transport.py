"""`HttpTransport` over aiohttp: one pooled session per process, keep-alive, bounded reads.

`_request` is the one place where aiohttp exceptions become `NotSent` / `OutcomeUnknown`.
"""

from __future__ import annotations

import ssl
from collections.abc import Coroutine, Mapping

import aiohttp

from bridge.upstream.errors import NotSent, OutcomeUnknown
from bridge.upstream.transport import MAX_REPLY_BYTES, HttpReply, Timeouts

_USER_AGENT = "isms-bridge"


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
        # One ClientTimeout per distinct Timeouts value (in practice one), not per request.
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

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
        if self._session is not None:
            await self._session.close()

    async def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeouts: Timeouts,
    ) -> HttpReply:
        session = self._session or self._open()
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self._client_timeout(timeouts),
                allow_redirects=False,
                ssl=self._ssl,
            ) as response:
                content = response.content
                payload = await content.read(MAX_REPLY_BYTES + 1)
                if not content.at_eof() or len(payload) > MAX_REPLY_BYTES:
                    # Not the usual one-line reply, complete in the first read.
                    payload = await _read_rest(content, payload)
                return HttpReply(status=response.status, body=payload)
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
        # After it may have been written: the request's deadline passed while waiting for the
        # reply, reset or close while sending or reading (also on a reused keep-alive
        # connection), a malformed response.
        except TimeoutError as exc:
            raise OutcomeUnknown("read timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise OutcomeUnknown(_describe(exc)) from exc

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
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

    def _client_timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        client_timeout = self._timeouts.get(timeouts)
        if client_timeout is None:
            # One deadline for the whole request (one timer; a sock_read timeout would re-arm
            # a timer on every chunk) and a shorter one for reaching the host. No pool wait
            # limit: the client's semaphore keeps in-flight requests within the pool size.
            client_timeout = aiohttp.ClientTimeout(
                total=timeouts.total_s, connect=None, sock_connect=timeouts.connect_s
            )
            self._timeouts[timeouts] = client_timeout
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
