"""Benchmark: how big the live file's write-ahead log gets while a backup copies it.

Run: .venv/bin/python bench/backup.py [--records 100000] [--rate 80] [--give-up-s 60]

A reader that holds a snapshot keeps every checkpoint from finishing, so the live WAL grows
with every commit for as long as it holds it. This fills a state file with `--records`
message records (256 bytes each, the query store's default bound) and receipts, then writes
`--rate` messages a second into it through a real SqliteState (a record and a receipt per
message, the group commit at work, as `serve` writes), and meanwhile copies it once with each
method below, each in a child process (another process, as a backup would be):

- backup API, one step: `source.backup(copy)` (pages=-1), one snapshot for the whole copy;
- the sqlite3 shell's `.backup` (100 pages a step, no pause);
- backup API, 1000 pages a step, 50 ms asleep between steps: the snapshot is let go
  between steps, but SQLite restarts a backup whose source another process changed, so
  under steady writes it may never finish (given up after `--give-up-s`);
- VACUUM INTO: one read transaction, a compacted copy;
- reader-10s: no copy, a reader inside BEGIN for 10 s (a sqlite3 shell left open): the
  WAL's growth under this traffic;
- `isms-bridge backup` (bridge.state.backup_file), the method chosen from these figures.

Prints, per method: seconds it held its snapshot (for `bridge`: until the copy is taken,
before its checks and fsync), the WAL before (cut to 0 bytes first) and at its largest
while it ran (normal traffic alone takes it to ~4 MiB, where a checkpoint starts it over),
restarts seen, and whether the copy passes quick_check with the records it should hold.
Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bridge.state import SqliteState  # noqa: E402

RECORD = bytes(range(256))
RECEIPT = b"\x00" * 180
RECORD_BOUND = 100_000  # the query store's default bound; --records raises it
RECEIPT_BOUND = 10_000

# Each method runs in its own process and prints one JSON line.
CHILD = r"""
import json, sqlite3, sys, time
method, source, target, give_up_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
started = time.monotonic()
restarts = 0
done = True
if method == "reader-10s":
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM records").fetchone()
    time.sleep(10)
    db.execute("COMMIT")
elif method == "vacuum-into":
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    db.execute("VACUUM INTO ?", (target,))
elif method == "bridge":
    sys.path.insert(0, sys.argv[5])
    from pathlib import Path
    from bridge.state import backup_file
    done = backup_file(Path(source), Path(target))
    print(json.dumps({"seconds": done.snapshot_seconds, "restarts": 0, "done": True}))
    sys.exit(0)
else:
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    last = [None]
    class GaveUp(Exception):
        pass
    def progress(status, remaining, total):
        global restarts
        if last[0] is not None and remaining > last[0]:
            restarts += 1
        last[0] = remaining
        if time.monotonic() - started > give_up_s:
            raise GaveUp
        if method == "stepped-sleep":
            time.sleep(0.05)
    pages = {"one-step": -1, "stepped-sleep": 1000}[method]
    try:
        db.backup(copy, pages=pages, progress=progress)
    except GaveUp:
        done = False
    copy.close()
