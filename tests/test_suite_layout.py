"""Every folder of the test tree that holds Python code is a package.

A test folder is then imported under its own name (`smpp.test_session`, `e2e.conftest`),
and imports its own helper modules relatively (`from .session_doubles import Esme`), so two
folders may hold modules of the same name. The few helpers every folder shares sit in
tests/ itself (real_parts.py, serve_process.py, ...) and are imported by their bare name:
tests/ is on sys.path as the root the test packages are found from.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _folders_with_code() -> list[Path]:
    return sorted(
        folder
        for folder in TESTS.rglob("*")
        if folder.is_dir()
        and not any(part.startswith((".", "_")) for part in folder.relative_to(TESTS).parts)
        and any(folder.glob("*.py"))
    )


def test_every_test_folder_is_a_package() -> None:
    bare = [
        str(f.relative_to(TESTS)) for f in _folders_with_code() if not (f / "__init__.py").exists()
    ]
    assert not bare, f"add an __init__.py to {bare} (and import its helpers relatively)"


def test_no_shared_helper_is_named_like_a_test_package() -> None:
    # tests/ is on sys.path: a helper module there named like a folder would shadow it.
    packages = {f.name for f in _folders_with_code() if f.parent == TESTS}
    helpers = {p.stem for p in TESTS.glob("*.py")}
    assert not helpers & packages, f"rename {sorted(helpers & packages)}"
