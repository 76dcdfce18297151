"""Every metric a dashboard panel or an alert rule reads is on /metrics from the start.

A series that does not exist yet shows "No data" on its panel, and an alert on it cannot
fire (`increase()` also misses the first event of a series born at 1). So a freshly started
`isms-bridge serve`, before any ESME has connected, must already export every metric name
that any expression of grafana/dashboards/*.json or configs/alerts.yml names. The names are
read from the expressions themselves (promql_names.py), so a metric added to a panel or a
rule later is checked too.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from real_parts import free_port
from serve_process import ServeProcess

from .loopback import ACCOUNT, config_text
from .promql_names import (
    DASHBOARDS,
    PROMETHEUS_SERIES,
    dashboard_expressions,
    metric_names,
    rule_expressions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def fresh_bridge(tmp_path: Path) -> Iterator[str]:
    """A real `isms-bridge serve`, just started; yields its /metrics URL."""
    metrics_port = free_port()
    dead_isms = free_port()  # nothing listens there: no iSMS is ever reached
    config = tmp_path / "bridge.toml"
    tables = [
        ("[smpp]", {"host": "127.0.0.1", "port": 0}),
        ("[isms]", {"endpoints": [f"http://127.0.0.1:{dead_isms}/isms_send_all_id.php"]}),
        ("[metrics]", {"host": "127.0.0.1", "port": metrics_port}),
        # With a cap, so that the cap gauges its alert reads must be there from the start.
        ("[[accounts]]", {**ACCOUNT, "daily_messages": 1000}),
    ]
    config.write_text(config_text(tables), encoding="utf-8")
    bridge = ServeProcess(config, tmp_path / "serve.log")
    try:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=2):
                    break
            except OSError:
                if not bridge.running or time.monotonic() > deadline:
                    raise AssertionError(
                        f"serve never became ready:\n{bridge.log()[-3000:]}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        bridge.stop(grace=15)


def exported_names(url: str) -> set[str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode("utf-8")
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def test_a_fresh_bridge_exports_every_metric_the_dashboard_and_the_alert_rules_read(
    fresh_bridge: str,
) -> None:
    expressions = dashboard_expressions() + rule_expressions()
    assert len(expressions) >= 40
    exported = exported_names(fresh_bridge)
    missing = sorted(
        f"{name} (read by {where})"
        for where, expr in expressions
        for name in metric_names(expr)
        if name not in exported and name not in PROMETHEUS_SERIES
    )
    assert not missing, "not on /metrics at start:\n" + "\n".join(missing)


# --- the name reader itself -------------------------------------------------------------------


def test_label_names_matchers_ranges_and_functions_are_not_taken_for_metric_names() -> None:
    expr = (
        'sum by (system_id, status) (rate(isms_bridge_smpp_submits_total{status!~"ESME_ROK|x",'
        ' instance=~"$instance"}[$__rate_interval])) / on (instance) group_left (mirror)'
        " max without (le) (isms_bridge_other) > 0.10 and bool 1e3"
    )
    assert metric_names(expr) == {"isms_bridge_smpp_submits_total", "isms_bridge_other"}


def test_every_metric_of_a_binary_expression_is_found() -> None:
    expr = (
        'max by (mirror) (a_state{state="half_open"} + ignoring(state) (2 * b_state{state="o"}))'
        " / (sum(rate(c_total[1h])) > 0) unless d offset 5m"
    )
    assert metric_names(expr) == {"a_state", "b_state", "c_total", "d"}


def test_grafana_label_values_names_its_metric_and_not_its_label() -> None:
    assert metric_names("label_values(isms_bridge_build_info, instance)") == {
        "isms_bridge_build_info"
    }
    assert metric_names('label_values(up{job="isms-bridge"}, instance)') == {"up"}


def test_histogram_and_digit_bearing_names_are_read_whole() -> None:
    expr = "histogram_quantile(0.99, sum by (le) (rate(http2_latency_seconds_bucket[5m])))"
    assert metric_names(expr) == {"http2_latency_seconds_bucket"}


# --- a balance nobody has read yet says so ----------------------------------------------------

BALANCE = "isms_bridge_isms_credit_balance"


def test_every_panel_showing_the_balance_says_balance_unknown_for_nan_and_null() -> None:
    dashboards = sorted(DASHBOARDS.glob("*.json"))
    panels = [
        panel
        for path in dashboards
        for panel in _panels(json.loads(path.read_text(encoding="utf-8"))["panels"])
        if any(BALANCE in metric_names(t["expr"]) for t in panel.get("targets", []))
    ]
    assert panels, "no panel shows the balance"
    for panel in panels:
        mappings = panel["fieldConfig"]["defaults"].get("mappings", [])
        said = {
            m["options"]["match"]: m["options"]["result"]["text"]
            for m in mappings
            if m["type"] == "special"
        }
        assert said.get("nan") == said.get("null") == "balance unknown", panel["title"]
        assert panel["options"]["reduceOptions"]["calcs"] == ["last"], panel["title"]


def test_one_alert_rule_fires_while_a_balance_is_unknown() -> None:
    rules = dict(rule_expressions())
    unknown = [name for name, expr in rules.items() if f"{BALANCE}_known" in metric_names(expr)]
    assert unknown == ["IsmsCreditBalanceUnknown"]
    assert rules["IsmsCreditBalanceUnknown"].strip().endswith("== 0")


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))
