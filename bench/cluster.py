"""Benchmark: the bridge on Redis beside SQLite, Redis round trips per submit, two instances.

Run: .venv/bin/python bench/cluster.py [--rounds 3] [--scale 1.0] [--log-level info]

Every party is its own process, sharing the machine's cores: the iSMS sandbox (answering at
once), redis-server (AOF every second, as docker-compose.yml runs it), HAProxy with
configs/haproxy.cfg (scenario 3), the bridges (`isms-bridge serve`, uvloop, the real
pipeline), and the load client (a lean asyncio ESME: pre-encoded submit_sm, header-only
parsing, answering every deliver_sm at once).
1. One bridge on [state] backend = "redis" against the same bridge on "sqlite" (the
   default): 4 binds x window 50, the same messages, the same log level; best of
   interleaved rounds. Target: redis >= 0.7x sqlite.
2. Redis round trips per short submit, without and with registered_delivery (a receipt is
   then queued, delivered and acknowledged): redis-server's read system calls (one per
   request batch a client sends; /proc/PID/io syscr) and its commands (INFO commandstats),
   each divided by the messages sent, after an idle baseline is taken off.
3. Two bridges behind HAProxy against one bridge behind HAProxy, both on Redis, 8 binds.
Figures only; nothing here asserts timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parties import (  # noqa: E402 (bench/ beside this script)
    PASSWORD,
    SANDBOX_PASSWORD,
    SANDBOX_USER,
    SYSTEM_ID,
    Esme,
    Load,
    cpu_s,
    free_port,
    wait_for_port,
)

TEXT = b"Your one-time code is 482913. It expires in 5 minutes."
REDIS_PASSWORD = "bench-redis"
HAPROXY_SOURCE = "127.0.0.3"


# --- the load client (its own process) ------------------------------------------------------


def submit_template(receipt: bool) -> bytes:
    from bridge.pdu import SubmitSm, encode

    return encode(
        SubmitSm(
            sequence_number=1,
            source_addr="MyBrand",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="60123456789",
            registered_delivery=1 if receipt else 0,
            short_message=TEXT,
        )
    )


async def run_load(
    port: int, sessions: int, window: int, messages: int, receipt: bool
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    shared = Load(remaining=0, template=submit_template(receipt))
    esmes = []
    for _ in range(sessions):
        _, esme = await loop.create_connection(lambda: Esme(shared, window), "127.0.0.1", port)
        assert await esme.bound == 0, "bind refused"
        esmes.append(esme)
    shared.remaining = shared.expected = messages
    wall = time.perf_counter()
    for esme in esmes:
        esme.start()
    await asyncio.gather(*(esme.done for esme in esmes))
    wall = time.perf_counter() - wall
    if receipt:  # wait (bounded) for the receipts owed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shared.all_receipts.wait(), 30)
    for esme in esmes:
        assert esme.transport is not None
        esme.transport.close()
    ordered = sorted(shared.latencies)
    return {
        "count": messages,
        "wall_s": wall,
        "errors": shared.errors,
        "receipts": shared.receipts,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def child_main(argv: list[str]) -> None:
    """`--load PORT SESSIONS WINDOW N RECEIPT(0|1)`: one JSON line out."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    port, sessions, window, count, receipt = (int(value) for value in argv[1:6])
    with runner:
        result = runner.run(run_load(port, sessions, window, count, bool(receipt)))
    print(json.dumps(result), flush=True)


# --- the conductor --------------------------------------------------------------------------


