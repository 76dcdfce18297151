"""The test tree imports cleanly under pytest's default (prepend) import mode.

A directory without __init__.py puts itself on sys.path and imports its modules by their bare
name (tests/smpp does `from session_doubles import Esme`); a directory with one is a package
named after it (`from server.server_doubles import Harness`). Two bare modules of the same
name, or a bare module named like a test package, would shadow each other depending on which
directory pytest happened to collect first.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _directories() -> list[Path]:
    return sorted(p for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _bare_modules() -> list[Path]:
    found = [p for p in TESTS.glob("*.py") if p.name != "conftest.py"]
    for directory in _directories():
        if not (directory / "__init__.py").exists():
            found += [p for p in directory.glob("*.py") if p.name != "conftest.py"]
    return found


def test_modules_outside_packages_have_names_unique_across_the_tree() -> None:
    counts = Counter(path.stem for path in _bare_modules())
    repeated = sorted(name for name, count in counts.items() if count > 1)
    assert not repeated, f"these bare module names repeat: {repeated}; rename or add __init__.py"


def test_no_bare_module_is_named_like_a_test_package() -> None:
    packages = {d.name for d in _directories() if (d / "__init__.py").exists()}
    clashes = sorted({path.stem for path in _bare_modules()} & packages)
    assert not clashes, f"modules {clashes} would shadow the test packages of the same name"
