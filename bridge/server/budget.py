"""How much of one connection's input is handled per turn of the event loop.

The loop is shared: while one connection's bytes are decoded and answered, no other
connection, timer or iSMS reply is served. A client writing as fast as it can hands over a
few hundred kilobytes per read (thousands of PDUs), and uvloop reads a socket up to 32 times
in a row, so handling everything that arrived at once would hold the loop for seconds. Each
connection therefore gets a slice per turn: at most `pdus` PDUs or `octets` octets, whichever
is spent first. What is left waits, with reading paused, for the connection's next turn
(loop.call_soon runs it after every other ready callback and socket has had its own).

    turn = TurnSlice(settings.read_budget)
    while (event := turn.next_event(session)) is not NEED_DATA:
        if event is SPENT:
            ...  # pause reading; carry on next turn
        ...
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.smpp import NEED_DATA, Event, NeedData, Session


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadBudget:
    """One connection's share of an event-loop turn.

    Every request of another client waits for several turns (its read, its iSMS request,
    the reply, its answer), so the turn must stay short while a flood goes on. Measured with
    bench/fairness.py beside a flooder on a 2-core machine: the second client's p50 was
    about 200 ms at 32 PDUs a turn, 70-90 ms at 16 and 30-45 ms at 8; 4 cost more
    turns for little more. 16 KiB bounds the turn when PDUs are large (one PDU always goes).
    """

    pdus: int = 8
    octets: int = 16_384

    def __post_init__(self) -> None:
        if self.pdus < 1:
            raise ValueError("a read budget needs at least 1 PDU per turn")
        # SMPP 3.4 §3.2: a PDU is at least its 16-octet header.
        if self.octets < 16:
            raise ValueError("a read budget needs at least 16 octets per turn")


class Spent(enum.Enum):
    """The turn's budget is used up: the session may still hold whole PDUs (an enum member,
    so `event is SPENT` narrows types for mypy, as `NEED_DATA` does)."""

    SPENT = "SPENT"


SPENT = Spent.SPENT


class TurnSlice:
    """What one connection may still handle in the current turn."""

    __slots__ = ("_octets", "_pdus")

    def __init__(self, budget: ReadBudget) -> None:
        self._pdus = budget.pdus
        self._octets = budget.octets

    def next_event(self, session: Session) -> Event | NeedData | Spent:
        """The session's next event while the budget lasts; SPENT once it does not.

        Every event counts as one PDU (timers and the peer's close are rare and cheap), and
        the octets it took out of the session's buffer count against `octets`.
        """
        if self._pdus <= 0 or self._octets <= 0:
            return SPENT
        before = session.buffered_bytes
        event = session.next_event()
        if event is NEED_DATA:
            return event
        self._pdus -= 1
        self._octets -= before - session.buffered_bytes
        return event