def read_calls(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscr:"):
            return int(line.split()[1])
    raise RuntimeError("no syscr in /proc/PID/io")


class Parts:
    """Every process of a run, stopped (by PID) at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[subprocess.Popen[bytes]] = []
        self.metrics_ports: dict[int, int] = {}  # SMPP port -> metrics port

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def sandbox(self) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = self.start(
            "sandbox",
            [sys.executable, "-m", "bridge", "sandbox", "--port", str(port),
             "--account", f"{SANDBOX_USER}:{SANDBOX_PASSWORD}", "--credits", "1000000000",
             "--history", "50"],
        )  # fmt: skip
        wait_for_port(port, process, "the sandbox")
        return process, f"http://127.0.0.1:{port}/isms_send_all_id.php"

    def redis(self) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not on PATH (Debian: redis-server)")
        process = self.start(
            "redis",
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--requirepass", REDIS_PASSWORD, "--appendonly", "yes", "--appendfsync",
             "everysec", "--save", ""],
        )  # fmt: skip
        wait_for_port(port, process, "redis-server")
        return process, port

    def bridge(
        self, name: str, endpoint: str, log_level: str, state: str, *, proxied: bool = False
    ) -> tuple[subprocess.Popen[bytes], int]:
        port, metrics = free_port(), free_port()
        self.metrics_ports[port] = metrics
        config = self.workdir / f"{name}.toml"
        proxy = (
            f'proxy_protocol = true\nproxy_trusted = ["{HAPROXY_SOURCE}/32"]\n' if proxied else ""
        )
        config.write_text(
            f'[smpp]\nhost = "127.0.0.1"\nport = {port}\nwindow = 200\n{proxy}\n'
            f'[isms]\nendpoints = ["{endpoint}"]\npool_size = 200\ntimeout_s = 10\n\n'
            f"[metrics]\nport = {metrics}\n\n{state}\n"
            f'[[accounts]]\nsystem_id = "{SYSTEM_ID}"\npassword = "{PASSWORD}"\n'
            f'isms_username = "{SANDBOX_USER}"\nisms_password = "{SANDBOX_PASSWORD}"\n'
            "max_binds = 100\n",
            encoding="utf-8",
        )
        process = self.start(
            name,
            [sys.executable, "-m", "bridge", "serve", "--config", str(config),
             "--log-level", log_level],
        )  # fmt: skip
        log = self.workdir / f"{name}.log"
        deadline = time.monotonic() + 30
        while f"port={port}" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        return process, port

    def haproxy(self, servers: list[int]) -> tuple[subprocess.Popen[bytes], int]:
        binary = shutil.which("haproxy")
        if binary is None:
            raise SystemExit("haproxy is not on PATH (Debian: haproxy)")
        port = free_port()
        text = (REPO / "configs" / "haproxy.cfg").read_text()
        text = text.replace("    bind :2775\n", f"    bind 127.0.0.1:{port}\n")
        text = text.replace("    maxconn 20000\n", "    maxconn 1000\n")
        # Health checks off: the bench starts the bridges itself and watches them.
        text = text.replace(" check port 9102 inter 2s fall 2 rise 2", "")
        lines = "".join(f"    server b{i} 127.0.0.1:{smpp}\n" for i, smpp in enumerate(servers))
        text = text.replace(
            "    server bridge-a bridge-a:2775\n    server bridge-b bridge-b:2775\n",
            f"    source {HAPROXY_SOURCE}\n{lines}",
        )
        config = self.workdir / f"haproxy-{port}.cfg"
        config.write_text(text)
        process = self.start(f"haproxy-{port}", [binary, "-db", "-f", str(config)])
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError("haproxy did not start")
        return process, port


def load(port: int, sessions: int, window: int, count: int, receipt: bool) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--load", str(port), str(sessions), str(window), str(count),
         str(int(receipt))],
        capture_output=True, cwd=REPO, check=True, timeout=900,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} of {result['count']} submits failed")
    return result


@dataclass
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    bridge_us: float  # CPU per message of the bridge process(es)
    others_us: dict[str, float] = field(default_factory=dict)  # the other parts, per message


def timed_round(
    port: int,
    pids: list[int],
    sessions: int,
    window: int,
    count: int,
    receipt: bool = False,
    others: dict[str, int] | None = None,
) -> Round:
    others = others or {}
    before = [cpu_s(pid) for pid in pids]
    others_before = {name: cpu_s(pid) for name, pid in others.items()}
    result = load(port, sessions, window, count, receipt)
    used = sum(cpu_s(pid) - b for pid, b in zip(pids, before, strict=True))
    spent = {name: (cpu_s(pid) - others_before[name]) / count * 1e6 for name, pid in others.items()}
    return Round(result["count"] / result["wall_s"], result["p50_ms"], result["p99_ms"],
                 used / count * 1e6, spent)  # fmt: skip


def best_of(rounds: int, kinds: dict[str, object]) -> dict[str, Round]:
    runs: dict[str, list[Round]] = {name: [] for name in kinds}
    for _ in range(rounds):
        for name, run in kinds.items():
            runs[name].append(run())  # type: ignore[operator]
    return {name: max(found, key=lambda r: r.rate) for name, found in runs.items()}


def show(label: str, best: dict[str, Round]) -> None:
    print(f"\n{label}")
    print(f"  {'':<34}{'msg/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'bridge CPU µs/msg':>19}")
    for name, found in best.items():
        print(f"  {name:<34}{found.rate:>8.0f}{found.p50_ms:>8.2f}{found.p99_ms:>8.2f}"
              f"{found.bridge_us:>19.0f}")  # fmt: skip


def redis_info(port: int, section: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        words = [["AUTH", REDIS_PASSWORD], ["INFO", section]]
        sock.sendall(b"".join(
            f"*{len(w)}\r\n".encode() + b"".join(f"${len(x)}\r\n{x}\r\n".encode() for x in w)
            for w in words
        ))  # fmt: skip
        reply = b""
        while True:
            reply += sock.recv(65536)
            _, _, rest = reply.partition(b"+OK\r\n")
            if rest.startswith(b"$"):
                size, _, body = rest[1:].partition(b"\r\n")
                if len(body) >= int(size):
                    return body[: int(size)].decode()


def commands(port: int) -> int:
    """Commands redis-server has run (INFO commandstats), its own INFO and AUTH left out."""
    total = 0
    for name, calls in re.findall(r"cmdstat_(\w+):calls=(\d+)", redis_info(port, "commandstats")):
        if name not in ("info", "auth"):
            total += int(calls)
    return total


def commits(metrics_port: int) -> float:
    """Round trips the bridge's Redis backend made: one pipeline per commit (its histogram's
    count); SCRIPT LOADs after a Redis restart would add a few, none happen here."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    found = re.search(r"^isms_bridge_state_commit_seconds_count (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def round_trips(
    redis_pid: int,
    redis_port: int,
    bridge_port: int,
    metrics_port: int,
    count: int,
    receipt: bool,
) -> tuple[float, float, float, dict[str, int]]:
    """(bridge round trips, redis read calls, commands, all per message; commands by name)
    over one load of `count` messages, one at a time."""
    idle_reads, idle_trips = read_calls(redis_pid), commits(metrics_port)
    time.sleep(2.0)
    # What the idle bridge does by itself every second: its sweep, the heartbeat.
    idle_rate = (read_calls(redis_pid) - idle_reads) / 2.0
    idle_trip_rate = (commits(metrics_port) - idle_trips) / 2.0
    reads, calls, started = read_calls(redis_pid), commands(redis_port), time.monotonic()
    sent = commits(metrics_port)
    before = dict(re.findall(r"cmdstat_(\w+):calls=(\d+)", redis_info(redis_port, "commandstats")))
    load(bridge_port, 1, 1, count, receipt)
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # the last receipt's acknowledgement
    elapsed += 0.5
    after = dict(re.findall(r"cmdstat_(\w+):calls=(\d+)", redis_info(redis_port, "commandstats")))
    by_name = {
        name: int(after[name]) - int(before.get(name, 0))
        for name in after
        if name not in ("info", "auth") and int(after[name]) != int(before.get(name, 0))
    }
    read_delta = read_calls(redis_pid) - reads - idle_rate * elapsed
    # The idle background (heartbeat, sweeps) ran meanwhile too: take its share off.
    idle_commits = idle_trip_rate * elapsed
    trips = commits(metrics_port) - sent - idle_commits
    return trips / count, read_delta / count, (commands(redis_port) - calls) / count, by_name


def conduct(args: argparse.Namespace) -> None:
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, bridge log level "
          f"{args.log_level}, best of {args.rounds} interleaved rounds")  # fmt: skip
    n = max(1000, int(6000 * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        parts = Parts(workdir)
        try:
            _, endpoint = parts.sandbox()
            redis, redis_port = parts.redis()
            redis_state = (
                f'[state]\nbackend = "redis"\nredis_url = "redis://127.0.0.1:{redis_port}/0"\n'
                f'redis_password = "{REDIS_PASSWORD}"\n'
            )
            sqlite_state = f'[state]\nbackend = "sqlite"\npath = "{workdir}/bench.sqlite3"\n'
            on_sqlite, sqlite_port = parts.bridge("sqlite", endpoint, args.log_level, sqlite_state)
            on_redis, redis_bridge = parts.bridge("redis", endpoint, args.log_level, redis_state)
            for port in (sqlite_port, redis_bridge):
                load(port, 4, 50, 1000, False)  # warm up
            redis_metrics = parts.metrics_ports[redis_bridge]
            trips_before = commits(redis_metrics)
            one = best_of(
                args.rounds,
                {
                    "sqlite (the default)": lambda: timed_round(
                        sqlite_port, [on_sqlite.pid], 4, 50, n
                    ),
                    "redis": lambda: timed_round(redis_bridge, [on_redis.pid], 4, 50, n),
                },
            )
            loaded_trips = (commits(redis_metrics) - trips_before) / (args.rounds * n)
            show("1. one bridge, 4 binds x window 50, instant sandbox", one)
            print(f"  redis round trips per message under this load: {loaded_trips:.2f} "
                  "(what one event-loop turn asks goes in one pipeline)")  # fmt: skip
            ratio = one["redis"].rate / one["sqlite (the default)"].rate
            print(f"  redis / sqlite: {ratio:.2f}x (target >= 0.7x): "
                  f"{'MET' if ratio >= 0.7 else 'NOT MET'}")  # fmt: skip

            print("\n2. Redis round trips per short submit (one bind, window 1, 300 messages;"
                  " the idle background subtracted)")  # fmt: skip
            for receipt in (False, True):
                trips, reads, calls, by_name = round_trips(
                    redis.pid, redis_port, redis_bridge, parts.metrics_ports[redis_bridge], 300,
                    receipt,
                )  # fmt: skip
                what = "with a receipt asked" if receipt else "no receipt asked"
                named = ", ".join(f"{k} {v / 300:.2f}" for k, v in sorted(by_name.items()))
                print(f"  {what:<22} {trips:5.2f} round trips (bridge), {reads:5.2f} request"
                      f" reads (redis-server), {calls:5.2f} commands: {named}")  # fmt: skip
            on_redis.terminate()
            on_redis.wait(15)
            on_sqlite.terminate()
            on_sqlite.wait(15)

            first, first_port = parts.bridge("a", endpoint, args.log_level, redis_state,
                                             proxied=True)  # fmt: skip
            second, second_port = parts.bridge("b", endpoint, args.log_level, redis_state,
                                               proxied=True)  # fmt: skip
            lone, alone = parts.haproxy([first_port])
            pair_proxy, both = parts.haproxy([first_port, second_port])
            load(both, 8, 50, 1000, False)
            pair = best_of(
                args.rounds,
                {
                    "1 bridge behind HAProxy": lambda: timed_round(
                        alone, [first.pid], 8, 50, n,
                        others={"redis-server": redis.pid, "haproxy": lone.pid},
                    ),
                    "2 bridges behind HAProxy": lambda: timed_round(
                        both, [first.pid, second.pid], 8, 50, n,
                        others={"redis-server": redis.pid, "haproxy": pair_proxy.pid},
                    ),
                },
            )  # fmt: skip
            show("3. redis, 8 binds x window 50 through HAProxy", pair)
            scale = pair["2 bridges behind HAProxy"].rate / pair["1 bridge behind HAProxy"].rate
            for name, found in pair.items():
                spent = ", ".join(f"{k} {v:.0f}" for k, v in found.others_us.items())
                print(f"  {name}: CPU µs per message besides the bridges: {spent}")
            busy = sum(cpu_s(p.pid) for p in parts.started if p.poll() is None)
            print(f"  2 / 1 bridges: {scale:.2f}x on {os.cpu_count()} CPUs "
                  f"(every process of the run together used {busy:.0f} CPU s)")  # fmt: skip
        finally:
            parts.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        child_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply message counts")
    parser.add_argument("--log-level", default="info", choices=("info", "warning"),
                        help="the bridges' (the default is info)")  # fmt: skip
    conduct(parser.parse_args())


if __name__ == "__main__":
    main()
