"""`isms-bridge demo`: the command it suggests runs as printed (the whole demo is in e2e)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bridge.app.commands.demo import invocation
from bridge.cli import build_parser


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    script = tmp_path / ".venv" / "bin" / "isms-bridge"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    return script


def test_the_repositorys_venv_script_is_named_by_its_path_from_the_working_folder(
    venv: Path, tmp_path: Path
) -> None:
    found = invocation(str(venv), sys.executable, tmp_path, which=lambda name: None)
    assert found == [".venv/bin/isms-bridge"]


def test_a_script_started_by_a_relative_path_is_named_the_same_way(
    venv: Path, tmp_path: Path
) -> None:
    found = invocation(".venv/bin/isms-bridge", sys.executable, tmp_path, which=lambda n: None)
    assert found == [".venv/bin/isms-bridge"]


def test_a_script_outside_the_working_folder_is_named_by_its_absolute_path(
    venv: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert invocation(str(venv), sys.executable, elsewhere, which=lambda n: None) == [str(venv)]


def test_the_bare_name_only_when_it_is_this_same_program_on_path(
    venv: Path, tmp_path: Path
) -> None:
    assert invocation(str(venv), sys.executable, tmp_path, which=lambda name: str(venv)) == [
        "isms-bridge"
    ]
    other = tmp_path / "other-isms-bridge"
    other.write_text("#!/bin/sh\n", encoding="utf-8")
    found = invocation(str(venv), sys.executable, tmp_path, which=lambda name: str(other))
    assert found == [".venv/bin/isms-bridge"]


def test_python_dash_m_bridge_is_suggested_back_with_the_same_python(tmp_path: Path) -> None:
    main = Path(sys.modules["bridge"].__file__ or "").parent / "__main__.py"
    found = invocation(str(main), "/opt/py/bin/python3", tmp_path, which=lambda name: None)
    assert found == ["/opt/py/bin/python3", "-m", "bridge"]


def test_the_demo_help_says_what_it_does_and_its_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    out = capsys.readouterr().out
    assert "sandbox" in out and "(default: configs/sandbox.toml)" in out
    assert "(default: info)" in out
