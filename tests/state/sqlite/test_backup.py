"""`backup_file`: a consistent, checked, self-contained copy of a file another connection is
writing, taken under one short snapshot; given up, writing nothing, when the live WAL grows
past its limit meanwhile."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bridge.state import (
    BackupAbandoned,
    SqliteReadOnly,
    SqliteState,
    StateFileError,
    backup_file,
)
from bridge.state.sqlite.schema import SCHEMA_VERSION

T0 = 1_700_000_000.0


async def put(store: SqliteState, key: str) -> None:
    await store.put_record("msg", key, b"v" * 300, now=T0, expires_at=T0 + 99, max_records=10**6)


async def test_a_copy_taken_while_the_store_writes_is_consistent_and_the_writes_go_on(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "state.sqlite3", tmp_path / "backup.sqlite3"
    store = await SqliteState.open(source)
    await asyncio.gather(*(put(store, f"old{i:05}") for i in range(5000)))
    writing = True
    during = 0

    async def traffic() -> None:
        nonlocal during
        while writing:
            await put(store, f"new{during:05}")
            during += 1

    running = asyncio.ensure_future(traffic())
    await asyncio.sleep(0.05)
    done = await asyncio.to_thread(backup_file, source, target)
    writing = False
    await running
    await store.aclose()
    assert during > 0 and done.target == target and done.size == target.stat().st_size
    copy = await SqliteReadOnly.open(target)
    try:
        records = await copy.scan_records("msg", now=T0)
        count = await copy.record_count("msg")
    finally:
        await copy.aclose()
    keys = {r.key for r in records}
    assert {f"old{i:05}" for i in range(5000)} <= keys and count == len(records)
    news = sorted(k for k in keys if k.startswith("new"))
    # One snapshot: the new records it holds are exactly the first few, with no gap.
    assert news == [f"new{i:05}" for i in range(len(news))]


def test_the_copy_is_one_self_contained_file_that_passes_its_check(tmp_path: Path) -> None:
    source, target = tmp_path / "state.sqlite3", tmp_path / "backup.sqlite3"
    asyncio.run(_one_record(source))
    backup_file(source, target)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == [
        "backup.sqlite3"
    ]
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    copy.close()


async def _one_record(source: Path) -> None:
    store = await SqliteState.open(source)
    await put(store, "k")
    await store.aclose()


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    source, target = tmp_path / "state.sqlite3", tmp_path / "backup.sqlite3"
    asyncio.run(_one_record(source))
    target.write_text("an older backup")
    with pytest.raises(StateFileError, match="already exists"):
        backup_file(source, target)
    assert target.read_text() == "an older backup"


def test_a_file_that_is_not_a_state_file_is_not_copied(tmp_path: Path) -> None:
    other, target = tmp_path / "other.sqlite3", tmp_path / "backup.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    db.close()
    with pytest.raises(StateFileError, match="not an isms-bridge state file"):
        backup_file(other, target)
    with pytest.raises(StateFileError, match="no such file"):
        backup_file(tmp_path / "missing.sqlite3", target)
    assert not target.exists()


async def test_past_its_wal_limit_the_copy_is_given_up_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "state.sqlite3", tmp_path / "backup.sqlite3"
    store = await SqliteState.open(source)
    await put(store, "k")  # the live WAL holds a commit: more than the 1-byte limit below
    try:
        with pytest.raises(BackupAbandoned, match="write-ahead log"):
            await asyncio.to_thread(backup_file, source, target, wal_limit_bytes=1)
        assert await store.writable()  # the copy's snapshot is let go
    finally:
        await store.aclose()
    assert [name for name in os.listdir(tmp_path) if name.startswith("backup")] == []
