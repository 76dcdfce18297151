"""The event loop's lag: how late it runs a timer that is due, sampled a few times a second.

Every answer, timer and iSMS reply of the process waits behind whatever callback is running,
so the lag is the delay everyone shares. It is also why an iSMS deadline can pass while
iSMS itself was quick: the reply sat in the socket while the loop was busy elsewhere. A
timer is set `interval_s` ahead; when it runs, how much later than asked is one sample.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bridge.server.eventlog import RepeatedEvents

log = logging.getLogger(__name__)

# A lag this long delays every session's answers noticeably (and eats into iSMS deadlines):
# worth a warning line, summed per interval while it lasts.
WARN_LAG_S = 0.25


class LoopLagSampler:
    """Samples the loop's lag every `interval_s` and hands each sample to `report`."""

    __slots__ = ("_due", "_handle", "_interval_s", "_loop", "_repeats", "_report", "worst_s")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval_s: float,
        report: Callable[[float], None],
        *,
        summary_interval_s: float = 10.0,
    ) -> None:
        if not interval_s > 0:
            raise ValueError("the lag sampling interval must be more than 0 seconds")
        self._loop = loop
        self._interval_s = interval_s
        self._report = report
        self._repeats = RepeatedEvents(summary_interval_s)
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self.worst_s = 0.0  # the largest sample so far

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        if self._handle is None:
            self._schedule(self._loop.time())

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for _name, count in self._repeats.summaries(self._loop.time(), final=True):
            log.warning("event=loop_lag_summary count=%d", count)

    def _schedule(self, now: float) -> None:
        self._due = now + self._interval_s
        self._handle = self._loop.call_at(self._due, self._fired)

    def _fired(self) -> None:
        now = self._loop.time()
        # Loops may run a timer a clock tick early (uvloop: a millisecond): that is no lag.
        lag = max(0.0, now - self._due)
        self.worst_s = max(self.worst_s, lag)
        try:
            self._report(lag)
        except Exception:
            log.exception("event=loop_lag_report_failed")
        if lag >= WARN_LAG_S and self._repeats.occurred("loop_lag", now):
            log.warning("event=loop_lag lag_s=%.3f", lag)
        for _name, count in self._repeats.summaries(now):
            log.warning(
                "event=loop_lag_summary count=%d seconds=%g", count, self._repeats.interval_s
            )
        self._schedule(now)
