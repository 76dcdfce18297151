"""`isms-bridge backup --config FILE --to PATH`: a consistent copy of the state file, taken
while `serve` runs, that holds the live file's snapshot as briefly as a copy can.

A reader holding a snapshot stops the live file's checkpoints, and its write-ahead log grows
meanwhile (past `[state] max_wal_mb` submits get ESME_RSYSERR). The sqlite3 shell's
`.backup` lets the snapshot go between its steps and starts over whenever the bridge has
committed, which under steady traffic is for ever; this copies every page under one
snapshot in a fraction of a second (bridge/state/sqlite/backup.py has the measurements),
and gives up, writing nothing, if the live WAL passes half of `max_wal_mb` meanwhile.

    backup: /backups/state.sqlite3 (52428800 bytes, checked) in 0.6 s; snapshot held 0.5 s,
    live WAL at most 4.1 MiB        (one line)

Exit 0 with that line; 1 for a bad argument or config; 2 when no copy was made (no state
file, a backend without one, the target exists, the copy was given up), with one line why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from bridge.app.commands.arguments import add_config, shown
from bridge.config import ConfigError, load_config
from bridge.state import BackupAbandoned, StateError, StateFileError, backup_file

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_NOT_COPIED = 2
_MIB = 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="copy the state file consistently while serve runs (SQLite backend)",
        description="Copy the config's [state] file to PATH under one short snapshot, check "
        "the copy and rename it into place; safe while serve writes the file.",
    )
    add_config(parser)
    parser.add_argument(
        "--to", required=True, type=Path, help="the copy to write (must not exist yet)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return back_up(args.config, args.to, out=sys.stdout, err=sys.stderr)


def back_up(config_path: Path, target: Path, *, out: TextIO, err: TextIO) -> int:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"isms-bridge backup: invalid config: {shown(exc)}", file=err)
        return EXIT_USAGE
    state = config.state
    if state.backend != "sqlite":
        print(
            f'isms-bridge backup: [state] backend = "{state.backend}" keeps no file to copy '
            "(a Redis is backed up with its own RDB or AOF files)",
            file=err,
        )
        return EXIT_NOT_COPIED
    if not state.path.exists():
        print(
            f"isms-bridge backup: state file {state.path}: does not exist "
            "(the bridge has not run with it yet)",
            file=err,
        )
        return EXIT_NOT_COPIED
    try:
        done = backup_file(state.path, target, wal_limit_bytes=state.max_wal_mb * _MIB // 2)
    except BackupAbandoned as exc:
        print(
            f"isms-bridge backup: gave up, {exc}; try again at a quieter time, or raise "
            "[state] max_wal_mb",
            file=err,
        )
        return EXIT_NOT_COPIED
    except StateFileError as exc:
        print(f"isms-bridge backup: {exc.path}: {exc.reason}", file=err)
        return EXIT_NOT_COPIED
    except StateError as exc:
        print(f"isms-bridge backup: {exc}", file=err)
        return EXIT_NOT_COPIED
    out.write(
        f"backup: {done.target} ({done.size} bytes, checked) in {done.seconds:.1f} s; "
        f"snapshot held {done.snapshot_seconds:.1f} s, live WAL at most "
        f"{done.largest_wal_bytes / _MIB:.1f} MiB\n"
    )
    return EXIT_OK
