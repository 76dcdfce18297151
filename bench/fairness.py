"""Benchmark: one flooding ESME, or a total iSMS outage, must not degrade everyone.

Run: .venv/bin/python bench/fairness.py [--seconds 10] [--outage-seconds 40]
                                        [--fault-seconds 20] [--only flood|outage|faults ...]

Every party is its own process: the iSMS sandbox (`isms-bridge sandbox`), the bridge (this
file with `--serve`: exactly `isms-bridge serve` at its defaults, log level INFO, uvloop,
plus one JSON line at exit with the largest event-loop lag it sampled), the flooder (this
file with `--flood`), and the second client here: a plain asyncio ESME on its own account
submitting one message at a time, 20 a second, each waited for.

1. The second client's p50 / p99 / max submit_sm -> submit_sm_resp latency without a flood,
   then beside a flooder that never reads its answers, then beside one that reads them but
   ignores the window (each a fresh bridge), with the bridge's worst loop lag in each. Once
   against a sandbox answering at once (it then shares the 2 cores with the flood's 100
   requests in flight), once against one answering in 300 ms, as iSMS does.
2. A total outage: two live mirrors answer HTTP 503, a third is a closed port. Ten submits
   in flight at a time; HTTP requests per submit once the breakers are open (target <= 0.1),
   beside the same with `mirror_cooldown_s = 0`: a cool-down that ends at once, so each
   mirror is probed by one message at a time and the others skip it.
3. Faults beside normal traffic: two mirrors answering at once; the second client
   paces 25 normal submits a second and, beside them, one a second to a sandbox fault
   number, HTTP 500 and an HTML page (HTTP 200) in turn. The share of normal submits
   answered ESME_ROK (target >= 99 %), the faulty ones' statuses, HTTP requests per submit
   and the breaker openings the bridge logged; at the defaults, then with
   `breaker_failures = 1` (one failure opens a breaker, as the bridge once did).
Figures only; nothing here asserts timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parties import (  # noqa: E402 (bench/ beside this script)
    SANDBOX_PASSWORD,
    SANDBOX_USER,
    free_port,
    start_sandbox,
)

HEADER = struct.Struct(">IIII")
SUBMIT_SM_RESP = 0x80000004
BLOCK = 2000  # PDUs per flooder write


NORMAL_NUMBER = "60123456789"
# Sandbox fault numbers (bridge/upstream/sandbox/faults.py): HTTP 500 with an HTML error page,
# and an HTML page with HTTP 200. Either is an unknown outcome for the message it carries.
FAULT_NUMBERS = ("60000000500", "60000002003")


def pdu_templates(
    system_id: str, password: str, destination: str = NORMAL_NUMBER
) -> tuple[bytes, bytes]:
    from bridge.pdu import BindTransmitter, SubmitSm, encode

    bind = encode(BindTransmitter(system_id=system_id, password=password, sequence_number=1))
    submit = encode(
        SubmitSm(
            sequence_number=2,
            source_addr="MyBrand",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
            short_message=b"Your one-time code is 482913.",
        )
    )
    return bind, submit


# --- the bridge (its own process) -------------------------------------------------------------


def serve_child(config_path: str) -> None:
    """`isms-bridge serve` at its defaults; at exit, one JSON line with the worst loop lag."""
    from bridge.app import Bridge
    from bridge.app.commands.serve import run_event_loop, serve, tune_garbage_collector
    from bridge.app.logs import configure_logging
    from bridge.app.metrics import Metrics
    from bridge.config import load_config
    from bridge.state import MemoryState

    configure_logging("info")
    config = load_config(Path(config_path))
    started: list[Bridge] = []

    def on_started(bridge: Bridge) -> None:
        tune_garbage_collector()
        started.append(bridge)

    async def main() -> int:
        bridge = Bridge(config, MemoryState(), metrics=Metrics(config))
        return await serve(bridge, on_started)

    run_event_loop(main)
    print(json.dumps({"worst_loop_lag_s": started[0].smpp.server.worst_loop_lag_s}), flush=True)


def sandbox_send_requests(*endpoints: str) -> int:
    total = 0
    for endpoint in endpoints:
        base = endpoint.rsplit("/", 1)[0]
        with urllib.request.urlopen(f"{base}/messages.json", timeout=10) as reply:
            total += int(json.loads(reply.read())["send_requests"])
    return total


class BridgeProcess:
    def __init__(
        self,
        workdir: Path,
        endpoints: list[str],
        cooldown_s: float = 30.0,
        breaker_failures: int | None = None,  # None: the default
    ) -> None:
        self.port = free_port()
        config = workdir / f"bridge-{self.port}.toml"
        accounts = "".join(
            f'[[accounts]]\nsystem_id = "{system_id}"\npassword = "{password}"\n'
            f'isms_username = "{SANDBOX_USER}"\nisms_password = "{SANDBOX_PASSWORD}"\n\n'
            for system_id, password in (("flood", "flood1"), ("second", "second1"))
        )
        config.write_text(
            f'[smpp]\nhost = "127.0.0.1"\nport = {self.port}\n\n'
            f"[isms]\nendpoints = {json.dumps(endpoints)}\nmirror_cooldown_s = {cooldown_s}\n"
            + ("" if breaker_failures is None else f"breaker_failures = {breaker_failures}\n")
            + "\n"
            f"[metrics]\nport = 0\n\n{accounts}",
            encoding="utf-8",
        )
        self.log_path = workdir / f"bridge-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(config)],
            stdout=subprocess.PIPE, stderr=self._log, cwd=REPO,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bridge did not start: see {self.log_path}") from None
                time.sleep(0.05)

    def stop(self) -> float:
        """SIGTERM (graceful stop); the worst loop lag it sampled."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=60)
        self._log.close()
        return float(json.loads(out.decode().strip().splitlines()[-1])["worst_loop_lag_s"])


