"""What only a file can have: its lock, corrupt or wrong files, a full disk, read-only readers."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.state import (
    Fsync,
    SqliteReadOnly,
    SqliteState,
    StateFileError,
    StateUnavailable,
)
from bridge.state.sqlite.file import configure
from bridge.state.sqlite.schema import SCHEMA_VERSION

T0 = 1_700_000_000.0

# A second, real process that opens the file and waits (stdin closed = exit).
HOLDER = """
import asyncio, sys
from bridge.state import SqliteState, StateFileError
async def main():
    try:
        store = await SqliteState.open(sys.argv[1])
    except StateFileError as exc:
        print("refused:", exc.reason, flush=True)
        return
    print("open", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await store.aclose()
asyncio.run(main())
"""


def start_holder(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    return holder


def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


class CountingObserver:
    def __init__(self) -> None:
        self.commits: list[int] = []
        self.failures: list[str] = []

    def committed(self, *, seconds: float, operations: int) -> None:
        assert seconds >= 0
        self.commits.append(operations)

    def commit_failed(self, *, reason: str) -> None:
        self.failures.append(reason)


async def test_a_file_another_running_process_holds_is_refused_with_its_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    holder = start_holder(path)
    try:
        assert first_line(holder) == "open"
        with pytest.raises(StateFileError) as refused:
            await SqliteState.open(path)
        assert refused.value.path == str(path)
        assert "in use by another running isms-bridge" in refused.value.reason
        assert f"pid {holder.pid}" in refused.value.reason
    finally:
        holder.communicate("")


async def test_a_second_process_is_refused_while_this_one_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = await SqliteState.open(path)
    try:
        other = start_holder(path)
        assert first_line(other).startswith("refused: in use by another running isms-bridge")
        other.communicate("")
    finally:
        await store.aclose()


async def test_a_killed_holder_leaves_no_stale_lock_and_its_commits_survive(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    first = await SqliteState.open(path)
    await first.put_record("msg", "k", b"v", now=T0, expires_at=T0 + 99, max_records=5)
    await first.aclose()
    holder = start_holder(path)
    assert first_line(holder) == "open"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    store = await SqliteState.open(path)
    found = await store.get_record("msg", "k", now=T0)
    await store.aclose()
    assert found is not None and found.value == b"v"


async def test_a_file_that_is_not_a_database_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is no database, just text that happens to be long enough" * 100)
    with pytest.raises(StateFileError, match="corrupt"):
        await SqliteState.open(path)


async def test_a_damaged_database_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = await SqliteState.open(path)
    for i in range(300):
        await store.put_record(
            "msg", f"k{i}", b"x" * 200, now=T0, expires_at=T0 + 9, max_records=999
        )
    await store.aclose()
    raw = bytearray(path.read_bytes())
    raw[4096 * 2 : 4096 * 4] = b"\xa5" * 8192  # pages 3-4 overwritten with garbage
    path.write_bytes(bytes(raw))
    with pytest.raises(StateFileError, match="corrupt"):
        await SqliteState.open(path)


async def test_a_file_where_a_folder_of_the_path_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file")
    with pytest.raises(StateFileError) as refused:
        await SqliteState.open(tmp_path / "plain" / "state.sqlite3")
    assert refused.value.reason == "a file stands where a folder of the path should be"


async def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="is a folder"):
        await SqliteState.open(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_a_folder_without_write_permission_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(StateFileError, match="permission denied"):
            await SqliteState.open(locked / "state.sqlite3")
    finally:
        locked.chmod(0o700)


async def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE customers (name TEXT)")
    other.close()
    with pytest.raises(StateFileError, match="not an isms-bridge state file"):
        await SqliteState.open(path)


async def test_a_file_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    await (await SqliteState.open(path)).aclose()
    with sqlite3.connect(path) as newer:
        newer.execute("PRAGMA user_version = 99")
    newer.close()
    with pytest.raises(StateFileError, match="newer isms-bridge"):
        await SqliteState.open(path)


async def test_a_new_file_is_at_the_current_schema_version_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    await (await SqliteState.open(path)).aclose()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()


async def test_a_full_store_refuses_writes_whole_and_works_again_once_there_is_room(
    tmp_path: Path,
) -> None:
    observer = CountingObserver()
    store = await SqliteState.open(tmp_path / "s.sqlite3", max_pages=40, observer=observer)
    kept = 0
    with pytest.raises(StateUnavailable, match="full"):
        for kept in range(10_000):
            await store.put_record(
                "msg", f"k{kept:05}", b"x" * 1000, now=T0, expires_at=T0 + kept, max_records=10**6
            )
    assert await store.record_count("msg") == kept  # the failed put left nothing behind
    assert observer.failures and not await store.writable()
    await store.expire_records(now=T0 + kept // 2)
    assert await store.writable()
    await store.put_record(
        "msg", "again", b"x" * 1000, now=T0, expires_at=T0 + 1, max_records=10**6
    )
    await store.aclose()


async def test_a_full_store_refuses_a_queue_entry_and_keeps_the_queue_as_it_was(
    tmp_path: Path,
) -> None:
    store = await SqliteState.open(tmp_path / "s.sqlite3", max_pages=30)
    entries = 0
    with pytest.raises(StateUnavailable):
        while True:
            await store.enqueue("acct", b"r" * 2000, now=T0, max_entries=10**6)
            entries += 1
    counts = await store.queue_counts(now=T0)
    assert counts.ready == entries and await store.queues() == ("acct",)
    await store.aclose()


async def test_writes_made_in_one_loop_turn_share_one_commit(tmp_path: Path) -> None:
    observer = CountingObserver()
    store = await SqliteState.open(tmp_path / "s.sqlite3", observer=observer)
    await asyncio.gather(
        *(
            store.put_record("msg", f"k{i}", b"v", now=T0, expires_at=T0 + 9, max_records=999)
            for i in range(200)
        )
    )
    await asyncio.sleep(0)  # the observer hears of the commit on the loop
    assert sum(observer.commits) == 200
    assert len(observer.commits) <= 3
    await store.aclose()


@pytest.mark.parametrize("size", [3, 5, 100, 129])
async def test_a_group_of_any_size_keeps_exactly_its_records_and_their_count(
    tmp_path: Path, size: int
) -> None:
    # Groups are written with statements sized in powers of two, padded: the padding
    # must leave neither a row nor a count behind.
    store = await SqliteState.open(tmp_path / "s.sqlite3")
    await asyncio.gather(
        *(
            store.put_record("msg", f"k{i}", b"v%d" % i, now=T0, expires_at=T0 + 9, max_records=999)
            for i in range(size)
        )
    )
    records = await store.scan_records("msg", now=T0)
    assert sorted(r.key for r in records) == sorted(f"k{i}" for i in range(size))
    assert {r.value for r in records} == {b"v%d" % i for i in range(size)}
    assert await store.record_count("msg") == size
    await store.aclose()
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM records").fetchone() == (size,)
        assert db.execute("SELECT kind, n FROM record_sizes").fetchall() == [("msg", size)]


async def test_a_group_commit_wakes_the_loop_once_for_its_results_and_its_report(
    tmp_path: Path,
) -> None:
    observer = CountingObserver()
    store = await SqliteState.open(tmp_path / "s.sqlite3", observer=observer)
    loop = asyncio.get_running_loop()
    wakeups: list[object] = []
    real = loop.call_soon_threadsafe

    def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
        wakeups.append(callback)
        return real(callback, *args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    try:
        await asyncio.gather(
            *(
                store.put_record("msg", f"k{i}", b"v", now=T0, expires_at=T0 + 9, max_records=99)
                for i in range(20)
            )
        )
    finally:
        loop.call_soon_threadsafe = real  # type: ignore[method-assign]
    assert observer.commits == [20]
    assert len(wakeups) == 1
    await store.aclose()


async def test_one_failing_write_fails_alone_and_its_group_still_commits(tmp_path: Path) -> None:
    store = await SqliteState.open(tmp_path / "s.sqlite3")
    good = store.put_record("msg", "good", b"v", now=T0, expires_at=T0 + 9, max_records=9)
    # A value SQLite cannot bind fails inside the shared transaction.
    bad = store.put_record("msg", object(), b"v", now=T0, expires_at=T0 + 9, max_records=9)  # type: ignore[arg-type]
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], StateUnavailable)
    assert await store.get_record("msg", "good", now=T0) is not None
    assert len(await store.scan_records("msg", now=T0)) == 1
    await store.aclose()


async def test_a_read_only_reader_sees_what_the_writer_commits_while_it_runs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    store = await SqliteState.open(path)
    await store.put_record("msg", "a", b"1", now=T0, expires_at=T0 + 9, max_records=9)
    reader = await SqliteReadOnly.open(path)
    await store.put_record("msg", "b", b"2", now=T0 + 1, expires_at=T0 + 9, max_records=9)
    scanned = await reader.scan_records("msg", now=T0)
    assert [r.key for r in scanned] == ["b", "a"]
    await reader.aclose()
    await store.aclose()


async def test_a_read_only_open_of_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="no such file"):
        await SqliteReadOnly.open(tmp_path / "never.sqlite3")


async def test_writes_after_close_are_unavailable(tmp_path: Path) -> None:
    store = await SqliteState.open(tmp_path / "s.sqlite3")
    await store.aclose()
    await store.aclose()  # twice is fine
    with pytest.raises(StateUnavailable, match="closed"):
        await store.enqueue("a", b"x", now=T0, max_entries=9)
    assert not await store.writable()


async def test_the_file_size_counts_the_database_and_its_wal(tmp_path: Path) -> None:
    store = await SqliteState.open(tmp_path / "s.sqlite3")
    before = store.file_size()
    await store.put_record("msg", "k", b"x" * 100_000, now=T0, expires_at=T0 + 9, max_records=9)
    after = store.file_size()
    await store.aclose()
    assert before is not None and after is not None and after >= before + 100_000


@pytest.mark.parametrize(("fsync", "synchronous"), [("normal", 1), ("full", 2)])
def test_fsync_chooses_how_often_sqlite_syncs_the_wal(
    tmp_path: Path, fsync: Fsync, synchronous: int
) -> None:
    connection = sqlite3.connect(tmp_path / "s.sqlite3")
    configure(connection, fsync=fsync, max_pages=None)
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == synchronous
    connection.close()


async def test_a_read_only_reader_works_on_a_file_nobody_has_open(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await SqliteState.open(path)
    await store.put_record("msg", "a", b"1", now=T0, expires_at=T0 + 9, max_records=9)
    await store.aclose()
    reader = await SqliteReadOnly.open(path)
    assert [r.key for r in await reader.scan_records("msg", now=T0)] == ["a"]
    with pytest.raises(AttributeError):
        reader.put_record  # noqa: B018 (a read-only store has no writes at all)
    await reader.aclose()
