"""The import rules of STYLE.md §1, checked on the source (ast), so a wrong edge fails CI.

pdu <- smpp <- server; upstream stands alone; pipeline uses pdu, smpp and upstream;
config builds every layer's settings; app wires everything; cli sits on top.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parent.parent / "bridge"

# Which top-level bridge packages each package may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    "pdu": set(),
    "smpp": {"pdu"},
    "server": {"pdu", "smpp"},
    "upstream": set(),
    "pipeline": {"pdu", "smpp", "upstream"},
    "config": {"pdu", "smpp", "server", "upstream", "pipeline"},
    "app": {"pdu", "smpp", "server", "upstream", "pipeline", "config"},
}

# Packages that must not touch I/O, clocks or HTTP libraries (STYLE.md §10, item 1).
FORBIDDEN_MODULES: dict[str, set[str]] = {
    "pdu": {"asyncio", "socket", "time", "aiohttp", "httpx", "logging", "prometheus_client"},
    "smpp": {"asyncio", "socket", "time", "aiohttp", "httpx", "prometheus_client"},
    # Metrics reach these through observer Protocols they declare; only bridge.app counts.
    "server": {"prometheus_client"},
    "upstream": {"prometheus_client"},
    "pipeline": {"socket", "aiohttp", "httpx", "prometheus_client"},
}


def _modules() -> list[Path]:
    return sorted(p for p in BRIDGE.rglob("*.py"))


def _package_of(path: Path) -> str | None:
    rel = path.relative_to(BRIDGE)
    return rel.parts[0] if len(rel.parts) > 1 else None


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BRIDGE)))
def test_module_imports_only_layers_below_it(path: Path) -> None:
    package = _package_of(path)
    if package is None or package == "cli":
        return
    allowed = ALLOWED.get(package, set(ALLOWED)) | {package}
    for module, _names in _imports(path):
        parts = module.split(".")
        if parts[0] == "bridge" and len(parts) > 1 and parts[1] in ALLOWED:
            assert parts[1] in allowed, f"{path.name}: {package} must not import {module}"
        root = parts[0]
        assert root not in FORBIDDEN_MODULES.get(package, set()), (
            f"{path.name}: {package} must not import {module}"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BRIDGE)))
def test_other_packages_are_used_only_through_their_public_names(path: Path) -> None:
    package = _package_of(path)
    for module, names in _imports(path):
        parts = module.split(".")
        if parts[0] != "bridge" or len(parts) < 2 or parts[1] == package:
            continue
        if parts[1] not in ALLOWED:
            continue
        assert len(parts) == 2, f"{path.name} reaches into {module}; import from bridge.{parts[1]}"
        public = set(importlib.import_module(module).__all__)
        missing = set(names) - public
        assert not missing, f"{path.name} imports {missing} which bridge.{parts[1]} does not export"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_name_in_dunder_all_exists(package: str) -> None:
    module = importlib.import_module(f"bridge.{package}")
    for name in module.__all__:
        assert hasattr(module, name), f"bridge.{package}.__all__ lists {name} but has no such name"
