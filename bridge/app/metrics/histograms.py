"""Histograms counted in plain lists and written out by a collector of their own.

prometheus_client's `Histogram.observe` takes a lock for the sum and another for the bucket
and finds the bucket with a Python loop over its bounds: about 14,000 instructions per
observation here, and a submit makes two (its answer, its iSMS request). A `Buckets` child
counts one with a bisect (C) and two additions. At each collection `HistogramSeries`
writes its children out as a `HistogramMetricFamily` (prometheus_client's documented way of
exporting a series it does not hold itself), with the same names, labels, `le` values and
cumulative counts a `Histogram` would show.

Observed and collected on the event loop's thread (the /metrics handler runs on the loop,
as tally.py's counters rely on too), so a collection never sees half an observation.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString


class Buckets:
    """One child: the count of observations per bucket (not cumulative) and their sum."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * len(bounds)
        self.total = 0.0

    def observe(self, amount: float) -> None:
        # The first bound >= amount: Prometheus buckets are "less than or equal" (le).
        self.counts[bisect_left(self._bounds, amount)] += 1
        self.total += amount


class HistogramSeries:
    """A histogram series with labels (or none), registered in `registry` as a collector
    (durations in seconds, or any other amount, such as operations per commit)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        bounds = tuple(float(bound) for bound in buckets)
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"{name}: bucket bounds must be increasing")
        if not bounds or bounds[-1] != math.inf:
            bounds += (math.inf,)
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._bounds = bounds
        self._le = [floatToGoString(bound) for bound in bounds]  # type: ignore[no-untyped-call]
        self._children: dict[tuple[str, ...], Buckets] = {}
        if not self._labelnames:
            self.labels()  # shown (at zero) from the start, as a Histogram without labels is
        registry.register(self)

    def labels(self, *values: str) -> Buckets:
        """The child for these label values (made on first use; callers keep it)."""
        if len(values) != len(self._labelnames):
            raise ValueError(f"{self._name} takes labels {self._labelnames}, not {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = Buckets(self._bounds)
        return child

    def observe(self, amount: float) -> None:
        """For a series without labels."""
        self.labels().observe(amount)

    # --- the prometheus_client Collector protocol -------------------------------------------

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        for values, child in self._children.items():
            cumulative, buckets = 0, []
            for le, count in zip(self._le, child.counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric(list(values), buckets, child.total)
        yield family
