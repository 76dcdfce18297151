"""Opening the SQLite file: the lock, the checks, the pragmas; every refusal a StateFileError.

The lock: an exclusive fcntl.flock on a sidecar file (`<path>.lock`), taken before the
database is touched and held for the life of the store. The kernel drops it when the process
dies, however it dies, so a SIGKILLed bridge never leaves a stale lock, and a second bridge
on the same file is refused at start. SQLite's own locking_mode=EXCLUSIVE would also keep
out a second writer, but it keeps out readers too, and `isms-bridge messages` must read the
file while `serve` runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from bridge.state.errors import StateFileError
from bridge.state.sqlite.schema import migrate

Fsync = Literal["normal", "full"]
BUSY_TIMEOUT_MS = 5_000
# The WAL file is cut back to this after a checkpoint, so a burst does not leave it large.
JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) or isinstance(exc, NotADirectoryError):
        return "a file stands where a folder of the path should be"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return exc.strerror or str(exc)


def take_lock(path: Path) -> int:
    """Create the folder if needed and take the lock; returns the lock's descriptor."""
    if path.is_dir():
        raise StateFileError(str(path), "is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateFileError(str(path), _reason(exc)) from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode("ascii", "replace").strip()
        os.close(descriptor)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise StateFileError(
            str(path), f"in use by another running isms-bridge{who}: {lock_path(path)} is locked"
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode("ascii"))
    return descriptor


def drop_lock(descriptor: int) -> None:
    os.close(descriptor)  # closing the last descriptor releases the flock


def _connect(uri: str, path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StateFileError(str(path), f"cannot open: {exc}") from exc


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


def configure(connection: sqlite3.Connection, *, fsync: Fsync, max_pages: int | None) -> None:
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # NORMAL in WAL mode syncs at checkpoints only: a process crash loses nothing committed,
    # a power loss may lose the last commits. FULL syncs the WAL on every commit.
    connection.execute(f"PRAGMA synchronous = {'FULL' if fsync == 'full' else 'NORMAL'}")
    connection.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    connection.execute("PRAGMA foreign_keys = OFF")
    if max_pages is not None:
        connection.execute(f"PRAGMA max_page_count = {int(max_pages)}")


def open_writer(path: Path, *, fsync: Fsync, max_pages: int | None) -> sqlite3.Connection:
    """The writing connection, checked and migrated (the lock must be held)."""
    connection = _connect(_uri(path, "rwc"), path)
    try:
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StateFileError(str(path), f"cannot use write-ahead logging (mode {mode})")
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StateFileError(str(path), f"corrupt ({check})")
            configure(connection, fsync=fsync, max_pages=max_pages)
            migrate(connection, str(path))
        except sqlite3.DatabaseError as exc:
            raise StateFileError(str(path), _database_reason(exc)) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def open_reader(path: Path, *, read_only_file: bool) -> sqlite3.Connection:
    """A reading connection; `read_only_file` opens with mode=ro (no lock needed)."""
    if read_only_file and not path.exists():
        raise StateFileError(str(path), "no such file (has serve ever run with this path?)")
    connection = _connect(_uri(path, "ro" if read_only_file else "rw"), path)
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only = 1")
        if read_only_file:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                raise StateFileError(str(path), "not an isms-bridge state file")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise StateFileError(str(path), _database_reason(exc)) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _database_reason(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"corrupt or not an SQLite database ({text})"
    if "readonly" in text or "read-only" in text:
        return f"cannot write ({text})"
    return text


def file_size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(FileNotFoundError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total
