"""Benchmark: many concurrent bound SMPP sessions: memory per idle session, enquire_link rate.

Run: .venv/bin/python bench/sessions.py [--sessions 1000 10000] [--seconds 5]

For each session count N, in one run:
1. The bridge runs as `isms-bridge serve` in its own process (config written to a temp dir,
   logging at info to a file). Its resident memory (VmRSS) is read before any client connects.
2. A load process (raw asyncio sockets, uvloop when installed) opens N connections and binds
   each as a transceiver. Once all are bound and idle, the bridge's RSS is read again:
   (RSS bound - RSS empty) / N is the memory per idle session. Target: <= 32 KiB.
3. Every session then keeps one enquire_link outstanding (closed loop) for `--seconds`:
   round trips per second over all sessions.
4. SIGTERM: the bridge unbinds every session (the load process answers unbind_resp) and
   the time to a clean exit (status 0) is reported.
The same load then runs against a bare asyncio responder (bind and enquire_link answered
from fixed bytes, no session logic, same event loop) as the baseline for the rate.
Figures only; nothing asserts timing. RLIMIT_NOFILE is raised to its hard limit first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parent.parent
HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
GENERIC_NACK = 0x80000000

CONFIG = """
[smpp]
host = "127.0.0.1"
port = {port}
window = 100
max_connections = {max_connections}
# Every session of this benchmark comes from 127.0.0.1 and binds at once.
max_connections_per_address = {max_connections}
max_unbound_connections = {max_connections}
session_init_s = 120
inactivity_s = 0
enquire_link_interval_s = 0
shutdown_timeout_s = 60

[isms]
api = "http"
endpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]
timeout_s = 5

[metrics]
host = "127.0.0.1"
port = 0

[[accounts]]
system_id = "bench"
password = "bench1"
isms_username = "bench"
isms_password = "bench123"
max_binds = {max_binds}
"""


def pdu(command_id: int, sequence_number: int, body: bytes = b"", status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence_number) + body


BIND_BODY = b"bench\x00bench1\x00\x00" + bytes([0x34, 0, 0]) + b"\x00"


# --- the load process ---------------------------------------------------------------------


class LoadSession(asyncio.Protocol):
    """One ESME: binds, answers the bridge's enquire_link and unbind, pings when told."""

    __slots__ = ("bound", "buffer", "load", "pinging", "sequence_number", "transport")

    def __init__(self, load: Load) -> None:
        self.load = load
        self.buffer = bytearray()
        self.sequence_number = 1
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pinging = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.send(BIND_TRANSCEIVER, BIND_BODY)

    def send(self, command_id: int, body: bytes = b"") -> None:
        self.sequence_number += 1
        assert self.transport is not None
        self.transport.write(pdu(command_id, self.sequence_number, body))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= 16:
            length, command_id, status, sequence_number = HEADER.unpack_from(buffer)
            if len(buffer) < length:
                break
            del buffer[:length]
            if command_id == ENQUIRE_LINK_RESP:
                self.load.round_trips += 1
                if self.pinging:
                    self.send(ENQUIRE_LINK)
            elif command_id == BIND_TRANSCEIVER_RESP:
                if not self.bound.done():
                    self.bound.set_result(status)
            elif command_id == ENQUIRE_LINK:
                self.transport.write(pdu(ENQUIRE_LINK_RESP, sequence_number))  # type: ignore[union-attr]
            elif command_id == UNBIND:
                self.transport.write(pdu(UNBIND_RESP, sequence_number))  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        self.load.one_closed()
        if not self.bound.done():
            self.bound.set_result(-1)


class Load:
    def __init__(self) -> None:
        self.round_trips = 0
        self.closed = 0
        self.expected = 0
        self.all_closed = asyncio.Event()

    def one_closed(self) -> None:
        self.closed += 1
        if self.closed >= self.expected:
            self.all_closed.set()


async def run_load(port: int, sessions: int, seconds: float) -> None:
    """The load process: report on stdout as JSON lines, wait for commands on stdin."""
    loop = asyncio.get_running_loop()
    load = Load()
    load.expected = sessions
    opened: list[LoadSession] = []
    gate = asyncio.Semaphore(256)  # connects in flight, so the listen backlog never overflows

    async def open_one() -> None:
        async with gate:
            _t, session = await loop.create_connection(lambda: LoadSession(load), "127.0.0.1", port)
            opened.append(session)
            await session.bound

    started = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(sessions)))
    refused = sum(1 for s in opened if s.bound.result() != 0)
    emit(
        {
            "bound": len(opened) - refused,
            "refused": refused,
            "bind_s": time.perf_counter() - started,
        }
    )
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (line := (await reader.readline()).decode().strip()) not in ("", "quit"):
        if line == "ping":
            load.round_trips = 0
            for session in opened:
                session.pinging = True
                session.send(ENQUIRE_LINK)
            begun = time.perf_counter()
            await asyncio.sleep(seconds)
            for session in opened:
                session.pinging = False
            elapsed = time.perf_counter() - begun
            done = load.round_trips
            await asyncio.sleep(0.5)  # let the last outstanding pings come home
            emit({"round_trips": done, "seconds": elapsed})
        elif line == "wait_closed":
            await load.all_closed.wait()
            emit({"closed": load.closed})
    for session in opened:
        if session.transport is not None:
            session.transport.close()


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


