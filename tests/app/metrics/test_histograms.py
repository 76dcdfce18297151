"""HistogramSeries: what a scrape reads is what prometheus_client's own Histogram would show
after the same observations (names, labels, `le` values, cumulative counts, sum)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bridge.app.metrics.histograms import HistogramSeries
from bridge.app.metrics.series import LATENCY_BUCKETS
from bridge.app.metrics.state import BATCH_BUCKETS

from .registry_samples import same, samples

amounts = st.floats(min_value=0.0, max_value=100.0) | st.sampled_from(LATENCY_BUCKETS)


@given(st.lists(st.tuples(st.sampled_from(["submit_sm", "data_sm"]), amounts), max_size=60))
def test_a_labelled_series_reads_as_a_prometheus_histogram_observed_the_same(
    observations: list[tuple[str, float]],
) -> None:
    theirs, mine = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("d", "doc", ("command",), buckets=LATENCY_BUCKETS, registry=theirs)
    series = HistogramSeries("d", "doc", ("command",), buckets=LATENCY_BUCKETS, registry=mine)
    for command, amount in observations:
        reference.labels(command).observe(amount)
        series.labels(command).observe(amount)
    assert same(samples(mine), samples(theirs))


@given(st.lists(st.integers(min_value=1, max_value=5000), max_size=30))
def test_a_series_without_labels_reads_as_a_prometheus_histogram_even_before_any_observation(
    observations: list[int],
) -> None:
    theirs, mine = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("ops", "doc", buckets=BATCH_BUCKETS, registry=theirs)
    series = HistogramSeries("ops", "doc", buckets=BATCH_BUCKETS, registry=mine)
    assert same(samples(mine), samples(theirs))
    for amount in observations:
        reference.observe(amount)
        series.observe(amount)
    assert same(samples(mine), samples(theirs))


def test_the_text_exposition_is_the_one_a_prometheus_histogram_writes() -> None:
    theirs, mine = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("d", "doc", ("mirror",), buckets=(0.1, 1.0), registry=theirs)
    series = HistogramSeries("d", "doc", ("mirror",), buckets=(0.1, 1.0), registry=mine)
    for amount in (0.05, 0.1, 0.5, 7.0):
        reference.labels("a").observe(amount)
        series.labels("a").observe(amount)
    # (d_created, a timestamp series of its own, is switched off in the bridge)
    expected = b"\n".join(
        line for line in generate_latest(theirs).splitlines() if b"d_created" not in line
    )
    assert generate_latest(mine).rstrip(b"\n") == expected.rstrip(b"\n")


def test_a_child_is_made_once_per_label_values() -> None:
    series = HistogramSeries("d", "doc", ("command",), buckets=(1.0,), registry=CollectorRegistry())
    assert series.labels("submit_sm") is series.labels("submit_sm")


def test_the_wrong_number_of_label_values_is_refused() -> None:
    series = HistogramSeries("d", "doc", ("command",), buckets=(1.0,), registry=CollectorRegistry())
    with pytest.raises(ValueError, match="takes labels"):
        series.labels("submit_sm", "extra")


def test_bounds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="increasing"):
        HistogramSeries("d", "doc", buckets=(1.0, 0.5), registry=CollectorRegistry())
