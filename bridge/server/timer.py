"""ONE `loop.call_at` handle per connection, aimed at the earliest deadline asked for.

The handle is replaced only when a deadline moves earlier; one that fires early for what
is now later just lets its owner re-arm for whatever is next. uvloop's call_at returns a
plain Handle (no when()) for a past deadline, so the deadline is kept here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ConnectionTimer:
    __slots__ = ("_at", "_fire", "_handle", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._handle: asyncio.Handle | None = None
        self._at = 0.0

    def aim(self, deadline: float) -> None:
        if self._handle is not None:
            if self._at <= deadline:
                return  # it fires first, and re-arms for whatever is next
            self._handle.cancel()
        self._at = deadline
        self._handle = self._loop.call_at(deadline, self._fired)

    def due_time(self) -> float:
        """The loop's time, but never before the deadline that fired: event loops may run a
        timer a clock tick (uvloop: a millisecond) early, and it was due."""
        return max(self._loop.time(), self._at)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fired(self) -> None:
        self._handle = None
        self._fire()
