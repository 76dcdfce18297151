"""docs/monitoring.md lists every metric the bridge declares and every alert it ships, and
nothing that no longer exists."""

from __future__ import annotations

from collections import Counter

import yaml

from docs.manual import ROOT, page, sections, table_rows
from docs.source_scan import METRIC_PREFIX, metric_names

ALERT_RULES = ROOT / "configs" / "alerts.yml"


def _documented(section: str) -> Counter[str]:
    """The names in the first column of the tables under `## section` (and its ###)."""
    text = sections(page("monitoring.md"))[section]
    return Counter(name for row in table_rows(text) for name in row.names())


def test_the_source_scan_finds_the_metrics_it_should() -> None:
    found = metric_names()
    # One of each way a family is declared: a local counter(), a Gauge via the helper, an
    # f"{NAMESPACE}_..." scrape-time family, a histogram series, the Info.
    assert {
        "isms_bridge_smpp_submits_total",
        "isms_bridge_smpp_sessions",
        "isms_bridge_isms_mirror_state",
        "isms_bridge_state_commit_seconds",
        "isms_bridge_build_info",
    } <= found
    assert len(found) >= 40


def test_every_metric_has_one_row_in_the_metrics_tables() -> None:
    documented = _documented("Metrics")
    repeated = sorted(name for name, count in documented.items() if count > 1)
    assert not repeated, f"metrics documented twice: {repeated}"
    missing = sorted(metric_names() - set(documented))
    assert not missing, f"docs/monitoring.md does not list these metrics: {missing}"


def test_no_metric_row_names_a_metric_the_bridge_no_longer_has() -> None:
    documented = {name for name in _documented("Metrics") if name.startswith(METRIC_PREFIX)}
    stale = sorted(documented - metric_names())
    assert not stale, f"docs/monitoring.md lists metrics the bridge does not declare: {stale}"


def _alert_names() -> list[str]:
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    return [
        rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule
    ]


def test_every_shipped_alert_has_one_row_with_what_to_do() -> None:
    alerts = _alert_names()
    assert len(alerts) >= 15
    rows = {row.names()[0]: row for row in table_rows(sections(page("monitoring.md"))["Alerts"])}
    missing = sorted(set(alerts) - set(rows))
    assert not missing, f"docs/monitoring.md does not describe these alerts: {missing}"
    stale = sorted(set(rows) - set(alerts))
    assert not stale, f"docs/monitoring.md describes alerts configs/alerts.yml lacks: {stale}"
    for name in alerts:
        assert rows[name].cells.get("what to do"), f"{name}: no advice"


def test_every_alert_row_states_the_rules_severity() -> None:
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    rows = {row.names()[0]: row for row in table_rows(sections(page("monitoring.md"))["Alerts"])}
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rows[rule["alert"]].cells["severity"] == rule["labels"]["severity"]


def test_the_scrape_job_the_page_shows_matches_the_down_alert() -> None:
    # IsmsBridgeDown matches up{job="isms-bridge"}: the page tells operators to keep that name.
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    down = next(
        rule
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "IsmsBridgeDown"
    )
    assert 'job="isms-bridge"' in down["expr"]
    assert "job_name: isms-bridge" in page("monitoring.md")
