"""Benchmark: receipts per second to one receiver, and what one receipt it never answers costs.

Run: .venv/bin/python bench/receipts.py [--receipts 2000] [--answer-ms 50] [--rounds 3]

Parties, each its own process: the iSMS sandbox (`isms-bridge sandbox`, answering at once)
and `isms-bridge serve` at its defaults (SQLite state, `[smpp] window = 100`, log level
INFO); the ESMEs are here. Per round, on a fresh bridge:
1. A transmitter submits `--receipts` messages asking for a receipt while no receiver is
   bound, so that every receipt is held (this part is not timed).
2. A receiver binds and answers each deliver_sm `--answer-ms` after it arrived; the rate is
   receipts answered per second, from the bind to the last one.
3. The same, but the receiver never answers the first deliver_sm it gets.
Receipts flow as a sliding window per receiver session: the second figure should be within
10 % of the first (the unanswered receipt costs one slot of the window until its timer).
The ceiling is window / answer delay (100 / 50 ms = 2,000 receipts/s). Figures only.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parties import (  # noqa: E402 (bench/ beside this script)
    PASSWORD,
    SANDBOX_PASSWORD,
    SANDBOX_USER,
    SYSTEM_ID,
    free_port,
    start_sandbox,
)

HEADER = struct.Struct(">IIII")
DELIVER_SM = 0x00000005
SUBMIT_SM_RESP = 0x80000004
BIND_RESP = {0x80000001, 0x80000002}


def encoded(kind: str, sequence_number: int = 1) -> bytes:
    from bridge.pdu import BindReceiver, BindTransmitter, SubmitSm, encode

    if kind == "receiver":
        return encode(BindReceiver(system_id=SYSTEM_ID, password=PASSWORD, sequence_number=1))
    if kind == "transmitter":
        return encode(BindTransmitter(system_id=SYSTEM_ID, password=PASSWORD, sequence_number=1))
    return encode(
        SubmitSm(
            sequence_number=sequence_number,
            source_addr="MyBrand",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="60123456789",
            short_message=b"receipt bench",
            registered_delivery=1,
        )
    )


def deliver_sm_resp(sequence_number: int) -> bytes:
    return HEADER.pack(17, 0x80000005, 0, sequence_number) + b"\x00"


class Pdus(asyncio.Protocol, abc.ABC):
    """Splits the stream into (command_id, sequence_number) and hands each to `on_pdu`."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.bound = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 16:
            length, command_id, status, sequence_number = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < length:
                return
            del self.buffer[:length]
            if command_id in BIND_RESP:
                if status:
                    self.bound.set_exception(RuntimeError(f"bind refused: 0x{status:08x}"))
                else:
                    self.bound.set_result(None)
                continue
            self.on_pdu(command_id, status, sequence_number)

    @abc.abstractmethod
    def on_pdu(self, command_id: int, status: int, sequence_number: int) -> None:
        """What this ESME does with a PDU other than its bind_resp."""


class Sender(Pdus):
    """Keeps `window` submits in flight until `count` are answered."""

    def __init__(self, count: int, window: int = 100) -> None:
        super().__init__()
        self.count, self.window = count, window
        self.sent = self.answered = self.refused = 0
        self.done = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        self._more()

    def _more(self) -> None:
        assert self.transport is not None
        batch = b""
        while self.sent < self.count and self.sent - self.answered < self.window:
            self.sent += 1
            batch += encoded("submit", self.sent + 1)
        if batch:
            self.transport.write(batch)

    def on_pdu(self, command_id: int, status: int, sequence_number: int) -> None:
        if command_id == SUBMIT_SM_RESP:
            self.answered += 1
            self.refused += status != 0
            if self.answered == self.count:
                self.done.set_result(None)
            else:
                self._more()


