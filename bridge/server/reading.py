"""Why one connection's reading is paused, and its share of the current event-loop turn.

Reading stops for several independent reasons at once; the transport reads again only when
none is left. The read budget (budget.py) is the one reason that clears itself: once it is
the only one left, the input already buffered is handled on the connection's next turn
(`carry_on`) before the transport reads on, so a client writing as fast as it can costs its
own answers and not everyone's latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bridge.server.budget import ReadBudget, TurnSlice

# Plain int flags rather than an enum.IntFlag: they are combined on every slice of input.
WRITE_BACKLOG = 1  # the ESME is not reading our answers (pause_writing)
SHUTDOWN = 2  # graceful stop: no new requests while in-flight ones finish
REFUSED = 4  # a refused bind: nothing more is read before the close
BUDGET = 8  # this turn's read budget is spent: the rest is handled on the next turn
CLAIMING = 16  # a bind waits for its cluster-wide max_binds lease


class ReadGate:
    """One connection's reasons to pause reading, and the slice of the turn it is in."""

    __slots__ = ("_budget", "_carry_on", "_loop", "_paused", "_transport", "_turn")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, budget: ReadBudget, carry_on: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._budget = budget
        self._carry_on = carry_on  # called on a new turn while the budget alone holds reading
        self._transport: asyncio.ReadTransport | None = None
        self._paused = 0
        self._turn: TurnSlice | None = None

    def attach(self, transport: asyncio.ReadTransport) -> None:
        self._transport = transport

    @property
    def budget_spent(self) -> bool:
        return bool(self._paused & BUDGET)

    def turn(self) -> TurnSlice:
        """This turn's slice; the first ask in a turn starts it and schedules the next."""
        turn = self._turn
        if turn is None:
            turn = self._turn = TurnSlice(self._budget)
            self._loop.call_soon(self._next_turn)
        return turn

    def pause(self, reason: int) -> None:
        if not self._paused and self._transport is not None:
            self._transport.pause_reading()
        self._paused |= reason

    def resume(self, reason: int) -> None:
        was = self._paused
        self._paused &= ~reason
        if was == self._paused:
            return
        if self._paused == BUDGET:
            # The other reasons are gone: input left over is handled before reading on.
            if self._turn is None:
                self._loop.call_soon(self._next_turn)
        elif not self._paused and self._transport is not None:
            self._transport.resume_reading()

    def _next_turn(self) -> None:
        """A new loop turn: a fresh budget, and the input left over from the last one."""
        self._turn = None
        if self._paused == BUDGET:
            self._carry_on()