# --- the flooder (its own process) ------------------------------------------------------------


def flood_child(port: int, mode: str, seconds: float) -> None:
    bind, template = pdu_templates("flood", "flood1")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(bind)
    length, _command_id, status, _sequence = HEADER.unpack(sock.recv(16, socket.MSG_WAITALL))
    sock.recv(length - 16, socket.MSG_WAITALL)
    if status != 0:
        raise SystemExit(f"flood bind refused: 0x{status:08x}")
    answers = [0]
    if mode == "ignores_window":

        def drain() -> None:
            try:
                while chunk := sock.recv(1 << 16):
                    answers[0] += len(chunk)
            except OSError:
                return

        threading.Thread(target=drain, daemon=True).start()
    print("bound", flush=True)
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    sent, sequence = 0, 2
    while time.monotonic() < deadline:
        block = b"".join(
            template[:12] + struct.pack(">I", n) + template[16:]
            for n in range(sequence, sequence + BLOCK)
        )
        sequence += BLOCK
        view = memoryview(block)
        while view and time.monotonic() < deadline:
            try:
                done = sock.send(view)
            except TimeoutError:
                continue
            sent += done
            view = view[done:]
    print(json.dumps({"sent_pdus": sent // len(template), "answer_octets": answers[0]}), flush=True)
    sock.close()


# --- the second client (here) -----------------------------------------------------------------


class Client(asyncio.Protocol):
    """One transmitter bind; `submit()` sends one submit_sm and waits for its response."""

    def __init__(self, bind: bytes, template: bytes) -> None:
        self.template = template
        self.buffer = bytearray()
        self.sequence = 1
        self.waiting: dict[int, asyncio.Future[int]] = {}
        self.transport: asyncio.Transport | None = None
        self._bind = bind

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.waiting[1] = asyncio.get_running_loop().create_future()
        transport.write(self._bind)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= 16:
            length, _command_id, status, sequence = HEADER.unpack_from(buffer)
            if len(buffer) < length:
                return
            del buffer[:length]
            waiter = self.waiting.pop(sequence, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(status)

    async def submit(self, template: bytes | None = None) -> int:
        self.sequence += 1
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[self.sequence] = waiter
        assert self.transport is not None
        template = template or self.template
        self.transport.write(template[:12] + struct.pack(">I", self.sequence) + template[16:])
        return await waiter


async def connect_client(port: int) -> Client:
    bind, template = pdu_templates("second", "second1")
    loop = asyncio.get_running_loop()
    _transport, client = await loop.create_connection(
        lambda: Client(bind, template), "127.0.0.1", port
    )
    status = await asyncio.wait_for(client.waiting[1], 10)
    assert status == 0, f"bind refused: 0x{status:08x}"
    return client


async def paced_latencies(port: int, seconds: float, rate: float = 20.0) -> list[float]:
    client = await connect_client(port)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        await asyncio.wait_for(client.submit(), 30)
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    assert client.transport is not None
    client.transport.close()
    return latencies


async def outage_load(port: int, seconds: float, in_flight: int = 10) -> tuple[int, int]:
    """Keep `in_flight` submits going for `seconds` (at least one each); (submits answered,
    of them ESME_RSYSERR)."""
    client = await connect_client(port)
    answered, rsyserr = 0, 0
    deadline = time.monotonic() + seconds

    async def one_lane() -> None:
        nonlocal answered, rsyserr
        while True:  # at least one submit per lane
            status = await asyncio.wait_for(client.submit(), 30)
            answered += 1
            rsyserr += status == 0x08
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.01)  # an ESME resending at once, 100/s per lane at most

    await asyncio.gather(*(one_lane() for _ in range(in_flight)))
    assert client.transport is not None
    client.transport.close()
    return answered, rsyserr


async def faults_beside_traffic(
    port: int, seconds: float, rate: float = 25.0
) -> tuple[list[int], list[int]]:
    """`rate` normal submits a second and one faulty one, paced, none waited for before the
    next is due; (statuses of the normal ones, statuses of the faulty ones)."""
    client = await connect_client(port)
    faulty = [pdu_templates("second", "second1", number)[1] for number in FAULT_NUMBERS]
    every = round(rate) + 1  # one submit in `every` is faulty: one a second
    period = 1 / every
    pending: list[tuple[bool, asyncio.Task[int]]] = []
    started = time.monotonic()
    sent = 0
    while time.monotonic() < started + seconds:
        is_fault = sent % every == every // 2
        template = faulty[sent // every % 2] if is_fault else None
        pending.append((is_fault, asyncio.create_task(client.submit(template))))
        sent += 1
        await asyncio.sleep(max(0.0, started + sent * period - time.monotonic()))
    normal_statuses: list[int] = []
    fault_statuses: list[int] = []
    for is_fault, task in pending:
        status = await asyncio.wait_for(task, 30)
        (fault_statuses if is_fault else normal_statuses).append(status)
    assert client.transport is not None
    client.transport.close()
    return normal_statuses, fault_statuses


# --- the scenarios ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def flood_scenario(workdir: Path, endpoint: str, mode: str | None, seconds: float) -> None:
    bridge = BridgeProcess(workdir, [endpoint])
    flooder = None
    try:
        if mode is not None:
            flooder = subprocess.Popen(
                [sys.executable, __file__, "--flood", str(bridge.port), mode, str(seconds + 2)],
                stdout=subprocess.PIPE, cwd=REPO,
            )  # fmt: skip
            assert flooder.stdout is not None
            assert flooder.stdout.readline().strip() == b"bound"
        latencies = asyncio.run(paced_latencies(bridge.port, seconds))
        flood = ""
        if flooder is not None:
            out, _ = flooder.communicate(timeout=60)
            counts = json.loads(out.decode().strip().splitlines()[-1])
            flood = f"  flood: {counts['sent_pdus']:,} submit_sm written"
            if mode == "ignores_window":
                flood += f", {counts['answer_octets'] // 17:,} answers read (about)"
    finally:
        if flooder is not None and flooder.poll() is None:
            flooder.kill()
        worst_lag = bridge.stop()
    p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
    print(
        f"  {mode or 'no flood':>14}: {len(latencies):4d} submits  p50 {p50:7.1f} ms"
        f"  p99 {p99:7.1f} ms  max {max(latencies) * 1e3:7.1f} ms"
        f"  worst loop lag {worst_lag * 1e3:6.1f} ms{flood}",
        flush=True,
    )


def outage_scenario(workdir: Path, seconds: float, cooldown_s: float) -> None:
    sandboxes = [start_sandbox("--http-status", "503") for _ in range(2)]
    live = [endpoint for _process, endpoint in sandboxes]
    dead = f"http://127.0.0.1:{free_port()}/isms_send_all_id.php"
    bridge = BridgeProcess(workdir, [*live, dead], cooldown_s=cooldown_s)
    try:
        # The first ten in flight open the breakers (each may try every mirror).
        first, _ = asyncio.run(outage_load(bridge.port, 0.0))
        opened = sandbox_send_requests(*live)
        answered, rsyserr = asyncio.run(outage_load(bridge.port, seconds))
        after = sandbox_send_requests(*live) - opened
    finally:
        bridge.stop()
        for process, _endpoint in sandboxes:
            process.terminate()
            process.wait(10)
    print(
        f"  mirror_cooldown_s = {cooldown_s:g}: first {first} submits: {opened} HTTP requests;"
        f" then {answered:,} submits in {seconds:g} s ({rsyserr:,} ESME_RSYSERR):"
        f" {after:,} HTTP requests = {after / max(answered, 1):.3f} per submit",
        flush=True,
    )


def faults_scenario(workdir: Path, seconds: float, breaker_failures: int | None) -> None:
    sandboxes = [start_sandbox() for _ in range(2)]
    endpoints = [endpoint for _process, endpoint in sandboxes]
    bridge = BridgeProcess(workdir, endpoints, breaker_failures=breaker_failures)
    try:
        normal, faulty = asyncio.run(faults_beside_traffic(bridge.port, seconds))
        requests = sandbox_send_requests(*endpoints)
    finally:
        bridge.stop()
        for process, _endpoint in sandboxes:
            process.terminate()
            process.wait(10)
    log = bridge.log_path.read_text(encoding="utf-8", errors="replace")
    openings = log.count("isms breaker opened")
    ok = normal.count(0)
    fault_counts = ", ".join(
        f"{count} x 0x{status:02x}" for status, count in sorted(Counter(faulty).items())
    )
    rule = "default" if breaker_failures is None else f"breaker_failures = {breaker_failures}"
    print(
        f"  {rule}: {len(normal):,} normal submits, {ok:,} ESME_ROK"
        f" ({100 * ok / max(len(normal), 1):.1f} %), {len(normal) - ok:,} not;"
        f" {len(faulty)} faulty: {fault_counts};"
        f" {requests:,} HTTP requests = {requests / max(len(normal) + len(faulty), 1):.2f}"
        f" per submit; breaker openings logged: {openings}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per flood scenario")
    parser.add_argument("--outage-seconds", type=float, default=40.0)
    parser.add_argument("--fault-seconds", type=float, default=20.0, help="per fault run")
    parser.add_argument(
        "--only", nargs="+", choices=("flood", "outage", "faults"), help="run these parts only"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--flood", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve)
        return
    if args.flood:
        port, mode, seconds = args.flood
        flood_child(int(port), mode, float(seconds))
        return
    print(
        f"bench/fairness.py  Python {platform.python_version()}  {platform.machine()}"
        f"  bridge at its defaults (INFO logs, window 100, read budget 8 PDUs / 16 KiB)",
        flush=True,
    )
    parts = set(args.only or ("flood", "outage", "faults"))
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        workdir = Path(tmp)
        if "flood" in parts:
            print("1. the second client's submit latency (20/s, one at a time):", flush=True)
            for latency_ms in (0, 300):
                print(f" sandbox answering in {latency_ms} ms:", flush=True)
                sandbox, endpoint = start_sandbox("--latency-ms", str(latency_ms))
                try:
                    for mode in (None, "never_reads", "ignores_window"):
                        flood_scenario(workdir, endpoint, mode, args.seconds)
                finally:
                    sandbox.terminate()
                    sandbox.wait(10)
        if "outage" in parts:
            print("2. total outage (two mirrors answering 503, a closed port as the third):")
            outage_scenario(workdir, args.outage_seconds, cooldown_s=30.0)
            outage_scenario(workdir, min(args.outage_seconds, 10.0), cooldown_s=0.0)
        if "faults" in parts:
            print(
                "3. faults beside normal traffic (two mirrors; 25 normal submits/s and one/s"
                " answered HTTP 500 or an HTML page, in turn):",
                flush=True,
            )
            faults_scenario(workdir, args.fault_seconds, breaker_failures=None)
            faults_scenario(workdir, args.fault_seconds, breaker_failures=1)


if __name__ == "__main__":
    main()
