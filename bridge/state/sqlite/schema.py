"""The SQLite file's schema, versioned with PRAGMA user_version and migrated at open.

Each version's statements run in one transaction with the version bump, so a file is always
at one known version. A file at a version newer than this code knows is refused (a downgrade
must not guess at columns it has never seen).

Counts a bound needs on every write (records per kind, entries per queue) are kept by
triggers in small tables, so a put costs an index lookup instead of a COUNT(*) over 100,000
rows; the triggers fire inside the writing transaction, so a count never drifts from the rows.
"""

from __future__ import annotations

import sqlite3

from bridge.state.errors import StateFileError

_V1 = (
    """CREATE TABLE queue_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        body BLOB NOT NULL,
        made_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due REAL NOT NULL,
        owner TEXT
    )""",
    "CREATE INDEX queue_entries_due ON queue_entries (queue, due, id)",
    "CREATE INDEX queue_entries_age ON queue_entries (queue, made_at, id)",
    "CREATE INDEX queue_entries_made ON queue_entries (made_at, id)",
    "CREATE INDEX queue_entries_owner ON queue_entries (owner) WHERE owner IS NOT NULL",
    "CREATE TABLE queue_sizes (queue TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TRIGGER queue_entries_counted AFTER INSERT ON queue_entries BEGIN
        INSERT INTO queue_sizes (queue, n) VALUES (NEW.queue, 1)
            ON CONFLICT (queue) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER queue_entries_uncounted AFTER DELETE ON queue_entries BEGIN
        UPDATE queue_sizes SET n = n - 1 WHERE queue = OLD.queue;
        DELETE FROM queue_sizes WHERE queue = OLD.queue AND n = 0;
    END""",
    """CREATE TABLE records (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        stored_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX records_age ON records (kind, stored_at, key)",
    "CREATE INDEX records_expiry ON records (expires_at, kind, key)",
    "CREATE TABLE record_sizes (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TRIGGER records_counted AFTER INSERT ON records BEGIN
        INSERT INTO record_sizes (kind, n) VALUES (NEW.kind, 1)
            ON CONFLICT (kind) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER records_uncounted AFTER DELETE ON records BEGIN
        UPDATE record_sizes SET n = n - 1 WHERE kind = OLD.kind;
    END""",
    """CREATE TABLE part_groups (
        grp TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        meta BLOB NOT NULL,
        total INTEGER NOT NULL,
        first_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        octets INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX part_groups_scope ON part_groups (scope)",
    "CREATE INDEX part_groups_expiry ON part_groups (expires_at, grp)",
    """CREATE TABLE parts (
        grp TEXT NOT NULL,
        idx INTEGER NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (grp, idx)
    ) WITHOUT ROWID""",
    # A row /readyz rewrites to prove a commit still reaches the disk.
    "CREATE TABLE probe (id INTEGER PRIMARY KEY, at REAL NOT NULL)",
    "INSERT INTO probe (id, at) VALUES (1, 0)",
)

# Version 2: counters raised within a limit (an account's caps), each with its expiry.
_V2 = (
    """CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
)

# MIGRATIONS[n] takes a file from version n - 1 to version n.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: _V1, 2: _V2}
SCHEMA_VERSION = max(MIGRATIONS)


def migrate(connection: sqlite3.Connection, path: str) -> int:
    """Bring the file to SCHEMA_VERSION; returns the version it had."""
    found = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise StateFileError(
            path,
            f"written by a newer isms-bridge (schema {found}; this one knows {SCHEMA_VERSION})",
        )
    if found == 0:
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise StateFileError(path, "an SQLite database, but not an isms-bridge state file")
    if found == SCHEMA_VERSION:
        return found
    connection.execute("BEGIN IMMEDIATE")
    try:
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return found
