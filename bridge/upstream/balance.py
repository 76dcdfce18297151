"""Polling each iSMS account's credit balance (isms_balance.php) every few minutes.

The poller keeps the last reading per account and hands each new one to a callback (the
metrics gauge plugs in there). A failed poll is a reading too, so a gauge or a log can show
that the balance is stale and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bridge.upstream.codes import ACCOUNT_FIXES, IsmsCode, code_name
from bridge.upstream.errors import UpstreamError
from bridge.upstream.messages import IsmsCredentials
from bridge.upstream.replies import BalanceReply

log = logging.getLogger(__name__)


class BalanceSource(Protocol):
    async def balance(self, credentials: IsmsCredentials) -> BalanceReply: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceReading:
    """One poll of one account: `credits`, or the iSMS `code` it refused with, or `error`."""

    username: str
    credits: Decimal | None
    code: int | None = None
    error: str = ""
    at: float  # wall-clock time (time.time()), for display

    @property
    def ok(self) -> bool:
        return self.credits is not None


BalanceCallback = Callable[[BalanceReading], None]


class BalancePoller:
    def __init__(
        self,
        source: BalanceSource,
        accounts: Iterable[IsmsCredentials],
        *,
        interval_s: float,
        on_reading: BalanceCallback | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive (leave the poller out to disable it)")
        # Several ESME accounts may share one iSMS account: poll each iSMS account once.
        self._accounts = {c.username: c for c in accounts}
        self._source = source
        self._interval_s = interval_s
        self._on_reading = on_reading
        self._task: asyncio.Task[None] | None = None
        self.last: dict[str, BalanceReading] = {}

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("this BalancePoller was already started")
        self._task = asyncio.create_task(self._run(), name="isms-balance-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def poll_once(self) -> list[BalanceReading]:
        readings = await asyncio.gather(*(self._poll(c) for c in self._accounts.values()))
        for reading in readings:
            self.last[reading.username] = reading
            if self._on_reading is not None:
                try:
                    self._on_reading(reading)
                except Exception:
                    log.exception("isms balance callback failed for %s", reading.username)
        return list(readings)

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self._interval_s)

    async def _poll(self, credentials: IsmsCredentials) -> BalanceReading:
        username = credentials.username
        try:
            reply = await self._source.balance(credentials)
        except UpstreamError as exc:
            log.warning("isms balance of %s unavailable: %s", username, exc)
            return BalanceReading(username=username, credits=None, error=str(exc), at=time.time())
        except Exception as exc:
            # A bug must cost one reading, not the poller: its task would end silently.
            log.exception("isms balance of %s failed", username)
            error = type(exc).__name__
            return BalanceReading(username=username, credits=None, error=error, at=time.time())
        if reply.credits is not None:
            log.info("isms balance of %s: %s", username, reply.credits)
            return BalanceReading(username=username, credits=reply.credits, at=time.time())
        assert reply.code is not None
        fix = _fix_for(reply.code)
        log.error(
            "isms balance of %s refused: %d (%s)%s",
            username,
            reply.code,
            code_name(reply.code),
            f"; fix: {fix}" if fix else "",
        )
        return BalanceReading(
            username=username,
            credits=None,
            code=reply.code,
            error=reply.description or code_name(reply.code),
            at=time.time(),
        )


def _fix_for(code: int) -> str:
    try:
        return ACCOUNT_FIXES.get(IsmsCode(code), "")
    except ValueError:
        return ""
