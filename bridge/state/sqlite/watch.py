"""Before each group commit: is the file still the one opened, and is its WAL within bounds?

Theory of operation (the writer thread asks `FileWatch.refusal(connection)` before every
group, writer.py; a reason refuses the whole group, nothing of it is written):
1. The file gone. At open the watch notes the (device, inode) of the folder, the database,
   its WAL and the lock file. A path that no longer leads to that inode (deleted with its
   folder, moved away, replaced by a copy or a restore) means our commits go to a file
   nobody will ever open again: after a restart none of them exist. An inode that a path
   still leads to has a link count above zero, so checking the paths is checking the links.
   Gone is for good: one ERROR line (`event=state_file_gone`), then every commit is refused
   until a restart opens whatever is at the path now. A folder we may not look into
   (EACCES) says nothing either way, so it refuses nothing.
2. The WAL past its bound. A commit appends to the WAL; a checkpoint copies the WAL into
   the database and lets it start over, but only up to the oldest snapshot a reader still
   holds. A reader that keeps a read transaction open (a `sqlite3` shell left in BEGIN, a
   backup that holds its snapshot for the whole copy) therefore lets the WAL grow with every
   commit, without bound. Past `max_wal_bytes` the watch tries one checkpoint that waits for
   nobody (TRUNCATE, busy_timeout 0): it succeeds when no reader holds an old snapshot any
   more, and the WAL is back to 0 bytes; otherwise the group is refused as "store full" (the
   way a full disk or max_file_mb refuses it), logged once (`event=state_wal_full`), and the
   checkpoint is tried again at most every CHECKPOINT_RETRY_S, so a refused group costs a
   few stat calls and a comparison. The first group after the reader has gone gets through,
   and `event=state_wal_reset` says so.
Cost: four stat calls per group commit (the folder, the database, its WAL, the lock file),
measured at 4.4 µs in all, next to ~180 µs for the smallest group commit (one record);
nothing per message.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bridge.state.sqlite.file import BUSY_TIMEOUT_MS, lock_path

log = logging.getLogger(__name__)

CHECKPOINT_RETRY_S = 1.0
SNAPSHOT_HELD = (
    "a reader probably holds a snapshot (a sqlite3 shell inside BEGIN, a long backup), so "
    "checkpoints cannot complete"
)
# What a path that cannot be looked up says about the file behind it: gone, or unknown.
_GONE_ERRNOS = (errno.ENOENT, errno.ENOTDIR)

Identity = tuple[int, int]  # (st_dev, st_ino)


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def wal_bytes(path: Path) -> int:
    """The size of the database's WAL; 0 when there is none."""
    try:
        return wal_path(path).stat().st_size
    except OSError:
        return 0  # none, or its folder gone: nothing there to count


def _stat(path: str) -> os.stat_result | None:
    """None when nothing is there; raises other OSErrors (cannot look)."""
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno in _GONE_ERRNOS:
            return None
        raise


def _identity(found: os.stat_result | None) -> Identity | None:
    return None if found is None else (found.st_dev, found.st_ino)


class FileWatch:
    """Refuses commits while the file is gone or its WAL is past its bound; the writer
    thread alone calls `refusal`."""

    def __init__(
        self,
        path: Path,
        *,
        max_wal_bytes: int | None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        path = path.absolute()
        self.path = path
        self._max_wal = max_wal_bytes
        self._monotonic = monotonic
        # Paths as str: os.stat takes them as they are (they are stat'ed at every commit).
        self._wal = os.fspath(wal_path(path))
        self._watched = {
            "folder": os.fspath(path.parent),
            "database": os.fspath(path),
            "write-ahead log": self._wal,
            "lock file": os.fspath(lock_path(path)),
        }
        self._opened = {name: _identity(_stat(where)) for name, where in self._watched.items()}
        self._wal_size = 0  # as `_moved` last saw it
        self._gone: str | None = None
        self._full = False
        self._retry_at = 0.0

    def refusal(self, connection: sqlite3.Connection) -> str | None:
        """Why no commit may go through now, or None."""
        if self._gone is not None:
            return self._gone
        gone = self._moved()
        if gone is not None:
            self._gone = f"the state file is gone ({gone}): commits cannot reach it, restart"
            log.error(
                "event=state_file_gone path=%s what=%r action=submits_answered_ESME_RSYSERR "
                "restart=required",
                self.path,
                gone,
            )
            return self._gone
        if self._max_wal is None:
            return None
        size = self._wal_size
        if size > self._max_wal and self._checkpoint_due():
            size = self._checkpoint(connection, size)
        if size <= self._max_wal:
            if self._full:
                self._full = False
                log.warning("event=state_wal_reset path=%s wal_bytes=%d", self.path, size)
            return None
        if not self._full:
            self._full = True
            log.error(
                "event=state_wal_full path=%s wal_bytes=%d max_wal_mb=%d reason=%r "
                "action=submits_answered_ESME_RSYSERR until=the_reader_ends",
                self.path,
                size,
                self._max_wal // 2**20,
                SNAPSHOT_HELD,
            )
        return (
            f"store full: the write-ahead log is {size} bytes, past "
            f"max_wal_mb ({self._max_wal // 2**20}); {SNAPSHOT_HELD}"
        )

    def _moved(self) -> str | None:
        """What of the file is not where it was opened, in words; None when all is."""
        self._wal_size = 0
        for name, where in self._watched.items():
            opened = self._opened[name]
            try:
                found = _stat(where)
            except OSError:
                continue  # cannot look (permissions): no evidence it moved
            if where is self._wal and found is not None:
                self._wal_size = found.st_size
            now = _identity(found)
            if opened is None:
                self._opened[name] = now  # not there at open (no WAL yet): from now on
            elif now is None:
                return f"{name} {where} deleted"
            elif now != opened:
                return f"{name} {where} replaced by another file"
        return None

    def _checkpoint_due(self) -> bool:
        now = self._monotonic()
        if self._full and now < self._retry_at:
            return False
        self._retry_at = now + CHECKPOINT_RETRY_S
        return True

    def _checkpoint(self, connection: sqlite3.Connection, size: int) -> int:
        """One TRUNCATE checkpoint that waits for no reader; the WAL's size after it."""
        try:
            connection.execute("PRAGMA busy_timeout = 0")
            try:
                busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            return size  # refused as full; the next try is a retry interval away
        return size if busy else wal_bytes(self.path)
