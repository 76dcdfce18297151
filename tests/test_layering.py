"""The house rules that can be checked on the source (ast), so a broken one fails CI.

Imports: state (the ground floor) and upstream stand alone; pdu <- smpp <- server;
pipeline uses pdu, smpp, upstream and state; config parses and validates (with the lower
layers' names and rules); app turns the config into every layer's settings and wires
everything; cli sits on top.
Inside state: the interface and the memory backend are modules at its top; the SQLite and
Redis backends are the subpackages state.sqlite and state.redis, each the only place its
library (sqlite3, redis) is imported; they import neither each other nor any other part of
the bridge, and only state's __init__ gathers them.
Inside pipeline: `checks` (what a request must pass before anything is kept or sent) imports
no other step of the flow (long_messages, sending, outcome). Inside app: the composition
root and the metrics import no command; commands sit on top of them.
Relative imports and `from bridge import pdu` are judged like the absolute form.
Shape: no module over 600 lines, no utils/helpers/manager/common/misc names,
no private attribute of another object (of asyncio, aiohttp, httpx, construct, ...).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parent.parent / "bridge"

# Which top-level bridge packages each package may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    # The ground floor: durable state knows neither SMPP nor iSMS.
    "state": set(),
    "pdu": set(),
    "smpp": {"pdu"},
    "server": {"pdu", "smpp", "state"},
    "upstream": set(),
    "pipeline": {"pdu", "smpp", "upstream", "state"},
    "config": {"pdu", "smpp", "server", "upstream", "pipeline", "state"},
    "app": {"pdu", "smpp", "server", "upstream", "pipeline", "config", "state"},
}

# Packages that must not touch I/O, clocks or HTTP libraries.
FORBIDDEN_MODULES: dict[str, set[str]] = {
    "pdu": {"asyncio", "socket", "time", "aiohttp", "httpx", "logging", "prometheus_client"},
    "smpp": {"asyncio", "socket", "time", "aiohttp", "httpx", "prometheus_client"},
    # Metrics reach these through observer Protocols they declare; only bridge.app counts.
    "server": {"prometheus_client"},
    "upstream": {"prometheus_client"},
    "pipeline": {"socket", "aiohttp", "httpx", "prometheus_client"},
    # Metrics reach the store through CommitObserver; it never serves HTTP.
    "state": {"prometheus_client", "aiohttp", "httpx"},
}


def _modules() -> list[Path]:
    return sorted(p for p in BRIDGE.rglob("*.py"))


def _package_of(path: Path) -> str | None:
    rel = path.relative_to(BRIDGE)
    return rel.parts[0] if len(rel.parts) > 1 else None


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module an ImportFrom names, with a relative one resolved against `path`."""
    if node.level == 0:
        return node.module or ""
    package = ("bridge", *path.relative_to(BRIDGE).parent.parts)
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            names = [alias.name for alias in node.names]
            if module == "bridge":
                # `from bridge import pdu` uses the package bridge.pdu.
                found.extend((f"bridge.{name}", []) for name in names if name in ALLOWED)
            else:
                found.append((module, names))
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


STATE = BRIDGE / "state"
# Each backend subpackage of bridge.state, and the library only it may import.
STATE_BACKENDS: dict[str, str] = {"sqlite": "sqlite3", "redis": "redis"}


def test_state_imports_no_other_part_of_the_bridge() -> None:
    # Not smpp, upstream or pipeline (SMPP and iSMS are not its words), nor what wires them.
    others = {"pdu", "smpp", "server", "upstream", "pipeline", "config", "app", "cli"}
    for path in sorted(STATE.rglob("*.py")):
        for module, _names in _imports(path):
            parts = module.split(".")
            assert not (parts[0] == "bridge" and len(parts) > 1 and parts[1] in others), (
                f"{path.relative_to(BRIDGE)}: state must not import {module}"
            )


def test_the_state_interface_and_the_memory_backend_are_modules_at_its_top() -> None:
    for name in ("store.py", "results.py", "errors.py", "memory.py", "in_process.py"):
        assert (STATE / name).is_file(), f"bridge/state/{name}"


