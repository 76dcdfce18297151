"""Benchmark: the state file under a flood, and recovery of pending receipts at start.

Run: .venv/bin/python bench/durability.py [--messages 1000000] [--receipts 100000]

1. Flood: `--messages` submit_sm through a real MessagePipeline on a real SQLite store (the
   default backend, default [messages] bounds, fsync normal), 200 in flight, against an
   iSMS that accepts at once (no HTTP: this measures the store, not the network). Every
   message asks for a receipt and no receiver is bound, so receipts are held up to
   `receipt_hold_max` and the query_sm records fill up to `query_store_max`: the two bounds
   that must hold the file. Prints the file size (database + WAL) as the flood goes: it
   must stop growing once the bounds are reached.
2. Recovery: `--receipts` receipts held in a fresh file (one account, receipt_hold_max
   raised to fit), the store closed as a crash would leave it (leases held), then the time
   to open it and recover (leases released, counts read: what `serve` does before it
   listens). Target < 5 s for 100,000.
Figures only; nothing here asserts timing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bridge.pdu import DeliverSm, Pdu, SubmitSm  # noqa: E402
from bridge.pipeline import (  # noqa: E402
    AccountRoute,
    MessagePipeline,
    PipelineSettings,
    ReceiptSettings,
)
from bridge.server import Peer, SessionContext  # noqa: E402
from bridge.smpp import BindType  # noqa: E402
from bridge.state import SqliteState  # noqa: E402
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult  # noqa: E402

ROUTE = AccountRoute(
    system_id="bench", credentials=IsmsCredentials(username="bench", password="bench")
)
CONTEXT = SessionContext(
    session_id="s1",
    peer=Peer(host="127.0.0.1", port=40000),
    system_id="bench",
    bind_type=BindType.TRANSMITTER,
)
TEXT = b"Your one-time code is 482913. It expires in 5 minutes."
IN_FLIGHT = 200


class InstantIsms:
    def __init__(self) -> None:
        self.trx = 10_000_000

    async def send(self, message: IsmsMessage) -> SendResult:
        self.trx += 1
        return SendResult(
            outcome=Outcome.ACCEPTED, code=2000, trx_id=str(self.trx), mirror="bench",
            elapsed_s=0.0, attempts=1,
        )  # fmt: skip


class NoReceivers:
    def delivery_window(self, system_id: str) -> int:
        return 0

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        raise LookupError("no receiver bound")


async def answered(pipeline: MessagePipeline, submit: SubmitSm) -> None:
    """One submit as the server runs it: the response, then word that it was written."""
    pipeline.answer_written(CONTEXT, await pipeline.handle(CONTEXT, submit))


def file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


async def flood(path: Path, messages: int) -> None:
    store = await SqliteState.open(path)
    pipeline = MessagePipeline(
        sender=InstantIsms(), registry=NoReceivers(), routes=[ROUTE], state=store
    )
    await pipeline.start()
    submit = SubmitSm(
        source_addr="MyBrand", dest_addr_ton=1, dest_addr_npi=1,
        destination_addr="60123456789", short_message=TEXT, registered_delivery=1,
    )  # fmt: skip
    settings = pipeline.settings
    print(
        f"1. flood of {messages:,} submit_sm (receipt asked, no receiver), {IN_FLIGHT} in "
        f"flight; bounds: query_store_max {settings.store_max_messages:,}, "
        f"receipt_hold_max {settings.receipts.max_held_per_account:,}"
    )
    print(f"   {'messages':>10} {'msg/s':>8} {'file MiB':>9} {'records':>8} {'receipts':>9}")
    started = time.perf_counter()
    done = 0
    step = max(IN_FLIGHT, messages // 10)
    while done < messages:
        batch = min(step, messages - done)
        for offset in range(0, batch, IN_FLIGHT):
            count = min(IN_FLIGHT, batch - offset)
            await asyncio.gather(*(answered(pipeline, submit) for _ in range(count)))
        done += batch
        await pipeline.sweep()
        rate = done / (time.perf_counter() - started)
        records = await store.record_count("message")
        held = await pipeline.outbox.held()
        print(
            f"   {done:>10,} {rate:>8.0f} {file_size(path) / 2**20:>9.1f} {records:>8,} {held:>9,}"
        )
    await pipeline.aclose()
    await store.aclose()
    print(f"   after close (WAL checkpointed): {file_size(path) / 2**20:.1f} MiB")


async def recovery(path: Path, receipts: int) -> None:
    settings = PipelineSettings(receipts=ReceiptSettings(max_held_per_account=receipts))
    store = await SqliteState.open(path)
    pipeline = MessagePipeline(
        sender=InstantIsms(), registry=NoReceivers(), routes=[ROUTE], settings=settings,
        state=store,
    )  # fmt: skip
    submit = SubmitSm(destination_addr="60123456789", short_message=TEXT, registered_delivery=1)
    for _ in range(0, receipts, IN_FLIGHT):
        await asyncio.gather(*(answered(pipeline, submit) for _ in range(IN_FLIGHT)))
    # As a crash leaves them: every receipt leased (sent, not confirmed).
    leased = 0
    while batch := await store.take("bench", owner="crashed", now=time.time(), lease_s=600.0,
                                    limit=1000):  # fmt: skip
        leased += len(batch)
    await store.aclose()
    print(f"\n2. recovery: {receipts:,} receipts held, {leased:,} of them leased by a dead process")
    started = time.perf_counter()
    store = await SqliteState.open(path)
    restarted = MessagePipeline(
        sender=InstantIsms(), registry=NoReceivers(), routes=[ROUTE], settings=settings,
        state=store,
    )  # fmt: skip
    recovered = await restarted.recover()
    elapsed = time.perf_counter() - started
    await store.aclose()
    print(
        f"   open + recover: {elapsed:.2f} s for {recovered.receipts:,} receipts due again "
        f"(target < 5 s): {'MET' if elapsed < 5 and recovered.receipts == receipts else 'NOT MET'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=100_000)
    args = parser.parse_args()
    # Past receipt_hold_max every new receipt drops the oldest, each with a warning line.
    logging.disable(logging.WARNING)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, sqlite backend")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(flood(Path(tmp) / "flood.sqlite3", args.messages))
        asyncio.run(recovery(Path(tmp) / "recovery.sqlite3", args.receipts))


if __name__ == "__main__":
    main()
