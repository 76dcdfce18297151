"""A consistent copy of a live state file that holds its snapshot as briefly as a copy can.

Any reader holds back the live file's checkpoints while its snapshot is open, so the live
WAL grows by every commit made meanwhile (watch.py says what that costs). A copy must
read one snapshot, or it is not consistent; what it can choose is how long it holds it.
Measured while 80 messages a second were written (bench/backup.py, a 388 MiB file):

- SQLite's backup API in steps that let the snapshot go between them (the sqlite3 shell's
  `.backup`, or pages a step with a pause) never finishes: a step after another process
  has committed starts the copy over, and the writer commits every few milliseconds;
- VACUUM INTO holds one snapshot while it rebuilds every table and index: 0.8 s;
- the backup API copying pages under one snapshot: 0.6 s, the shortest. That is this one,
  in steps of PAGES_PER_STEP under a read transaction held for the whole copy (so no step
  starts over), checking the live WAL between steps: past `wal_limit_bytes` it gives up
  (BackupAbandoned) rather than let the copy push the bridge into refusing submits.

The copy is written beside the target as `<target>.part`, checked (quick_check, the schema
version), switched to a rollback journal (one self-contained file), synced, and only then
renamed to the target: a target that exists is a whole, checked copy.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.state.errors import StateError, StateFileError
from bridge.state.sqlite.file import open_reader
from bridge.state.sqlite.watch import wal_bytes

PAGES_PER_STEP = 1024  # 4 MiB: a WAL check every few milliseconds of copying


class BackupAbandoned(StateError):
    """The copy was given up (the live WAL grew past its limit); no target was written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupDone:
    target: Path
    size: int
    seconds: float
    snapshot_seconds: float  # of which the source's snapshot was held
    largest_wal_bytes: int  # the live file's WAL, at its largest while the snapshot was held


def backup_file(source: Path, target: Path, *, wal_limit_bytes: int | None = None) -> BackupDone:
    """Copy the state file `source` (a bridge may be writing it) to `target`, which must not
    exist. StateFileError: the source is no state file, or the target cannot be written;
    BackupAbandoned: the live WAL passed `wal_limit_bytes` while the copy held its snapshot."""
    if target.exists():
        raise StateFileError(str(target), "already exists (a backup never overwrites a file)")
    partial = target.with_name(target.name + ".part")
    started = time.monotonic()
    largest = wal_bytes(source)
    reader = open_reader(source, read_only_file=True)
    try:
        try:
            partial.unlink(missing_ok=True)
            copy = sqlite3.connect(partial, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateFileError(str(target), f"cannot write the copy: {exc}") from exc
        try:
            reader.execute("BEGIN")  # one snapshot for every step: none starts over
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()

            def between_steps(status: int, remaining: int, total: int) -> None:
                nonlocal largest
                largest = max(largest, wal_bytes(source))
                if wal_limit_bytes is not None and largest > wal_limit_bytes:
                    raise BackupAbandoned(
                        f"the live write-ahead log reached {largest} bytes while the copy "
                        f"held its snapshot (limit {wal_limit_bytes}); nothing was written"
                    )

            reader.backup(copy, pages=PAGES_PER_STEP, progress=between_steps)
            reader.execute("COMMIT")
            held = time.monotonic() - started
            _check(copy, reader, target)
        finally:
            copy.close()
        _sync(partial)
        os.replace(partial, target)
        _sync(target.parent)
    except sqlite3.Error as exc:
        raise StateFileError(str(target), f"the copy failed: {exc}") from exc
    finally:
        reader.close()
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return BackupDone(
        target=target,
        size=target.stat().st_size,
        seconds=time.monotonic() - started,
        snapshot_seconds=held,
        largest_wal_bytes=largest,
    )


def _check(copy: sqlite3.Connection, source: sqlite3.Connection, target: Path) -> None:
    """The copy opens, is whole, and is at the source's schema; then one file of its own."""
    check = copy.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise StateFileError(str(target), f"the copy failed its check ({check})")
    version = source.execute("PRAGMA user_version").fetchone()[0]
    if copy.execute("PRAGMA user_version").fetchone()[0] != version:
        raise StateFileError(str(target), "the copy is not at the source's schema version")
    copy.execute("PRAGMA journal_mode = DELETE")


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
