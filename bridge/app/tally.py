"""Per-message increments kept as plain numbers, handed to their series when they are read.

A prometheus_client `Counter.inc` takes a lock and checks its child on every call, and
`Histogram.observe` does that for its sum and then walks the buckets in Python: together
about 10 µs of the ~250 µs the bridge spends on a submit, for eight calls. A tally is one
attribute add (a bisect and two adds for a histogram). `Tallies` is registered in the
registry before any series, so every collection (a scrape, a test reading a sample) first
adds what the tallies hold to their children: what is read is exactly what direct calls
would have shown.

Tallies are fed and collected on the event loop's thread (the /metrics handler runs on the
loop), so a flush never races an increment.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
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


class HistogramTally:
    """Observations of one histogram child as bucket counts and a sum, added at collection."""

    __slots__ = ("_bounds", "_child", "_counts", "_sum")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        self._bounds: list[float] = list(child._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0

    def observe(self, amount: float) -> None:
        self._sum += amount
        index = bisect_left(self._bounds, amount)
        # The first bucket whose bound is >= amount (the last is +Inf); NaN falls in none,
        # as with Histogram.observe.
        if index < len(self._bounds) and amount <= self._bounds[index]:
            self._counts[index] += 1

    def flush(self) -> None:
        if not any(self._counts) and not self._sum:
            return
        child = self._child
        # Histogram.observe adds to `_sum` and to one of `_buckets`, a value each (cumulative
        # counts are computed when the histogram is collected); these are those adds, summed.
        child._sum.inc(self._sum)
        for bucket, count in zip(child._buckets, self._counts, strict=True):
            if count:
                bucket.inc(count)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0


class Tallies:
    """Every tally of one registry: a collector that yields nothing and flushes them all.

    One tally per label child, so the tallies are as bounded as the children are.
    """

    __slots__ = ("_counters", "_histograms")

    def __init__(self) -> None:
        self._counters: dict[int, CounterTally] = {}
        self._histograms: dict[int, HistogramTally] = {}

    def counter(self, child: Counter) -> CounterTally:
        tally = self._counters.get(id(child))
        if tally is None:
            tally = self._counters[id(child)] = CounterTally(child)
        return tally

    def histogram(self, child: Histogram) -> HistogramTally:
        tally = self._histograms.get(id(child))
        if tally is None:
            tally = self._histograms[id(child)] = HistogramTally(child)
        return tally

    def flush(self) -> None:
        for counter in self._counters.values():
            counter.flush()
        for histogram in self._histograms.values():
            histogram.flush()

    # --- the prometheus_client Collector protocol -------------------------------------------

    def describe(self) -> list[Metric]:
        return []  # no series of its own (and registering it collects nothing)

    def collect(self) -> Iterator[Metric]:
        self.flush()
        return iter(())
