"""Per-message counter increments kept as plain numbers, handed to their series when read.

A prometheus_client `Counter.inc` takes a lock and checks its child on every call: about
1 µs here, six of them per submit. A tally is one attribute add. `Tallies` is registered in
the registry before any series, so every collection (a scrape, a test reading a sample)
first adds what the tallies hold to their children: what is read is exactly what direct
calls would have shown. (Histograms are not prometheus_client's at all, since its public API
has no way to add a count to a bucket: histograms.py holds and exports them itself.)

Tallies are fed and collected on the event loop's thread (the /metrics handler runs on the
loop), so a flush never races an increment.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import Metric


class CounterTally:
    """Increments of one counter child, added to it at the next collection."""

    __slots__ = ("_child", "_pending")

    def __init__(self, child: Counter) -> None:
        self._child = child
        self._pending = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self._pending += amount

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, 0.0
            self._child.inc(pending)


class Tallies:
    """Every tally of one registry: a collector that yields nothing and flushes them all.

    One tally per label child, so the tallies are as bounded as the children are.
    """

    __slots__ = ("_counters",)

    def __init__(self) -> None:
        self._counters: dict[int, CounterTally] = {}

    def counter(self, child: Counter) -> CounterTally:
        tally = self._counters.get(id(child))
        if tally is None:
            tally = self._counters[id(child)] = CounterTally(child)
        return tally

    def flush(self) -> None:
        for counter in self._counters.values():
            counter.flush()

    # --- the prometheus_client Collector protocol -------------------------------------------

    def describe(self) -> list[Metric]:
        return []  # no series of its own (and registering it collects nothing)

    def collect(self) -> Iterator[Metric]:
        self.flush()
        return iter(())
