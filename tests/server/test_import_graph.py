"""The server's modules import one another in one direction, type-only imports included.

A circle (connection -> requests -> services -> connection, once, under TYPE_CHECKING) means
two modules that cannot be understood apart; the seam is a small Protocol instead (what the
request runner needs of its connection, what a seat holder must do, what the PROXY gate
hands a socket to).
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "bridge" / "server"
PACKAGE = "bridge.server"


def _imported_modules(source: str, modules: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):  # every node: imports under `if` blocks too
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            module = f"{PACKAGE}.{node.module}" if node.level == 1 else node.module
            if module in modules:
                found.add(module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
    return found


def _graph() -> dict[str, set[str]]:
    paths = {f"{PACKAGE}.{p.stem}": p for p in SERVER.glob("*.py") if p.stem != "__init__"}
    return {
        module: _imported_modules(path.read_text(encoding="utf-8"), set(paths)) - {module}
        for module, path in paths.items()
    }


def _circle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for imported in graph[module]:
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


def test_no_server_module_imports_one_that_imports_it_back() -> None:
    graph = _graph()
    circles = [circle for module in sorted(graph) if (circle := _circle_from(module, graph))]
    assert not circles, " ; ".join(" -> ".join(circle) for circle in circles)


def test_the_walker_sees_a_circle_through_a_type_only_import() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from .handlers import Peer\n"
        "if TYPE_CHECKING:\n"
        "    from bridge.server.services import ConnectionServices\n"
    )
    modules = {"bridge.server.handlers", "bridge.server.services", "bridge.server.timer"}
    assert _imported_modules(source, modules) == {
        "bridge.server.handlers",
        "bridge.server.services",
    }
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circle_from("a", graph) == ["a", "b", "c", "a"]
    assert _circle_from("d", graph) is None
