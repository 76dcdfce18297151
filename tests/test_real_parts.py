"""What the suite claims to prove cannot silently turn into a skip: a missing program or an
absent folder of real-world vectors skips on a developer machine and fails under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import real_parts

REPO = Path(__file__).resolve().parents[1]
# Every test that reads ../shared/vectors (the codec's, the splitter's, the session's).
VECTOR_TESTS = [
    "tests/pdu/test_real_world_vectors.py",
    "tests/pdu/test_splitter.py",
    "tests/smpp/test_session_streams.py",
]
SELECT = "vector or edge_case or captured"


def run_vector_tests(folder: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ISMS_BRIDGE_VECTORS"] = str(folder)
    if ci:
        env["CI"] = "true"
    pytest_args = ["-q", "-rfEs", "-p", "no:cacheprovider", "-k", SELECT, *VECTOR_TESTS]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_absent_vectors_fail_every_test_that_reads_them_under_ci(tmp_path: Path) -> None:
    run = run_vector_tests(tmp_path / "nowhere", ci=True)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "CI=true: this must not be skipped" in run.stdout
    assert "SKIPPED" not in run.stdout, run.stdout[-3000:]
    for path in VECTOR_TESTS:
        assert f"FAILED {path}" in run.stdout or f"ERROR {path}" in run.stdout, path


def test_absent_vectors_skip_saying_where_they_were_looked_for_off_ci(tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    run = run_vector_tests(folder, ci=False)
    assert run.returncode == 0, run.stdout[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "failed" not in summary and "error" not in summary, summary
    assert f"{folder}/vectors.json is absent" in run.stdout
    assert f"{folder}/edge_cases.json is absent" in run.stdout


def test_missing_fails_under_ci_and_skips_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_parts, "UNDER_CI", True)
    with pytest.raises(pytest.fail.Exception, match="must not be skipped"):
        real_parts.missing("no such thing")
    monkeypatch.setattr(real_parts, "UNDER_CI", False)
    with pytest.raises(pytest.skip.Exception, match="no such thing"):
        real_parts.missing("no such thing")


def test_a_program_not_on_path_is_missing_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_parts, "UNDER_CI", True)
    with pytest.raises(pytest.fail.Exception, match="Debian's nothing-here package"):
        real_parts.program("no-such-program-isms-bridge", "nothing-here")
