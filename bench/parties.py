"""What several benchmarks start or measure the same way: the sandbox, a free port, a
process's CPU time, and the windowed load ESME (e2e.py and cluster.py run it in a child
process of their own)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
SANDBOX_USER, SANDBOX_PASSWORD = "bench", "bench-pw"
SYSTEM_ID, PASSWORD = "bench", "bench1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int,
    process: subprocess.Popen[bytes],
    what: str,
    *,
    log: Path | None = None,
    timeout_s: float = 30.0,
) -> None:
    """Until `port` takes a connection; RuntimeError (with the end of `log`) when `process`
    exits first or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{what} did not start on {port}\n{tail}") from None
            time.sleep(0.05)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_sandbox(*options: str) -> tuple[subprocess.Popen[bytes], str]:
    """`isms-bridge sandbox` on a free port with the bench account; (process, endpoint)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "sandbox", "--port", "0",
         "--account", f"{SANDBOX_USER}:{SANDBOX_PASSWORD}", "--credits", "1000000000",
         "--history", "50", *options],
        stdout=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert process.stdout is not None
    banner = b""
    while b"account:" not in banner:
        banner += process.stdout.readline()
    found = re.search(rb"endpoint: (\S+)", banner)
    assert found is not None, banner
    return process, found.group(1).decode()


@dataclass
class Load:
    """What the binds of one load share: submits left to send, the pre-encoded submit_sm,
    and what came back."""

    remaining: int
    template: bytes
    # Where in `template` a run of ASCII digits is replaced by the message's number, so that
    # every message differs (a bridge suppressing duplicates sends each); None: all alike.
    numbered_at: tuple[int, int] | None = None
    sent: int = 0
    expected: int = 0  # receipts owed (cluster.py waits for them)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    receipts: int = 0
    all_receipts: asyncio.Event = field(default_factory=asyncio.Event)


class Esme(asyncio.Protocol):
    """One transceiver bind keeping `window` submits in flight until `shared.remaining`
    runs out (header-only parsing); answers deliver_sm and enquire_link."""

    def __init__(self, shared: Load, window: int) -> None:
        loop = asyncio.get_running_loop()
        self.shared, self.window = shared, window
        self.buffer = bytearray()
        self.sent_at: dict[int, float] = {}
        self.sequence = 1
        self.bound = loop.create_future()
        self.done = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        body = SYSTEM_ID.encode() + b"\0" + PASSWORD.encode() + b"\0\0\x34\0\0\0"
        transport.write(struct.pack(">IIII", 16 + len(body), 0x09, 0, 1) + body)  # type: ignore[attr-defined]

    def start(self) -> None:
        for _ in range(self.window):
            self._send_next()

    def _send_next(self) -> None:
        shared = self.shared
        if shared.remaining <= 0:
            if not self.sent_at and not self.done.done():
                self.done.set_result(None)
            return
        shared.remaining -= 1
        self.sequence += 1
        assert self.transport is not None
        self.sent_at[self.sequence] = time.perf_counter()
        template = shared.template
        if shared.numbered_at is not None:
            start, end = shared.numbered_at
            shared.sent += 1
            number = str(shared.sent).zfill(end - start).encode()
            template = template[:start] + number + template[end:]
        self.transport.write(template[:12] + struct.pack(">I", self.sequence) + template[16:])

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        now = time.perf_counter()
        while len(buffer) >= 16:
            length, command_id, status, sequence = struct.unpack_from(">IIII", buffer)
            if len(buffer) < length:
                break
            del buffer[:length]
            assert self.transport is not None
            if command_id == 0x80000009:
                if not self.bound.done():
                    self.bound.set_result(status)
            elif command_id == 0x80000004:
                self.shared.latencies.append(now - self.sent_at.pop(sequence))
                self.shared.errors += status != 0
                self._send_next()
            elif command_id == 0x00000005:  # deliver_sm (a receipt): deliver_sm_resp
                self.shared.receipts += 1
                if self.shared.receipts >= self.shared.expected:
                    self.shared.all_receipts.set()
                self.transport.write(struct.pack(">IIII", 17, 0x80000005, 0, sequence) + b"\0")
            elif command_id == 0x00000015:  # enquire_link: answer it
                self.transport.write(struct.pack(">IIII", 16, 0x80000015, 0, sequence))