# --- the baseline: a bare responder -------------------------------------------------------


class BareResponder(asyncio.Protocol):
    """Answers bind and enquire_link from fixed bytes: asyncio's own cost, nothing more."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = bytearray()
        while len(self.buffer) >= 16:
            length, command_id, _status, sequence_number = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < length:
                break
            del self.buffer[:length]
            if command_id == BIND_TRANSCEIVER:
                out += pdu(BIND_TRANSCEIVER_RESP, sequence_number, b"bare\x00")
            elif command_id == ENQUIRE_LINK:
                out += pdu(ENQUIRE_LINK_RESP, sequence_number)
        self.transport.write(out)


async def run_bare(port_file: Path) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BareResponder, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    await asyncio.to_thread(port_file.write_text, str(port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


# --- the conductor ------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_for(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_bridge(workdir: Path, sessions: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    config = workdir / "bench.toml"
    config.write_text(
        CONFIG.format(port=0, max_connections=sessions + 100, max_binds=sessions + 100)
    )
    log_path = workdir / "bridge.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    port_line = re.compile(rb"event=listening host=127\.0\.0\.1 port=(\d+)")

    def listening() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"bridge exited: {log_path.read_text()[-2000:]}")
        return port_line.search(log_path.read_bytes()) is not None

    wait_for(listening, 30, "the bridge to listen")
    match = port_line.search(log_path.read_bytes())
    assert match is not None
    return process, int(match.group(1)), log_path


def start_bare(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = workdir / "bare.port"
    process = subprocess.Popen([sys.executable, __file__, "--bare", str(port_file)], cwd=REPO)
    wait_for(port_file.exists, 30, "the bare responder")
    wait_for(lambda: port_file.read_text().strip() != "", 30, "the bare responder's port")
    return process, int(port_file.read_text())


class LoadProcess:
    def __init__(self, port: int, sessions: int, seconds: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--load", str(port), str(sessions), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO,
        )

    def read(self) -> dict[str, float]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the load process died")
        return dict(json.loads(line))

    def tell(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()

    def finish(self) -> None:
        self.tell("quit")
        self.process.wait(timeout=60)


def measure(sessions: int, seconds: float, workdir: Path) -> dict[str, float]:
    bridge, port, log_path = start_bridge(workdir, sessions)
    time.sleep(1.0)
    empty = rss_kib(bridge.pid)
    load = LoadProcess(port, sessions, seconds)
    bound = load.read()
    if bound["bound"] != sessions:
        raise SystemExit(f"only {bound} of {sessions} sessions bound")
    time.sleep(2.0)  # idle: let the allocator settle
    full = rss_kib(bridge.pid)
    load.tell("ping")
    pings = load.read()
    started = time.perf_counter()
    bridge.send_signal(signal.SIGTERM)
    load.tell("wait_closed")
    load.read()
    status = bridge.wait(timeout=120)
    stop_s = time.perf_counter() - started
    load.finish()
    log_text = log_path.read_text()
    return {
        "sessions": sessions,
        "bind_s": bound["bind_s"],
        "rss_empty_kib": empty,
        "rss_bound_kib": full,
        "kib_per_session": (full - empty) / sessions,
        "round_trips_per_s": pings["round_trips"] / pings["seconds"],
        "stop_s": stop_s,
        "exit_status": status,
        "errors_logged": log_text.count(" ERROR "),
    }


def measure_bare(sessions: int, seconds: float, workdir: Path) -> float:
    bare, port = start_bare(workdir)
    load = LoadProcess(port, sessions, seconds)
    load.read()
    load.tell("ping")
    pings = load.read()
    load.finish()
    bare.send_signal(signal.SIGTERM)
    bare.wait(timeout=30)
    return pings["round_trips"] / pings["seconds"]


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def event_loop_runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        raise_nofile()
        port, sessions, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        with event_loop_runner() as runner:
            runner.run(run_load(port, sessions, seconds))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        raise_nofile()
        with event_loop_runner() as runner:
            runner.run(run_bare(Path(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    limit = raise_nofile()
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, RLIMIT_NOFILE {limit}")
    for sessions in args.sessions:
        if sessions + 64 > limit:
            raise SystemExit(f"{sessions} sessions need RLIMIT_NOFILE above {sessions + 64}")
        with tempfile.TemporaryDirectory() as tmp:
            result = measure(sessions, args.seconds, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            bare_rate = measure_bare(sessions, args.seconds, Path(tmp))
        kib = result["kib_per_session"]
        verdict = "meets" if kib <= 32 else "MISSES"
        print(
            f"{sessions:>6} sessions: bound in {result['bind_s']:.2f} s; RSS "
            f"{result['rss_empty_kib'] / 1024:.1f} MiB empty -> "
            f"{result['rss_bound_kib'] / 1024:.1f} MiB bound = {kib:.1f} KiB per idle session "
            f"({verdict} the 32 KiB target)"
        )
        print(
            f"{'':>6}           enquire_link: {result['round_trips_per_s']:,.0f} round trips/s "
            f"(bare asyncio responder {bare_rate:,.0f}/s, ratio "
            f"{result['round_trips_per_s'] / bare_rate:.2f}); graceful stop of all sessions "
            f"{result['stop_s']:.2f} s, exit status {result['exit_status']:.0f}, "
            f"{result['errors_logged']:.0f} error lines"
        )


if __name__ == "__main__":
    main()
