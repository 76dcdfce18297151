"""Benchmark: the state backends (memory, sqlite, redis) on what a submit writes.

Run: .venv/bin/python bench/state.py [--submits 20000] [--records 1000000] [--pending 100000]

Prints, per backend:
1. submits/s where each submit writes a message record and a receipt (put_record + enqueue,
   started together), with 200 submits in flight: the group commit (sqlite) or pipeline
   (redis) at work; beside it the same with ONE submit at a time (sqlite: one transaction
   per write, the thing the group commit avoids; redis: one round trip per write);
2. commit latency (p50/p99) and operations per commit, from the CommitObserver;
3. recovery: 100,000 receipts pending (half of them leased by a process that then died),
   the store closed and opened again; time to open, release the dead leases and count them,
   then to take them all (in batches of 1,000);
4. sqlite file size after 1,000,000 message records at the default bound (100,000 records,
   the query store's default), with a 256-byte record.
Figures only; nothing here asserts timing. Needs redis-server on PATH for the redis rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge.state import MemoryState, RedisState, SqliteState, StateStore

RECORD = bytes(range(256))  # about what a message record holds
RECEIPT = b"\x00" * 180  # an encoded deliver_sm receipt is 150-200 octets
RECORD_BOUND = 100_000  # the query store's default bound
RECEIPT_BOUND = 10_000  # receipts held per account by default
IN_FLIGHT = 200


class Samples:
    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.batches: list[int] = []

    def committed(self, *, seconds: float, operations: int) -> None:
        self.seconds.append(seconds)
        self.batches.append(operations)

    def commit_failed(self, *, reason: str) -> None:
        print(f"  commit failed: {reason}")

    def line(self) -> str:
        if not self.seconds:
            return "  commits: none observed"
        ordered = sorted(self.seconds)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"  commits: {len(ordered)}, latency p50 {statistics.median(ordered) * 1e3:.2f} ms "
            f"p99 {p99 * 1e3:.2f} ms, operations per commit mean "
            f"{statistics.fmean(self.batches):.1f} max {max(self.batches)}"
        )


async def submits(store: StateStore, count: int, in_flight: int) -> float:
    """submits/s: each submit puts its record and enqueues its receipt, together."""
    now = time.time()
    next_id = iter(range(count))

    async def one_after_another() -> None:
        for i in next_id:
            await asyncio.gather(
                store.put_record(
                    "msg", f"m{i}", RECORD, now=now, expires_at=now + 86_400,
                    max_records=RECORD_BOUND,
                ),
                store.enqueue(f"acct{i % 4}", RECEIPT, now=now, max_entries=RECEIPT_BOUND),
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(one_after_another() for _ in range(in_flight)))
    return count / (time.perf_counter() - started)


class RedisProcess:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait()


Opener = Callable[[Samples], Awaitable[StateStore]]


async def throughput(name: str, opener: Opener, count: int) -> None:
    for label, in_flight in (("200 in flight", IN_FLIGHT), ("one at a time", 1)):
        samples = Samples()
        store = await opener(samples)
        n = count if in_flight > 1 else max(500, count // 20)
        rate = await submits(store, n, in_flight)
        await asyncio.sleep(0)
        await store.aclose()
        extra = ""
        if isinstance(store, RedisState):
            extra = f", {store.round_trips / n:.2f} round trips per submit"
        print(f"{name:7} {label:14} {rate:10,.0f} submits/s ({2 * rate:,.0f} writes/s){extra}")
        if samples.seconds:
            print(samples.line())


async def recovery(name: str, opener: Opener, reopen: bool, pending: int) -> None:
    store = await opener(Samples())
    now = time.time()
    for start in range(0, pending, 1000):
        await asyncio.gather(
            *(
                store.enqueue(f"acct{i % 10}", RECEIPT, now=now, max_entries=RECEIPT_BOUND * 10)
                for i in range(start, min(pending, start + 1000))
            )
        )
    for account in range(10):  # half sent, unacknowledged, by a process that died
        await store.take(f"acct{account}", owner="dead", now=now, lease_s=3600, limit=pending // 20)
    if reopen:
        await store.aclose()
    started = time.perf_counter()
    if reopen:
        store = await opener(Samples())
    released = await store.release_leases()
    counts = await store.queue_counts(now=now)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    taken = 0
    for queue in await store.queues():
        while batch := await store.take(queue, owner="me", now=now, lease_s=60, limit=1000):
            taken += len(batch)
    took = time.perf_counter() - started
    await store.aclose()
    print(
        f"{name:7} recovery of {pending:,} pending ({released:,} leased by a dead owner): "
        f"open+release+count {opened:.2f} s (ready {counts.ready:,}), take all {taken:,} "
        f"in {took:.2f} s"
    )


async def file_size(path: Path, records: int) -> None:
    store = await SqliteState.open(path)
    now = time.time()
    started = time.perf_counter()
    peak = 0
    for start in range(0, records, 2000):
        await asyncio.gather(
            *(
                store.put_record(
                    "msg", f"m{i:08}", RECORD, now=now + i * 1e-3, expires_at=now + 86_400,
                    max_records=RECORD_BOUND,
                )
                for i in range(start, min(records, start + 2000))
            )
        )  # fmt: skip
        if start % 50_000 == 0:
            peak = max(peak, store.file_size() or 0)
    took = time.perf_counter() - started
    size = store.file_size() or 0
    count = await store.record_count("msg")
    await store.aclose()
    db = os.stat(path).st_size
    print(
        f"sqlite  {records:,} message records of {len(RECORD)} B at bound {RECORD_BOUND:,}: "
        f"{count:,} kept, file {db / 2**20:.1f} MiB (+WAL: {size / 2**20:.1f} MiB while open, "
        f"largest seen {peak / 2**20:.1f} MiB), {records / took:,.0f} puts/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-state-"))
    redis = RedisProcess() if shutil.which("redis-server") else None
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, files in {tmp}")
    counter = iter(range(10**6))

    async def memory(samples: Samples) -> StateStore:
        return MemoryState()

    async def sqlite(samples: Samples) -> StateStore:
        return await SqliteState.open(tmp / f"s{next(counter)}.sqlite3", observer=samples)

    async def sqlite_full(samples: Samples) -> StateStore:
        return await SqliteState.open(
            tmp / f"s{next(counter)}.sqlite3", observer=samples, fsync="full"
        )

    fixed = tmp / "recovery.sqlite3"

    async def sqlite_fixed(samples: Samples) -> StateStore:
        return await SqliteState.open(fixed, observer=samples)

    prefix = f"bench-{os.getpid()}"

    async def redis_store(samples: Samples) -> StateStore:
        assert redis is not None
        return await RedisState.open(redis.url, key_prefix=f"{prefix}-{next(counter)}",
                                     observer=samples)  # fmt: skip

    async def redis_fixed(samples: Samples) -> StateStore:
        assert redis is not None
        return await RedisState.open(redis.url, key_prefix=f"{prefix}-recovery", observer=samples)

    try:
        await throughput("memory", memory, args.submits)
        await throughput("sqlite", sqlite, args.submits)
        await throughput("sqlite/full", sqlite_full, args.submits)
        if redis is not None:
            await throughput("redis", redis_store, args.submits)
        await recovery("memory", memory, reopen=False, pending=args.pending)
        await recovery("sqlite", sqlite_fixed, reopen=True, pending=args.pending)
        if redis is not None:
            await recovery("redis", redis_fixed, reopen=True, pending=args.pending)
        await file_size(tmp / "bounded.sqlite3", args.records)
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
