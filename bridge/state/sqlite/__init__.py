"""The SQLite backend (the default): the state of one bridge in one file that it alone
writes (`SqliteState`), and read-only access to that file for another process
(`SqliteReadOnly`, for `isms-bridge messages` while `serve` runs).

    store.py    SqliteState and SqliteReadOnly
    file.py     opening the file: the lock, the checks, the pragmas
    schema.py   the schema, versioned with PRAGMA user_version and migrated at open
    writer.py   one writer thread committing in groups, a reader thread
    ops.py      the SQL of every operation, as plain functions of a connection
    runs.py     runs of record puts written together (multi-row INSERTs, one UPDATE)
    counters.py the counters, the claims, and runs of them decided together
    watch.py    before each group commit: the file still there, its WAL within bounds
    backup.py   a consistent copy of the live file (`isms-bridge backup`)
"""

from bridge.state.sqlite.backup import BackupAbandoned, BackupDone, backup_file
from bridge.state.sqlite.file import Fsync
from bridge.state.sqlite.store import SqliteReadOnly, SqliteState

__all__ = [
    "BackupAbandoned",
    "BackupDone",
    "Fsync",
    "SqliteReadOnly",
    "SqliteState",
    "backup_file",
]
