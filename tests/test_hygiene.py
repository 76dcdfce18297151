"""Code a maintainer can read alone: comments state their rule instead of pointing at
documents the repository does not hold, and every declared dependency is used."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Every Python file but this one, whose examples below are citations on purpose.
SOURCES = sorted(
    path
    for folder in ("bridge", "tests", "bench", "scripts")
    for path in (REPO / folder).rglob("*.py")
    if path != Path(__file__).resolve()
)
# A reference to the project's issue tracker ("issue 5") or to its style guide ("STYLE §3",
# "STYLE.md"): neither ships with the code, so such a comment explains nothing.
CITATION = re.compile(r"\b[Ii]ssues?\s+#?\d+|\bS[T]YLE(?:\.md|\s*§)")
# Files other branches are rewriting as this rule lands; each still cites, and must leave
# this list once it no longer does (the test below says so).
BEING_REWRITTEN: frozenset[str] = frozenset()


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _citations(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{_relative(path)}:{n}: {line.strip()}"
        for n, line in enumerate(lines, 1)
        if CITATION.search(line)
    ]


@pytest.mark.parametrize("path", SOURCES, ids=_relative)
def test_no_comment_cites_the_issue_tracker_or_the_style_guide(path: Path) -> None:
    if _relative(path) in BEING_REWRITTEN:
        pytest.skip("being rewritten on another branch")
    assert not _citations(path), "state the rule itself:\n" + "\n".join(_citations(path))


@pytest.mark.parametrize("name", sorted(BEING_REWRITTEN))
def test_a_file_left_to_its_rewrite_still_cites_or_leaves_the_list(name: str) -> None:
    path = REPO / name
    assert path.is_file() and _citations(path), (
        f"{name} is clean now: remove it from BEING_REWRITTEN"
    )


def test_the_citation_pattern_finds_issue_and_style_references_only() -> None:
    cited = ["# issue 3: x", "(Issue 5)", "see issues 3", "STYLE §5", "STYLE.md §8", "issue #12"]
    plain = ["_STYLE = (", "SMPP 3.4 §4.1", "an issue with 3 parts", "encode/httpcore#1035"]
    assert all(CITATION.search(text) for text in cited)
    assert not any(CITATION.search(text) for text in plain)


def _distribution(requirement: str) -> str:
    return re.split(r"[\s;<>=~!\[]", requirement, maxsplit=1)[0]


def _imported_top_modules() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_runtime_dependency_is_imported_by_the_bridge() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_distribution(r).lower().replace("-", "_") for r in project["dependencies"]}
    unused = declared - _imported_top_modules()
    assert not unused, f"declared in pyproject.toml but imported nowhere in bridge/: {unused}"


# --- declarations made once, state that is read -----------------------------------------------


def _module_unions() -> list[tuple[str, frozenset[str]]]:
    """(where, member names) of every module-level `A = X | Y | ...` of class names in bridge/."""

    def members(node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = members(node.left), members(node.right)
            return None if left is None or right is None else left + right
        return [node.id] if isinstance(node, ast.Name) else None

    found = []
    for path in sorted((REPO / "bridge").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
                names = members(node.value)
                if names is not None and len(names) > 1:
                    found.append((f"{_relative(path)}:{node.lineno}", frozenset(names)))
    return found


def test_every_union_of_types_is_declared_once_and_imported_elsewhere() -> None:
    seen: dict[frozenset[str], str] = {}
    repeated = []
    for where, names in _module_unions():
        if names in seen:
            repeated.append(f"{where} repeats {seen[names]}: {' | '.join(sorted(names))}")
        seen.setdefault(names, where)
    assert _module_unions(), "no union found: the walker is broken"
    assert not repeated, "\n".join(repeated)


# Attributes bridge/ writes and never reads itself, on purpose: a library object's setting,
# and exception fields for whoever catches them.
WRITTEN_FOR_OTHERS = frozenset({"minimum_version", "expected", "address"})
# Written-only state another branch is removing now; each must leave once it is gone.
BEING_REMOVED: frozenset[str] = frozenset()


def _written_and_read() -> tuple[dict[str, str], set[str]]:
    written: dict[str, str] = {}
    read: set[str] = set()
    for path in sorted((REPO / "bridge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                written.setdefault(node.attr, f"{_relative(path)}:{node.lineno}")
            elif isinstance(node, ast.Attribute):
                read.add(node.attr)
            elif isinstance(node, ast.Call) and ast.unparse(node.func) == "getattr":
                read.update(
                    arg.value
                    for arg in node.args[1:2]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                )
    return written, read


def test_no_attribute_is_written_and_never_read_by_the_bridge_itself() -> None:
    written, read = _written_and_read()
    never_read = {
        name: where
        for name, where in written.items()
        if name not in read and name not in WRITTEN_FOR_OTHERS | BEING_REMOVED
    }
    assert not never_read, f"written, never read (remove, or read it): {never_read}"


@pytest.mark.parametrize("name", sorted(BEING_REMOVED))
def test_write_only_state_being_removed_elsewhere_leaves_the_list_once_gone(name: str) -> None:
    written, read = _written_and_read()
    assert name in written and name not in read, f"{name} is gone: remove it from BEING_REMOVED"


# --- values: frozen, or read-only to the type checker ----------------------------------------

# Where every public dataclass is a value of the protocol or of the iSMS client's surface:
# PDUs, session events, the client's messages and results, config.
FROZEN_PACKAGES = ("pdu", "smpp", "upstream", "config")


def _dataclasses() -> list[tuple[str, ast.ClassDef, bool]]:
    """(where, class, frozen) of every class in bridge/ decorated with @dataclass."""
    found = []
    for path in sorted((REPO / "bridge").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                name = ast.unparse(call.func if call else decorator)
                if name in ("dataclass", "dataclasses.dataclass"):
                    frozen = call is not None and any(
                        k.arg == "frozen" and ast.unparse(k.value) == "True" for k in call.keywords
                    )
                    found.append((f"{_relative(path)}:{node.lineno} {node.name}", node, frozen))
    return found


def _fields(node: ast.ClassDef) -> list[ast.AnnAssign]:
    return [
        item
        for item in node.body
        if isinstance(item, ast.AnnAssign)
        and not ast.unparse(item.annotation).startswith("ClassVar")
    ]


def test_a_dataclass_not_frozen_is_read_only_in_every_field_or_in_none() -> None:
    # A value built per message may skip `frozen` (its __init__ then stores each field
    # directly instead of through object.__setattr__); its fields are then all Final, which
    # mypy --strict holds read-only. A class with some fields Final is neither.
    mixed = []
    for where, node, frozen in _dataclasses():
        finals = [ast.unparse(f.annotation).startswith("Final[") for f in _fields(node)]
        if not frozen and any(finals) and not all(finals):
            mixed.append(where)
    assert not mixed, f"some fields Final, some not: {mixed}"


def test_the_protocol_and_client_values_stay_frozen() -> None:
    thawed = [
        where
        for where, node, frozen in _dataclasses()
        if not frozen and not node.name.startswith("_") and where.split("/")[1] in FROZEN_PACKAGES
    ]
    assert not thawed, f"public dataclasses of {FROZEN_PACKAGES} must be frozen: {thawed}"
