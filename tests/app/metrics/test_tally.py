"""Tallies: what a scrape reads after tallied increments is what direct prometheus_client
calls would have made it, whatever the amounts and however the reads interleave."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, generate_latest

from bridge.app.metrics.series import BridgeMetrics
from bridge.app.metrics.tally import Tallies

from .registry_samples import same, samples


def _same(tallied: CollectorRegistry, direct: CollectorRegistry) -> bool:
    return same(samples(tallied), samples(direct))


def _registry_with_tallies() -> tuple[CollectorRegistry, Tallies]:
    registry = CollectorRegistry()
    tallies = Tallies()
    registry.register(tallies)
    return registry, tallies


def _replay(
    values: list[float | None],
    registry: CollectorRegistry,
    direct: Callable[[float], None],
    tallied: Callable[[float], None],
) -> None:
    """Each value to both; a None is a scrape of the tallied registry instead."""
    for value in values:
        if value is None:
            generate_latest(registry)
        else:
            direct(value)
            tallied(value)


@given(st.lists(st.none() | st.floats(min_value=0.0, max_value=1e6), max_size=40))
def test_a_tallied_counter_reads_as_one_incremented_directly(amounts: list[float | None]) -> None:
    direct_registry = CollectorRegistry()
    direct = Counter("c", "c", ("k",), registry=direct_registry).labels("a")
    registry, tallies = _registry_with_tallies()
    tally = tallies.counter(Counter("c", "c", ("k",), registry=registry).labels("a"))
    _replay(amounts, registry, direct.inc, tally.inc)
    assert _same(registry, direct_registry)


def test_one_label_child_has_one_tally_however_often_it_is_asked_for() -> None:
    registry, tallies = _registry_with_tallies()
    counter = Counter("c", "c", ("k",), registry=registry)
    first = tallies.counter(counter.labels("a"))
    first.inc()
    tallies.counter(counter.labels("a")).inc(2)
    assert tallies.counter(counter.labels("a")) is first
    assert registry.get_sample_value("c_total", {"k": "a"}) == 3.0


def test_reading_one_sample_of_the_bridge_registry_hands_every_tally_on_first() -> None:
    metrics = BridgeMetrics(process_metrics=False)
    tally = metrics.tallies.counter(metrics.pdus_sent.labels("submit_sm_resp", "ESME_ROK"))
    tally.inc()
    sample = metrics.registry.get_sample_value(
        "isms_bridge_smpp_pdus_sent_total", {"command": "submit_sm_resp", "status": "ESME_ROK"}
    )
    assert sample == 1.0
