"""What the bridge's source says it exports, read from the text of bridge/**/*.py (ast).

The drift tests compare these with the manual. They read the source instead of importing
modules, so a module moved or split keeps being found wherever it now lives.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "bridge"

METRIC_PREFIX = "isms_bridge_"
_EVENT_IN_TEXT = re.compile(r"event=([a-z][a-z0-9_]*)")
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")
_STATUS = re.compile(r"\bESME_R[A-Z_]*[A-Z]\b")
# prometheus_client adds `_total` to a counter's name and `_info` to an Info's on export.
_COUNTERS = {"Counter", "CounterMetricFamily", "counter"}
_INFOS = {"Info", "InfoMetricFamily"}
_METRIC_MAKERS = {
    *_COUNTERS,
    *_INFOS,
    "Gauge",
    "GaugeMetricFamily",
    "gauge",
    "Histogram",
    "HistogramMetricFamily",
    "HistogramSeries",
    "histogram",
    "Summary",
}


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(BRIDGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _metric_base(node: ast.expr, called: str) -> str | None:
    """The exported name's base from a maker's first argument: `"isms_bridge_x"`,
    `f"{NAMESPACE}_x"` (NAMESPACE being "isms_bridge"), or the short name handed to a
    local `counter("x", ...)` / `gauge` / `histogram` that prefixes it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value.startswith(METRIC_PREFIX):
            return node.value
        if called in {"counter", "gauge", "histogram"} and _EVENT_NAME.fullmatch(node.value):
            return METRIC_PREFIX + node.value
        return None
    if isinstance(node, ast.JoinedStr) and len(node.values) == 2:
        head, tail = node.values
        if (
            isinstance(head, ast.FormattedValue)
            and isinstance(head.value, ast.Name)
            and head.value.id == "NAMESPACE"
            and isinstance(tail, ast.Constant)
            and isinstance(tail.value, str)
            and tail.value.startswith("_")
        ):
            return METRIC_PREFIX + tail.value[1:]
    return None


def metric_names() -> set[str]:
    """Every `isms_bridge_*` family the bridge declares, by the name a scrape shows."""
    names: set[str] = set()
    for _path, tree in modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = _called(node)
            if called not in _METRIC_MAKERS:
                continue
            base = _metric_base(node.args[0], called)
            if base is None:
                continue
            if called in _COUNTERS and not base.endswith("_total"):
                base += "_total"
            elif called in _INFOS and not base.endswith("_info"):
                base += "_info"
            names.add(base)
    return names


def log_events() -> set[str]:
    """Every `event=<name>` a log line of the bridge can carry.

    Found as `event=name` inside any string (format strings, f-strings), as the event
    argument of the session log (`.event(level, "name", ...)`, `.exception("name", ...)`)
    and as an `event="name"` keyword or keyword default.
    """
    events: set[str] = set()
    for _path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                events.update(_EVENT_IN_TEXT.findall(node.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                position = {"event": 1, "exception": 0}.get(node.func.attr)
                if position is not None and len(node.args) > position:
                    argument = node.args[position]
                    if (
                        isinstance(argument, ast.Constant)
                        and isinstance(argument.value, str)
                        and _EVENT_NAME.fullmatch(argument.value)
                    ):
                        events.add(argument.value)
            elif isinstance(node, ast.keyword) and node.arg == "event":
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    events.add(node.value.value)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args
                for argument, default in zip(
                    arguments.kwonlyargs, arguments.kw_defaults, strict=True
                ):
                    if (
                        argument.arg == "event"
                        and isinstance(default, ast.Constant)
                        and isinstance(default.value, str)
                    ):
                        events.add(default.value)
    return events


def _defines_the_status_table(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ClassDef) and node.name == "CommandStatus" for node in tree.body
    )


def command_statuses() -> set[str]:
    """Every SMPP command_status name the bridge's code uses: the ones it answers with (the
    session, the codec's field checks, the pipeline) and the ones it reads from an ESME.

    The module declaring the whole SMPP 3.4 table (`class CommandStatus`) and the package
    files re-exporting it (`__init__.py`) are left out: listing a name is not using it.
    """
    statuses: set[str] = set()
    for path, tree in modules():
        if path.name == "__init__.py" or _defines_the_status_table(tree):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if _STATUS.fullmatch(name):
                    statuses.add(name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                statuses.update(_STATUS.findall(node.value))
            elif isinstance(node, ast.alias) and _STATUS.fullmatch(node.name):
                statuses.add(node.name)
    return statuses


def status_values() -> dict[str, int]:
    """The SMPP 3.4 status table as the bridge declares it: name -> command_status."""
    for _path, tree in modules():
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == "CommandStatus":
                return {
                    target.id: statement.value.value
                    for statement in node.body
                    if isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, int)
                    for target in statement.targets
                    if isinstance(target, ast.Name)
                }
    raise AssertionError("no `class CommandStatus` found under bridge/")
