"""At most N iSMS requests in flight per iSMS account; when all N are busy, urgent ones wait
at the front.

Submits with priority_flag >= 2 (OTPs, alerts; urgent in both readings of SMPP 3.4 §5.2.14)
go ahead of bulk when the upstream is saturated. Below the limit nothing waits and order
does not matter; at the limit a finished request hands its slot straight to the oldest
urgent waiter, else to the oldest bulk one.
Within a lane the order is first come, first served, so bulk is delayed but never starved
by other bulk.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Lane:
    in_flight: int = 0
    urgent: deque[asyncio.Future[None]] = field(default_factory=deque)
    bulk: deque[asyncio.Future[None]] = field(default_factory=deque)


class PrioritySlots:
    __slots__ = ("_lanes", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one request must be allowed in flight")
        self.limit = limit
        self._lanes: dict[str, _Lane] = {}

    def in_flight(self, account: str) -> int:
        lane = self._lanes.get(account)
        return 0 if lane is None else lane.in_flight

    def waiting(self, account: str) -> int:
        lane = self._lanes.get(account)
        return 0 if lane is None else len(lane.urgent) + len(lane.bulk)

    async def acquire(self, account: str, *, urgent: bool) -> None:
        lane = self._lanes.get(account)
        if lane is None:
            lane = self._lanes[account] = _Lane()
        if lane.in_flight < self.limit and not lane.urgent and not lane.bulk:
            lane.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = lane.urgent if urgent else lane.bulk
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(account)  # the slot was handed over just before the cancel
            elif waiter in queue:  # release() may already have skipped it
                queue.remove(waiter)
            raise

    def release(self, account: str) -> None:
        lane = self._lanes[account]
        for queue in (lane.urgent, lane.bulk):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes on; in_flight is unchanged
                    return
        lane.in_flight -= 1
        if lane.in_flight == 0:
            del self._lanes[account]
