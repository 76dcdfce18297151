"""Refusals one request can make by the hundred, logged without a line each.

A submit_multi names up to 254 destinations (SMPP 3.4 §4.5.1), and each that cannot become an
iSMS number is refused alone (checks/submission.py, rule 1). They are logged the way the
server logs its repeated events (window_full, throttled, connection_refused):
1. The first `destination_refused` of an account and status in an interval (10 s) is written
   in full, with the session, sequence_number and the reason (which names the address).
2. The rest in that interval are counted. When it is over, one line gives the count,
   `event=destination_refused_summary system_id=esme1 status=ESME_RINVDSTADR
   reason="invalid destination address" count=253 seconds=10`, and a new interval opens at
   once if any were counted (a flood gives one summary per interval); else the next refusal
   is written in full again.
3. The key is bounded: (account, status), never the address.
4. No timer of its own: the pipeline's sweep (each second) writes the summaries due, and its
   stop writes what is still counted.
The scheme is the server's `RepeatedEvents`; the pipeline sits beside the server and may not
import it, so it is restated here for the one event that needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.pdu import status_description, status_name
from bridge.pipeline.checks.submission import MultiDestinations
from bridge.pipeline.seams import SessionInfo

log = logging.getLogger(__name__)

SUMMARY_INTERVAL_S = 10.0  # as the server's log_summary_interval_s


class RefusalLog:
    """`destination_refused` lines: the first in full, the rest summed per interval."""

    __slots__ = ("_clock", "_open", "interval_s")

    def __init__(self, clock: Callable[[], float], interval_s: float = SUMMARY_INTERVAL_S) -> None:
        self._clock = clock
        self.interval_s = interval_s
        # (system_id, status) -> [end of its interval, refusals counted and not written]
        self._open: dict[tuple[str, int], list[float]] = {}

    def destinations_refused(
        self, context: SessionInfo, sequence_number: int, destinations: MultiDestinations
    ) -> None:
        if not destinations.refused or not log.isEnabledFor(logging.INFO):
            return
        now = self._clock()
        # The checks give one reason per refusal, in the order of `refused`.
        refusals = zip(destinations.reasons, destinations.refused.values(), strict=True)
        for reason, unsuccess in refusals:
            status = unsuccess.error_status_code
            if self._in_full((context.system_id, status), now):
                log.info(
                    "event=destination_refused session=%s system_id=%s seq=%d status=%s reason=%r",
                    context.session_id,
                    context.system_id,
                    sequence_number,
                    status_name(status),
                    reason,
                )

    def write_summaries(self, *, final: bool = False) -> None:
        """A line for each interval over that counted refusals (each one when `final`)."""
        now = self._clock()
        for key, window in list(self._open.items()):
            if not final and window[0] > now:
                continue
            count = int(window[1])
            if count and not final:
                self._open[key] = [now + self.interval_s, 0]
            else:
                del self._open[key]
            if count:
                system_id, status = key
                log.info(
                    "event=destination_refused_summary system_id=%s status=%s reason=%r "
                    "count=%d seconds=%g",
                    system_id,
                    status_name(status),
                    status_description(status),
                    count,
                    self.interval_s,
                )

    def _in_full(self, key: tuple[str, int], now: float) -> bool:
        window = self._open.get(key)
        if window is None or (window[0] <= now and not window[1]):
            self._open[key] = [now + self.interval_s, 0]
            return True
        window[1] += 1
        return False