@pytest.mark.parametrize("backend", sorted(STATE_BACKENDS))
def test_each_other_state_backend_is_a_subpackage(backend: str) -> None:
    assert (STATE / backend / "__init__.py").is_file(), f"bridge.state.{backend} is a package"
    strays = sorted(p.name for p in STATE.glob(f"{backend}_*.py"))
    assert not strays, f"{strays}: a {backend} module belongs in bridge/state/{backend}/"


@pytest.mark.parametrize(
    "path", sorted(STATE.rglob("*.py")), ids=lambda p: str(p.relative_to(BRIDGE))
)
def test_a_state_backend_and_its_library_stay_inside_its_subpackage(path: Path) -> None:
    rel = path.relative_to(STATE)
    inside = rel.parts[0] if len(rel.parts) > 1 else None
    for module, _names in _imports(path):
        for backend, library in STATE_BACKENDS.items():
            if module.split(".")[0] == library:
                assert inside == backend, f"{rel}: only bridge/state/{backend}/ imports {module}"
            own = f"bridge.state.{backend}"
            if (module == own or module.startswith(f"{own}.")) and rel != Path("__init__.py"):
                assert inside == backend, f"{rel}: import bridge.state.{backend} via bridge.state"


def _inside(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


@pytest.mark.parametrize(
    "path", _inside(BRIDGE / "pipeline" / "checks"), ids=lambda p: str(p.relative_to(BRIDGE))
)
def test_the_checks_a_request_passes_import_no_later_step(path: Path) -> None:
    later = ("long_messages", "sending", "outcome", "pipeline")
    for module, _names in _imports(path):
        parts = module.split(".")
        assert not (parts[:2] == ["bridge", "pipeline"] and len(parts) > 2 and parts[2] in later), (
            f"{path.relative_to(BRIDGE)}: a check must not import {module}"
        )


@pytest.mark.parametrize(
    "path",
    [
        BRIDGE / "app" / "root.py",
        BRIDGE / "app" / "settings.py",
        *_inside(BRIDGE / "app" / "metrics"),
    ],
    ids=lambda p: str(p.relative_to(BRIDGE)),
)
def test_the_root_and_the_metrics_import_no_command(path: Path) -> None:
    for module, _names in _imports(path):
        assert not module.startswith("bridge.app.commands"), (
            f"{path.relative_to(BRIDGE)}: commands sit on the root; it must not import {module}"
        )


def test_relative_and_package_imports_are_judged_like_absolute_ones() -> None:
    # The walker itself: an edge hidden behind a relative import is still an edge.
    module = BRIDGE / "pipeline" / "x.py"
    tree = ast.parse("from ..server import SmppServer\nfrom . import numbers\n")
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [_absolute(module, node) for node in relative] == ["bridge.server", "bridge.pipeline"]


MAX_MODULE_LINES = 600  # a module above this must be split (the aim is 400)
BANNED_NAMES = ("utils", "helpers", "manager", "common", "misc")
# construct's subclassing protocol: a Subconstruct calls these on its own `subcon`.
CONSTRUCT_HOOKS = frozenset({"_parse", "_parsereport", "_build", "_sizeof"})


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BRIDGE)))
def test_no_module_is_over_the_hard_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines; split it"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BRIDGE)))
def test_no_module_or_class_has_a_name_that_says_nothing(path: Path) -> None:
    parts = [*path.relative_to(BRIDGE).parent.parts, path.stem]
    assert not set(parts) & set(BANNED_NAMES), f"{path}: name it for what it holds"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            lowered = node.name.lower()
            assert not any(word in lowered for word in BANNED_NAMES), (
                f"{path.name}: class {node.name} needs a name from the domain"
            )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BRIDGE)))
def test_no_private_attribute_of_another_object_is_used(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        if name in CONSTRUCT_HOOKS and ast.unparse(owner) == "self.subcon":
            continue
        raise AssertionError(f"{path.name}:{node.lineno} uses {ast.unparse(node)}")
