"""Which metrics the dashboard and the alert rules read: every PromQL expression, and the
metric names in each.

`metric_names(expr)` reads PromQL's grammar as far as names go: a name is an identifier that
is not a function or aggregation (those are followed by `(`), not a keyword or a label name
(label names sit inside `{...}` matchers and in the `by` / `without` / `on` / `ignoring` /
`group_left` / `group_right` lists), not inside a string, a range `[...]` or a number.
Grafana's `label_values(metric, label)` names its metric first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "grafana" / "dashboards"
ALERTS = ROOT / "configs" / "alerts.yml"

# Series Prometheus makes itself for every target (not on any /metrics page).
PROMETHEUS_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "ALERTS",
        "ALERTS_FOR_STATE",
    }
)

_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan", "atan2", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_LABEL_VALUES = re.compile(r"\blabel_values\s*\(\s*([^,()]*(?:\{[^}]*\})?)\s*,[^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$:])([A-Za-z_:][\w:]*)(\s*\()?")
_NUMBER = re.compile(r"(?<![\w:])\d[\w.]*")


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` reads."""
    text = _LABEL_VALUES.sub(r"\1", expr)
    text = _STRING.sub('""', text)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    text = _LABEL_LIST.sub(" ", text)
    text = _NUMBER.sub(" ", text)  # 1e3, 0x1F, 5m: numbers and durations
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call is None and name not in _KEYWORDS:
            names.add(name)
    return names


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and query variable of every dashboard."""
    found: list[tuple[str, str]] = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))

        def walk(panels: list[dict[str, Any]], source: str = path.name) -> None:
            for panel in panels:
                walk(panel.get("panels", []))
                for target in panel.get("targets", []):
                    if "expr" in target:
                        found.append((f"{source}: {panel['title']}", target["expr"]))

        walk(dashboard.get("panels", []))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                found.append((f"{path.name}: ${variable['name']}", text))
    return found


def rule_expressions() -> list[tuple[str, str]]:
    """(alert or record name, PromQL) for every rule of configs/alerts.yml."""
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [
        (rule.get("alert") or rule["record"], rule["expr"])
        for group in document["groups"]
        for rule in group["rules"]
    ]
