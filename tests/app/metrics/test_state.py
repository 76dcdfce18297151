"""The state store's loss series and the `state_intact` readiness they feed (metrics/state.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bridge.app.metrics.state import LOSS_UNREADY_S, LOST_KINDS, StateMetrics
from bridge.state import LossObserver


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_lost_kind_and_the_epoch_changes_are_exported_at_zero_from_the_start() -> None:
    registry = CollectorRegistry()
    StateMetrics(registry)
    for kind in LOST_KINDS:
        assert registry.get_sample_value("isms_bridge_state_lost_total", {"kind": kind}) == 0.0
    assert registry.get_sample_value("isms_bridge_state_epoch_changes_total") == 0.0


def test_items_found_gone_are_counted_by_kind() -> None:
    registry = CollectorRegistry()
    observer: LossObserver = StateMetrics(registry)
    observer.entries_lost(kind="entry", count=9000)
    observer.entries_lost(kind="record", count=2)
    assert registry.get_sample_value("isms_bridge_state_lost_total", {"kind": "entry"}) == 9000
    assert registry.get_sample_value("isms_bridge_state_lost_total", {"kind": "record"}) == 2


def test_a_total_loss_is_counted_and_keeps_the_store_not_intact_for_five_minutes() -> None:
    registry, clock = CollectorRegistry(), Clock()
    metrics = StateMetrics(registry, clock=clock)
    assert metrics.intact()
    metrics.state_lost(reason="marker_missing")
    assert registry.get_sample_value("isms_bridge_state_epoch_changes_total") == 1.0
    assert not metrics.intact()
    clock.now += LOSS_UNREADY_S - 1
    assert not metrics.intact()
    clock.now += 1
    assert metrics.intact()
    assert LOSS_UNREADY_S == 300.0