print(json.dumps({"seconds": time.monotonic() - started, "restarts": restarts, "done": done}))
"""


def wal_bytes(path: Path) -> int:
    try:
        return path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def check_copy(copy: Path) -> str:
    import sqlite3

    if not copy.exists() or copy.stat().st_size == 0:
        return "none"
    db = sqlite3.connect(copy)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'records'")
        if not tables.fetchone()[0]:
            return f"quick_check {check}, incomplete (no records table)"
        records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        db.close()
    return f"quick_check {check}, {records:,} records"


async def fill(store: SqliteState, records: int) -> None:
    now = time.time()
    for start in range(0, records, 1000):
        await asyncio.gather(
            *(
                store.put_record(
                    "msg", f"old{i}", RECORD, now=now, expires_at=now + 86_400,
                    max_records=max(records, RECORD_BOUND),
                )
                for i in range(start, min(records, start + 1000))
            ),
            *(
                store.enqueue(f"acct{i % 4}", RECEIPT, now=now, max_entries=RECEIPT_BOUND)
                for i in range(start, min(records, start + 1000)) if i < RECEIPT_BOUND * 4
            ),
        )  # fmt: skip


async def traffic(store: SqliteState, rate: float, bound: int, stop: asyncio.Event) -> int:
    """`rate` messages a second, each its own loop turn: a record and a receipt."""
    sent = 0
    interval = 1 / rate
    next_at = time.monotonic()
    while not stop.is_set():
        now = time.time()
        await asyncio.gather(
            store.put_record(
                "msg", f"new{sent}", RECORD, now=now, expires_at=now + 86_400,
                max_records=bound,
            ),
            store.enqueue(f"acct{sent % 4}", RECEIPT, now=now, max_entries=RECEIPT_BOUND),
        )  # fmt: skip
        sent += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return sent


def truncate_wal(path: Path) -> None:
    """Checkpoint the live file and cut its WAL to 0 bytes (from a connection of its own,
    as any process may), so that what a method makes it grow starts from nothing."""
    import sqlite3

    db = sqlite3.connect(path, timeout=5)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()


async def measure(path: Path, method: str, folder: Path, give_up_s: float) -> None:
    target = folder / f"copy-{method}.sqlite3"
    await asyncio.to_thread(truncate_wal, path)
    before = wal_bytes(path)
    peak = before
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, method, str(path), str(target), str(give_up_s), str(REPO),
        stdout=subprocess.PIPE,
    )  # fmt: skip
    waiting = asyncio.ensure_future(child.communicate())
    while not waiting.done():
        peak = max(peak, wal_bytes(path))
        await asyncio.sleep(0.02)
    output, _ = waiting.result()
    result = json.loads(output.decode().strip().splitlines()[-1])
    state = "finished" if result["done"] else f"gave up after {give_up_s:g} s"
    print(
        f"{method:14} {result['seconds']:7.2f} s  WAL before {before / 2**20:6.1f} MiB, "
        f"largest {peak / 2**20:6.1f} MiB  restarts {result['restarts']:4}  {state}; "
        f"copy: {check_copy(target)}",
        flush=True,
    )
    target.unlink(missing_ok=True)


async def shell_backup(path: Path, folder: Path, give_up_s: float) -> None:
    sqlite3_shell = shutil.which("sqlite3")
    if sqlite3_shell is None:
        print("sqlite3-shell  (the sqlite3 shell is not on PATH)")
        return
    target = folder / "copy-shell.sqlite3"
    await asyncio.to_thread(truncate_wal, path)
    before = wal_bytes(path)
    peak = before
    started = time.monotonic()
    child = await asyncio.create_subprocess_exec(sqlite3_shell, str(path), f".backup {target}")
    waiting = asyncio.ensure_future(child.wait())
    state = "finished"
    while not waiting.done():
        peak = max(peak, wal_bytes(path))
        if time.monotonic() - started > give_up_s:
            child.kill()  # restarting for ever: every commit of the writer restarts it
            state = f"gave up after {give_up_s:g} s"
            await waiting
            target.unlink(missing_ok=True)
        await asyncio.sleep(0.02)
    print(
        f"{'sqlite3-shell':14} {time.monotonic() - started:7.2f} s  WAL before "
        f"{before / 2**20:6.1f} MiB, largest {peak / 2**20:6.1f} MiB  restarts    ?  "
        f"{state}; copy: {check_copy(target)}",
        flush=True,
    )
    target.unlink(missing_ok=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=RECORD_BOUND)
    parser.add_argument("--rate", type=float, default=80.0)
    parser.add_argument("--give-up-s", type=float, default=60.0)
    parser.add_argument(
        "--methods",
        default="reader-10s,one-step,vacuum-into,stepped-sleep,bridge,sqlite3-shell",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "state.sqlite3"
        store = await SqliteState.open(path)
        started = time.perf_counter()
        await fill(store, args.records)
        print(
            f"filled: {args.records:,} records in {time.perf_counter() - started:.1f} s, "
            f"file {path.stat().st_size / 2**20:.1f} MiB; traffic {args.rate:g} messages/s "
            "(a record and a receipt each)",
            flush=True,
        )
        stop = asyncio.Event()
        bound = max(args.records, RECORD_BOUND)
        writing = asyncio.ensure_future(traffic(store, args.rate, bound, stop))
        await asyncio.sleep(3)
        quiet = [wal_bytes(path)]
        for _ in range(50):
            await asyncio.sleep(0.02)
            quiet.append(wal_bytes(path))
        print(f"{'no backup':14} {'':9}  WAL {min(quiet) / 2**20:.1f}-{max(quiet) / 2**20:.1f} MiB")
        for method in args.methods.split(","):
            if method == "sqlite3-shell":
                await shell_backup(path, folder, args.give_up_s)
            else:
                await measure(path, method, folder, args.give_up_s)
            await asyncio.sleep(3)  # the WAL settles: checkpoints complete again
        stop.set()
        sent = await writing
        await store.aclose()
        print(f"traffic: {sent:,} messages written meanwhile (cpus: {os.cpu_count()})")


if __name__ == "__main__":
    asyncio.run(main())
