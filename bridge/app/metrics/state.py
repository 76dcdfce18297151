"""The state store's series: commits (latency, batch size, failures), what it holds, what a
start recovered, its file size, and whether it can be written.

    isms_bridge_state_commit_seconds           histogram  one group commit, off the loop
    isms_bridge_state_commit_operations        histogram  operations per group commit
    isms_bridge_state_commit_failures_total    counter    commits that failed (nothing kept)
    isms_bridge_state_receipts{state}          gauge      held (waiting) / sent (unconfirmed)
    isms_bridge_state_recovered{kind}          gauge      found at start: receipts,
                                                          long_messages, retries, records
    isms_bridge_state_file_bytes               gauge      database + WAL (0 without a file)
    isms_bridge_state_wal_bytes                gauge      the WAL alone: grows while a reader
                                                          holds a snapshot (0 without a file)
    isms_bridge_state_writable                 gauge      1, or 0 while submits get ESME_RSYSERR
    isms_bridge_state_lost_total{kind}         counter    items the store found gone (an evicted
                                                          Redis key): entry (a held receipt),
                                                          record, group (a long message's parts)
    isms_bridge_state_epoch_changes_total      counter    times the shared Redis was found to
                                                          have lost everything (restarted empty)

`StateMetrics` is the store's `CommitObserver` (the writer thread calls it; prometheus_client
is thread-safe) and its `LossObserver`; the gauges are read from the pipeline and the store
at each scrape. After a total loss, `intact()` is False for `LOSS_UNREADY_S`: /readyz fails
its `state_intact` check meanwhile, so the loss shows where operators look first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from bridge.app.metrics.histograms import HistogramSeries
from bridge.app.metrics.series import NAMESPACE
from bridge.pipeline import MessagePipeline
from bridge.state import SqliteState, StateStore

# Seconds: a group commit in WAL mode without fsync is tens of µs, with fsync (or a slow
# disk) milliseconds; anything near a second stalls every answer behind it.
COMMIT_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
RECOVERED_KINDS = ("receipts", "long_messages", "retries", "records")
# What a backend reports lost (LossObserver.entries_lost), each exported from the start.
LOST_KINDS = ("entry", "record", "group")
# Seconds /readyz fails `state_intact` after the store lost everything (five minutes: long
# enough for a probe and a person to see it, short enough not to keep a bridge out for good).
LOSS_UNREADY_S = 300.0


class StateMetrics:
    """A `CommitObserver` and `LossObserver` counting into `registry`."""

    def __init__(
        self, registry: CollectorRegistry, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lost_at: float | None = None
        self._seconds = HistogramSeries(
            f"{NAMESPACE}_state_commit_seconds",
            "Time one group commit of the state store took (off the event loop)",
            buckets=COMMIT_BUCKETS,
            registry=registry,
        )
        self._operations = HistogramSeries(
            f"{NAMESPACE}_state_commit_operations",
            "Operations committed together in one group commit",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self._failures = Counter(
            f"{NAMESPACE}_state_commit_failures",
            "Group commits that failed (disk full, I/O error, lock timeout): nothing was kept",
            registry=registry,
        )
        self._lost = Counter(
            f"{NAMESPACE}_state_lost",
            "Items the state store found gone and skipped (an evicted Redis key): entry = a "
            "held receipt, record, group = a long message's parts",
            labelnames=("kind",),
            registry=registry,
        )
        for kind in LOST_KINDS:
            self._lost.labels(kind)
        self._epoch_changes = Counter(
            f"{NAMESPACE}_state_epoch_changes",
            "Times the shared state (Redis) was found to have lost everything it held "
            "(its epoch marker missing or changed: restarted without persistence, flushed)",
            registry=registry,
        )

    def committed(self, *, seconds: float, operations: int) -> None:
        self._seconds.observe(seconds)
        self._operations.observe(operations)

    def commit_failed(self, *, reason: str) -> None:
        self._failures.inc()

    def entries_lost(self, *, kind: str, count: int) -> None:
        self._lost.labels(kind).inc(count)

    def state_lost(self, *, reason: str) -> None:
        self._epoch_changes.inc()
        self._lost_at = self._clock()

    def intact(self) -> bool:
        """False for LOSS_UNREADY_S after the store was found to have lost everything."""
        return self._lost_at is None or self._clock() - self._lost_at >= LOSS_UNREADY_S


def state_series(pipeline: MessagePipeline, store: StateStore) -> Callable[[], Iterator[Metric]]:
    """The store's gauges, read from the pipeline's last sweep and the store at each scrape."""

    def collect() -> Iterator[Metric]:
        sizes, recovered = pipeline.sizes, pipeline.recovered
        receipts = GaugeMetricFamily(
            f"{NAMESPACE}_state_receipts",
            "Receipts in the state store: held (waiting for a receiver) or sent (unconfirmed)",
            labels=("state",),
        )
        receipts.add_metric(("held",), float(sizes.receipts_held))
        receipts.add_metric(("sent",), float(sizes.receipts_sent))
        yield receipts
        found = GaugeMetricFamily(
            f"{NAMESPACE}_state_recovered",
            "What the state store held when the bridge started",
            labels=("kind",),
        )
        for kind in RECOVERED_KINDS:
            found.add_metric((kind,), float(getattr(recovered, kind)))
        yield found
        yield GaugeMetricFamily(
            f"{NAMESPACE}_state_file_bytes",
            "Size of the state file and its write-ahead log (0 for a backend without a file)",
            value=float(store.file_size() or 0),
        )
        yield GaugeMetricFamily(
            f"{NAMESPACE}_state_wal_bytes",
            "Size of the state file's write-ahead log: it grows while a reader holds a "
            "snapshot (checkpoints cannot complete); past [state] max_wal_mb submits get "
            "ESME_RSYSERR (0 for a backend without a file)",
            value=float(store.wal_size() if isinstance(store, SqliteState) else 0),
        )
        yield GaugeMetricFamily(
            f"{NAMESPACE}_state_writable",
            "1 while the state store commits; 0 while submits are answered ESME_RSYSERR",
            value=1.0 if pipeline.store_writable else 0.0,
        )

    return collect
