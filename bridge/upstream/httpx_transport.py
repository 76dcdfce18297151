"""`HttpTransport` over httpx: one pooled AsyncClient, keep-alive, bounded reads.

`_request` is the one place where httpx exceptions become `NotSent` / `OutcomeUnknown`.
httpx already separates the two phases in its exception tree (ConnectError, ConnectTimeout
and PoolTimeout happen before the request is written), which this follows.
"""

from __future__ import annotations

import ssl
from collections.abc import Coroutine, Mapping

import httpx

from bridge.upstream.errors import NotSent, OutcomeUnknown
from bridge.upstream.transport import MAX_REPLY_BYTES, HttpReply, Timeouts

_USER_AGENT = "isms-bridge"


class HttpxTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        keepalive_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=pool_size,
                max_keepalive_connections=pool_size,
                keepalive_expiry=keepalive_s,
            ),
            headers={"User-Agent": _USER_AGENT},
            verify=ssl_context if ssl_context is not None else True,
            follow_redirects=False,
            trust_env=False,
        )
        self._timeouts: dict[Timeouts, httpx.Timeout] = {}

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
        await self._client.aclose()

    async def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeouts: Timeouts,
    ) -> HttpReply:
        try:
            # Inside the mapping too: build_request refuses a URL httpx cannot use.
            request = self._client.build_request(
                method, url, content=body, headers=headers, timeout=self._timeout(timeouts)
            )
            response = await self._client.send(request, stream=True)
            try:
                payload = await _read_bounded(response)
            finally:
                await response.aclose()
        # Before the request was written: DNS, refused, TLS, connect timeout, no free
        # connection in the pool, a URL httpx cannot use.
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(type(exc).__name__) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as exc:
            raise NotSent(type(exc).__name__) from exc
        # After it may have been written: write failed part-way, read timeout or error, a
        # malformed response, the server closing mid-exchange.
        except httpx.ReadTimeout as exc:
            raise OutcomeUnknown("read timeout") from exc
        except (httpx.HTTPError, httpx.StreamError, OSError, TimeoutError) as exc:
            raise OutcomeUnknown(type(exc).__name__) from exc
        return HttpReply(status=response.status_code, body=payload)

    def _timeout(self, timeouts: Timeouts) -> httpx.Timeout:
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            timeout = httpx.Timeout(
                connect=timeouts.connect_s,
                read=timeouts.total_s,
                write=timeouts.total_s,
                # Past the connect timeout waiting for a pooled connection: not sent.
                pool=timeouts.connect_s,
            )
            self._timeouts[timeouts] = timeout
        return timeout


async def _read_bounded(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise OutcomeUnknown(f"reply over {MAX_REPLY_BYTES} bytes is not an iSMS reply")
    return b"".join(chunks)
