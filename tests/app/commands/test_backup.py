"""`isms-bridge backup --config FILE --to PATH`: one line and exit 0 for a checked copy; exit 2
with one line when no copy was made; exit 1 for a bad config."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.state import SqliteState

CONFIG = """
[isms]
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]

[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
"""
T0 = 1_700_000_000.0


def write_config(tmp_path: Path, state: str = "") -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG + ("\n[state]\n" + state if state else ""), encoding="utf-8")
    return path


async def one_record(path: Path) -> None:
    store = await SqliteState.open(path)
    await store.put_record("msg", "k", b"v", now=T0, expires_at=T0 + 99, max_records=9)
    await store.aclose()


def test_backup_copies_the_state_file_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    asyncio.run(one_record(tmp_path / "state.sqlite3"))
    target = tmp_path / "backups" / "state-copy.sqlite3"
    target.parent.mkdir()
    assert main(["backup", "--config", str(config), "--to", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backup: {target} (") and "checked" in out and "live WAL" in out
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT key FROM records").fetchall() == [("k",)]
    copy.close()


@pytest.mark.parametrize(
    ("state", "prepare", "words"),
    [
        ('backend = "memory"', False, "keeps no file to copy"),
        ("", False, "does not exist"),
        ("", True, "already exists"),
    ],
)
def test_backup_exits_2_with_one_line_when_it_makes_no_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str, prepare: bool, words: str
) -> None:
    config = write_config(tmp_path, state)
    target = tmp_path / "copy.sqlite3"
    if prepare:
        asyncio.run(one_record(tmp_path / "state.sqlite3"))
        target.write_text("an older copy")
    assert main(["backup", "--config", str(config), "--to", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_backup_with_a_bad_config_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "max_wal_mb = 1")
    assert main(["backup", "--config", str(config), "--to", str(tmp_path / "c")]) == 1
    assert "state.max_wal_mb" in capsys.readouterr().err