class Receiver(Pdus):
    """Answers each deliver_sm `delay` seconds after it came; the first never, if told."""

    def __init__(self, expected: int, delay: float, silent_first: bool) -> None:
        super().__init__()
        self.expected, self.delay, self.silent_first = expected, delay, silent_first
        self.received = self.answered = 0
        self.done = asyncio.get_running_loop().create_future()
        self.finished_at = 0.0

    def on_pdu(self, command_id: int, status: int, sequence_number: int) -> None:
        if command_id != DELIVER_SM:
            return
        self.received += 1
        if self.silent_first and self.received == 1:
            return
        asyncio.get_running_loop().call_later(self.delay, self._answer, sequence_number)

    def _answer(self, sequence_number: int) -> None:
        assert self.transport is not None
        self.transport.write(deliver_sm_resp(sequence_number))
        self.answered += 1
        owed = self.expected - (1 if self.silent_first else 0)
        if self.answered == owed and not self.done.done():
            self.finished_at = time.perf_counter()
            self.done.set_result(None)


async def connect(port: int, protocol: Pdus, bind: str) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_connection(lambda: protocol, "127.0.0.1", port)
    assert protocol.transport is not None
    protocol.transport.write(encoded(bind))
    await protocol.bound


async def one_round(port: int, receipts: int, delay: float, silent_first: bool) -> float:
    sender = Sender(receipts)
    await connect(port, sender, "transmitter")
    sender.start()
    await asyncio.wait_for(sender.done, 120)
    if sender.refused:
        raise RuntimeError(f"{sender.refused} submits refused")
    await asyncio.sleep(0.5)  # the last receipts committed and held
    receiver = Receiver(receipts, delay, silent_first)
    started = time.perf_counter()
    await connect(port, receiver, "receiver")
    await asyncio.wait_for(receiver.done, 120)
    answered = receiver.answered
    for protocol in (sender, receiver):
        assert protocol.transport is not None
        protocol.transport.close()
    return answered / (receiver.finished_at - started)


def start_bridge(workdir: Path, endpoint: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / f"bridge-{port}.toml"
    config.write_text(
        f'[smpp]\nhost = "127.0.0.1"\nport = {port}\n\n'
        f'[isms]\nendpoints = ["{endpoint}"]\n\n[metrics]\nport = 0\n\n'
        f'[state]\npath = "{workdir / f"state-{port}.db"}"\n\n'
        f'[[accounts]]\nsystem_id = "{SYSTEM_ID}"\npassword = "{PASSWORD}"\n'
        f'isms_username = "{SANDBOX_USER}"\nisms_password = "{SANDBOX_PASSWORD}"\n',
        encoding="utf-8",
    )
    log = (workdir / f"bridge-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while b"event=listening" not in (workdir / f"bridge-{port}.log").read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bridge did not start: see {workdir}")
        time.sleep(0.05)
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=2000)
    parser.add_argument("--answer-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    delay = args.answer_ms / 1000
    sandbox, endpoint = start_sandbox()
    rates: dict[bool, list[float]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for round_number in range(args.rounds):
                # Every other round the other case first, so neither always runs warmer.
                order = (False, True) if round_number % 2 == 0 else (True, False)
                for silent_first in order:
                    bridge, port = start_bridge(Path(tmp), endpoint)
                    try:
                        rate = asyncio.run(one_round(port, args.receipts, delay, silent_first))
                    finally:
                        bridge.terminate()
                        bridge.wait(60)
                    rates[silent_first].append(rate)
                print(
                    f"round {round_number + 1}: all answered {rates[False][-1]:,.0f} receipts/s,"
                    f" one never answered {rates[True][-1]:,.0f} receipts/s"
                )
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    plain, one_silent = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"\n{args.receipts:,} held receipts to one receiver answering after {args.answer_ms:g} ms"
        f" (window 100: ceiling {100 / delay:,.0f}/s), median of {args.rounds} rounds:\n"
        f"  every deliver_sm answered:      {plain:>8,.0f} receipts/s\n"
        f"  the first one never answered:   {one_silent:>8,.0f} receipts/s"
        f"  ({one_silent / plain:.2f}x; target >= 0.90x)"
    )


if __name__ == "__main__":
    main()
