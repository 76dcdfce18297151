"""The file under pressure: a reader holding a snapshot while the store writes (the WAL grows,
past its bound writes are refused, they resume when the reader ends), and the file deleted or
replaced under the store (every write refused, one ERROR line, nothing crashes)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bridge.state import SqliteState, StateUnavailable
from bridge.state.sqlite import watch

T0 = 1_700_000_000.0
MIB = 1024 * 1024
WAL_BOUND = 2 * MIB  # small, so that a test fills it in a second


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "state.sqlite3"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SqliteState]:
    opened = await SqliteState.open(path, max_wal_bytes=WAL_BOUND)
    yield opened
    await opened.aclose()


@pytest.fixture
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpoint is tried again at every commit, not once a second."""
    monkeypatch.setattr(watch, "CHECKPOINT_RETRY_S", 0.0)


@pytest.fixture
def reader(path: Path, store: SqliteState) -> Iterator[sqlite3.Connection]:
    """A second connection (as a sqlite3 shell would be) inside BEGIN, its snapshot taken."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN")
    connection.execute("SELECT count(*) FROM records").fetchone()
    yield connection
    connection.close()


async def put(store: SqliteState, key: str) -> None:
    await store.put_record("msg", key, b"x" * 500, now=T0, expires_at=T0 + 99, max_records=10**6)


async def fill_until_refused(store: SqliteState, limit: int = 20_000) -> tuple[int, str]:
    for written in range(limit):
        try:
            await put(store, f"k{written:05}")
        except StateUnavailable as exc:
            return written, exc.reason
    raise AssertionError(f"{limit} writes and the WAL never reached its bound")


def lines(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if f"event={event} " in r.getMessage()]


# --- a reader holding a snapshot -------------------------------------------------------------


async def test_the_wal_grows_while_a_reader_holds_a_snapshot_and_past_its_bound_writes_fail(
    store: SqliteState, reader: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await put(store, "before")
    start = store.wal_size()
    written, reason = await fill_until_refused(store)
    assert start < WAL_BOUND < store.wal_size() < WAL_BOUND + MIB
    assert "store full" in reason and "a reader probably holds a snapshot" in reason
    assert await store.record_count("msg") == written + 1  # the refused put left nothing
    assert not await store.writable()
    with pytest.raises(StateUnavailable, match="max_wal_mb"):
        await put(store, "still refused")
    [full] = lines(caplog, "state_wal_full")
    assert full.levelno == logging.ERROR
    assert "checkpoints cannot complete" in full.getMessage()


async def test_writes_resume_by_themselves_once_the_reader_ends_and_the_wal_starts_over(
    store: SqliteState,
    reader: sqlite3.Connection,
    no_retry_wait: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    written, _ = await fill_until_refused(store)
    reader.execute("COMMIT")
    assert await store.writable()
    assert store.wal_size() < MIB  # checkpointed and cut back (to 0, then the probe)
    await put(store, "after")
    assert await store.record_count("msg") == written + 1
    assert len(lines(caplog, "state_wal_reset")) == 1


async def test_a_refused_write_does_not_wait_for_the_reader(
    store: SqliteState, reader: sqlite3.Connection, no_retry_wait: None
) -> None:
    # The checkpoint tried at each refused commit waits for nobody (busy_timeout 0).
    await fill_until_refused(store)
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(StateUnavailable):
            await put(store, "refused")
    assert time.monotonic() - started < 1.0


async def test_without_a_reader_a_small_bound_costs_ordinary_traffic_nothing(path: Path) -> None:
    # Past the bound with no snapshot held, the bound's own checkpoint lets the write through.
    store = await SqliteState.open(path, max_wal_bytes=64 * 1024)
    try:
        for i in range(300):
            await put(store, f"k{i}")
        assert await store.record_count("msg") == 300
        assert store.wal_size() < 4 * MIB
    finally:
        await store.aclose()


async def test_ordinary_traffic_beside_a_reader_commits_while_the_wal_is_under_its_bound(
    store: SqliteState, reader: sqlite3.Connection
) -> None:
    for i in range(50):
        await put(store, f"k{i}")
    assert store.wal_size() < WAL_BOUND
    assert await store.writable()
    # The reader still sees its snapshot: the writes went to the WAL, not over its pages.
    assert reader.execute("SELECT count(*) FROM records").fetchone() == (0,)


# --- the file deleted or replaced under the store -------------------------------------------


def delete_folder(path: Path) -> None:
    shutil.rmtree(path.parent)


def delete_file(path: Path) -> None:
    path.unlink()


def delete_wal(path: Path) -> None:
    path.with_name(path.name + "-wal").unlink()


def delete_lock(path: Path) -> None:
    path.with_name(path.name + ".lock").unlink()


def replace_file(path: Path) -> None:
    copy = path.with_name("restored.sqlite3")
    shutil.copyfile(path, copy)
    os.replace(copy, path)


def replace_folder(path: Path) -> None:
    folder = path.parent
    folder.rename(folder.with_name("moved-away"))
    folder.mkdir()


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder deleted": (delete_folder, "folder"),
    "file deleted": (delete_file, "database"),
    "wal deleted": (delete_wal, "write-ahead log"),
    "lock file deleted": (delete_lock, "lock file"),
    "file replaced by a copy": (replace_file, "replaced"),
    "folder replaced": (replace_folder, "folder"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_file_gone_from_its_path_refuses_every_write_with_one_error_line(
    store: SqliteState, path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    do, words = FAULTS[fault]
    await put(store, "before")
    do(path)
    with pytest.raises(StateUnavailable, match="gone") as refused:
        await put(store, "after")
    assert words in refused.value.reason
    assert not await store.writable()
    for i in range(5):
        with pytest.raises(StateUnavailable):
            await put(store, f"again{i}")
    [gone] = lines(caplog, "state_file_gone")
    assert gone.levelno == logging.ERROR
    assert f"path={path}" in gone.getMessage()


async def test_a_file_gone_stays_refused_when_something_appears_at_its_path_again(
    store: SqliteState, path: Path
) -> None:
    # A new file there is not the one this store writes: only a restart may open it.
    delete_file(path)
    assert not await store.writable()
    other = await SqliteState.open(path.with_name("other.sqlite3"))
    await other.aclose()
    path.with_name("other.sqlite3").rename(path)
    assert not await store.writable()


async def test_reads_go_on_and_the_store_closes_after_its_file_is_gone(path: Path) -> None:
    store = await SqliteState.open(path)
    await put(store, "kept")
    assert await store.record_count("msg") == 1  # the reader's connection, as at a start
    delete_folder(path)
    assert not await store.writable()
    assert await store.record_count("msg") == 1
    await store.aclose()
