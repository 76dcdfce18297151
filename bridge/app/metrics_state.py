"""The state store's series: commits (latency, batch size, failures), what it holds, what a
start recovered, its file size, and whether it can be written.

    isms_bridge_state_commit_seconds           histogram  one group commit, off the loop
    isms_bridge_state_commit_operations        histogram  operations per group commit
    isms_bridge_state_commit_failures_total    counter    commits that failed (nothing kept)
    isms_bridge_state_receipts{state}          gauge      held (waiting) / sent (unconfirmed)
    isms_bridge_state_recovered{kind}          gauge      found at start: receipts,
                                                          long_messages, retries, records
    isms_bridge_state_file_bytes               gauge      database + WAL (0 without a file)
    isms_bridge_state_writable                 gauge      1, or 0 while submits get ESME_RSYSERR

`StateMetrics` is the store's `CommitObserver` (the writer thread calls it; prometheus_client
is thread-safe); the gauges are read from the pipeline and the store at each scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from bridge.app.histograms import HistogramSeries
from bridge.app.metrics import NAMESPACE
from bridge.pipeline import MessagePipeline
from bridge.state import StateStore

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
RECEIPT_STATES = ("held", "sent")
RECOVERED_KINDS = ("receipts", "long_messages", "retries", "records")


class StateMetrics:
    """A `CommitObserver` counting into `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
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

    def committed(self, *, seconds: float, operations: int) -> None:
        self._seconds.observe(seconds)
        self._operations.observe(operations)

    def commit_failed(self, *, reason: str) -> None:
        self._failures.inc()


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
            f"{NAMESPACE}_state_writable",
            "1 while the state store commits; 0 while submits are answered ESME_RSYSERR",
            value=1.0 if pipeline.store_writable else 0.0,
        )

    return collect
