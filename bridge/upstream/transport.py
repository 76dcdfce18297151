"""The HTTP seam: what the iSMS client needs from an HTTP library, and nothing more.

`HttpTransport` sends an already-encoded request and returns the status and body. It reports
every failure as `NotSent` or `OutcomeUnknown` (see errors.py); HTTP error statuses are not
failures here but replies, and the failover policy in mirrors.py judges them. No library type
crosses this seam, so the client, its tests and the benchmarks run on any adapter.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

# iSMS replies are one short line; a bigger body is an error page, never a reply worth
# reading whole (adapters stop at this size and report OutcomeUnknown).
MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """connect_s bounds reaching the host (TCP + TLS); total_s bounds the whole request.

    Past connect_s nothing was written (NotSent); past total_s the request may have been
    written (OutcomeUnknown).
    """

    connect_s: float
    total_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpReply:
    status: int
    body: bytes


class HttpTransport(Protocol):
    """One pooled HTTP client. Raises only `NotSent` or `OutcomeUnknown`."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts
    ) -> HttpReply: ...

    async def get(self, url: str, headers: Mapping[str, str], timeouts: Timeouts) -> HttpReply: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SeenRequest:
    """A request as a `FakeTransport` received it."""

    method: str
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


FakeHandler = Callable[[SeenRequest], HttpReply | Awaitable[HttpReply]]


class FakeTransport:
    """An `HttpTransport` answered by a plain function (httpx's MockTransport pattern).

    The handler returns an `HttpReply` or raises `NotSent` / `OutcomeUnknown`, exactly as a
    real adapter would; `requests` records every call, because "sent once" is the contract.
    """

    def __init__(self, handler: FakeHandler) -> None:
        self._handler = handler
        self.requests: list[SeenRequest] = []
        self.closed = False

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeouts: Timeouts
    ) -> HttpReply:
        return await self._call(SeenRequest(method="POST", url=url, body=body, headers=headers))

    async def get(self, url: str, headers: Mapping[str, str], timeouts: Timeouts) -> HttpReply:
        return await self._call(SeenRequest(method="GET", url=url, body=b"", headers=headers))

    async def aclose(self) -> None:
        self.closed = True

    async def _call(self, request: SeenRequest) -> HttpReply:
        self.requests.append(request)
        answer = self._handler(request)
        if inspect.isawaitable(answer):
            return await answer
        return answer
