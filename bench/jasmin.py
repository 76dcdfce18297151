"""Benchmark: the bridge beside Jasmin (jookies/jasmin), the same SMPP load through each.

Run: .venv/bin/python bench/jasmin.py --jasmin /path/to/venv/bin/python [--messages 20000]

Needs, besides the bridge's venv: Jasmin in a Python environment of its own (`python3 -m
venv /tmp/jvenv && /tmp/jvenv/bin/pip install jasmin`: 0.11.1 was measured), and Debian's
`rabbitmq-server` and `redis-server` (Jasmin queues every message through AMQP and keeps
its DLR map in Redis). Nothing is installed here: a missing part is named, and the run
stops.

Jasmin sends on over SMPP only (its MT routes lead to SMPP client connectors; its HTTP
client connectors carry MO messages), so it cannot post to iSMS. Each side gets the same
load client (bench/e2e.py's: `--sessions` binds x window `--window`, pre-encoded submit_sm,
every text different) and hands each message on to the cheapest upstream it can have:
- Jasmin: its SMPP server (a user in a group, a default MT route to one SMPP client
  connector, `submit_throughput 0`: no rate limit) to an SMSC sink here that answers each
  submit_sm at once (a bare asyncio protocol, header-only parsing);
- the bridge at its defaults (`isms-bridge serve`, SQLite, info) to the instant iSMS sandbox.
Every party is its own process, on loopback. Rounds alternate which side goes first; per
side the messages per second by the clock, and the CPU per message of the gateway's own
processes (Jasmin: jasmind, RabbitMQ and Redis; the bridge: its process), from /proc. The
figure is the median of the rounds' ratios (the bridge's rate over Jasmin's). Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import e2e  # noqa: E402 (bench/ beside this script)
from parties import (  # noqa: E402
    PASSWORD,
    SYSTEM_ID,
    cpu_s,
    free_port,
    start_sandbox,
    wait_for_port,
)

SINK = "--sink"
JCLI_USER, JCLI_PASSWORD = "jcliadmin", "jclipwd"  # Jasmin's defaults
START_S = 60.0


# --- the SMSC sink Jasmin sends on to (its own process) ---------------------------------------


RECEIVED = [0]  # submit_sm the sink answered, over every connection


class Smsc(asyncio.Protocol):
    """Answers binds, submit_sm (a new message_id each), enquire_link and unbind."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        out = bytearray()
        while len(buffer) >= 16:
            length, command_id, _status, sequence = struct.unpack_from(">IIII", buffer)
            if len(buffer) < length:
                break
            del buffer[:length]
            if command_id == 0x00000004:  # submit_sm
                RECEIVED[0] += 1
                body = f"{RECEIVED[0]:x}".encode() + b"\0"
                out += struct.pack(">IIII", 16 + len(body), 0x80000004, 0, sequence) + body
            elif command_id in (0x00000001, 0x00000002, 0x00000009):  # bind_*: system_id
                body = b"sink\0"
                resp = command_id | 0x80000000
                out += struct.pack(">IIII", 16 + len(body), resp, 0, sequence) + body
            elif command_id in (0x00000015, 0x00000006):  # enquire_link, unbind
                out += struct.pack(">IIII", 16, command_id | 0x80000000, 0, sequence)
        if out and self.transport is not None:
            self.transport.write(bytes(out))


def sink_main(port: int, control: int) -> None:
    """The SMSC on `port`; a connection to `control` is told how many submit_sm came."""

    async def tell(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(str(RECEIVED[0]).encode())
        await writer.drain()
        writer.close()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Smsc, "127.0.0.1", port)
        await asyncio.start_server(tell, "127.0.0.1", control)
        await server.serve_forever()

    asyncio.run(serve())


def received(control: int) -> int:
    with socket.create_connection(("127.0.0.1", control), timeout=5) as asked:
        return int(asked.makefile("rb").read() or b"0")


# --- Jasmin and what it needs ------------------------------------------------------------------


def needed(jasmin_python: str) -> list[str]:
    missing = [name for name in ("rabbitmq-server", "redis-server") if shutil.which(name) is None]
    jasmind = Path(jasmin_python).parent / "jasmind.py"
    if not jasmind.exists():
        missing.append(f"jasmind.py beside {jasmin_python} (pip install jasmin)")
    return missing


class Jasmin:
    """RabbitMQ, Redis, the sink and jasmind, each on a free loopback port, configured
    through jCli; stopped together."""

    def __init__(self, home: Path, jasmin_python: str) -> None:
        self.home = home
        self.processes: list[subprocess.Popen[bytes]] = []
        self.amqp, self.redis, self.sink = free_port(), free_port(), free_port()
        self.sink_control = free_port()
        self.smpp, self.jcli = free_port(), free_port()
        try:
            self._rabbitmq()
            self.redis_process = self._start(
                ["redis-server", "--port", str(self.redis), "--bind", "127.0.0.1", "--save",
                 "", "--appendonly", "no"], "redis", self.redis,
            )  # fmt: skip
            self._start(
                [sys.executable, __file__, SINK, str(self.sink), str(self.sink_control)],
                "sink", self.sink,
            )  # fmt: skip
            # jasmind takes a lock of its own at /tmp/jasmind: one Jasmin per machine.
            self.jasmind = self._jasmind(jasmin_python)
            self._configure()
        except BaseException:
            self.stop()
            raise

    def _start(
        self, command: list[str], name: str, port: int, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.home / f"{name}.log"
        process = subprocess.Popen(
            command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=self.home
        )
        self.processes.append(process)
        wait_for_port(port, process, name, log=log, timeout_s=START_S)
        return process

    def _rabbitmq(self) -> None:
        base = self.home / "rabbitmq"
        for folder in ("mnesia", "log"):
            (base / folder).mkdir(parents=True)
        if os.getuid() == 0:  # Debian's script runs the broker as the rabbitmq user
            self.home.chmod(0o755)  # a temporary folder is the owner's alone
            account = pwd.getpwnam("rabbitmq")
            for path in (base, base / "mnesia", base / "log"):
                os.chown(path, account.pw_uid, account.pw_gid)
        env = {
            **os.environ,
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_NODENAME": f"bench{self.amqp}@localhost",
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
        }
        self.rabbitmq = self._start(["rabbitmq-server"], "rabbitmq", self.amqp, env)

    def _jasmind(self, jasmin_python: str) -> subprocess.Popen[bytes]:
        root = self.home / "jasmin"
        for folder in ("etc/jasmin/store", "var/log/jasmin", "etc/jasmin/resource"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        config = root / "etc/jasmin/jasmin.cfg"
        config.write_text("", encoding="utf-8")
        # The AMQP 0-9-1 spec Jasmin's packages install beside its config; txamqp has it.
        found = subprocess.run(
            [jasmin_python, "-c", "import os, txamqp; print(os.path.dirname(txamqp.__file__))"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        spec = Path(found.stdout.strip()) / "specs/standard/amqp0-9-1.stripped.xml"
        shutil.copy(spec, root / "etc/jasmin/resource/amqp0-9-1.xml")
        # Jasmin reads <SECTION>_<OPTION> from the environment before its config file.
        ports = {
            "AMQP_BROKER_HOST": "127.0.0.1", "AMQP_BROKER_PORT": str(self.amqp),
            "REDIS_CLIENT_HOST": "127.0.0.1", "REDIS_CLIENT_PORT": str(self.redis),
            "SMPP_SERVER_BIND": "127.0.0.1", "SMPP_SERVER_PORT": str(self.smpp),
            "SMPP_SERVER_PB_BIND": "127.0.0.1", "SMPP_SERVER_PB_PORT": str(free_port()),
            "ROUTER_BIND": "127.0.0.1", "ROUTER_PORT": str(free_port()),
            "CLIENT_MANAGEMENT_BIND": "127.0.0.1", "CLIENT_MANAGEMENT_PORT": str(free_port()),
            "HTTP_API_BIND": "127.0.0.1", "HTTP_API_PORT": str(free_port()),
            "JCLI_BIND": "127.0.0.1", "JCLI_PORT": str(self.jcli),
            "SMPP_SERVER_LOG_LEVEL": "WARNING", "ROUTER_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        env = {**os.environ, "ROOT_PATH": str(root), **ports}
        jasmind = str(Path(jasmin_python).parent / "jasmind.py")
        return self._start(
            [jasmin_python, jasmind, "--config", str(config), "--disable-http-api"],
            "jasmind", self.jcli, env,
        )  # fmt: skip

    def _configure(self) -> None:
        """A group, the load's user, a connector to the sink (no rate limit), started, and a
        default MT route to it, through jCli (telnet)."""
        with socket.create_connection(("127.0.0.1", self.jcli), timeout=30) as console:
            said = _Console(console)
            said.expect(b"Authentication required.")
            said.send("", b"Username: ")  # jCli asks once a line comes in
            said.send(JCLI_USER, b"Password: ")
            said.send(JCLI_PASSWORD, b"jcli : ")
            for command, prompt in (
                ("smppccm -a", b"> "), ("cid sink", b"> "), ("host 127.0.0.1", b"> "),
                (f"port {self.sink}", b"> "), ("username sink", b"> "),
                ("password sink", b"> "), ("submit_throughput 0", b"> "),
                ("ok", b"jcli : "), ("smppccm -1 sink", b"jcli : "),
                ("group -a", b"> "), ("gid bench", b"> "), ("ok", b"jcli : "),
                ("user -a", b"> "), (f"username {SYSTEM_ID}", b"> "),
                (f"password {PASSWORD}", b"> "), ("uid bench", b"> "), ("gid bench", b"> "),
                ("ok", b"jcli : "),
                ("mtrouter -a", b"> "), ("type defaultroute", b"> "),
                ("connector smppc(sink)", b"> "), ("rate 0.00", b"> "), ("ok", b"jcli : "),
            ):  # fmt: skip
                said.send(command, prompt)
            said.send("quit", b"")
        time.sleep(2.0)  # the connector binds to the sink

    def handed_on(self) -> int:
        """submit_sm the sink has had from Jasmin so far."""
        return received(self.sink_control)

    def gateway_cpu_s(self) -> float:
        return sum(cpu_s(p.pid) for p in (self.jasmind, self.redis_process, *_tree(self.rabbitmq)))

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        # The broker runs below Debian's script, as its own user: asked to stop by name.
        subprocess.run(
            ["rabbitmqctl", "-n", f"bench{self.amqp}@localhost", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class _Console:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.seen = b""

    def expect(self, prompt: bytes) -> None:
        while prompt not in self.seen:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError(f"jCli closed; it said: {self.seen[-500:]!r}")
            self.seen += chunk
        if b"Incorrect" in self.seen or b"Unknown" in self.seen:
            raise RuntimeError(f"jCli refused: {self.seen[-500:]!r}")
        self.seen = self.seen[self.seen.index(prompt) + len(prompt) :]

    def send(self, line: str, prompt: bytes) -> None:
        self.sock.sendall(line.encode() + b"\r\n")
        if prompt:
            self.expect(prompt)


def _tree(process: subprocess.Popen[bytes]) -> list[subprocess.Popen[bytes] | _Pid]:
    """The process and its children (RabbitMQ's script runs the Erlang VM below it)."""
    found: list[subprocess.Popen[bytes] | _Pid] = [process]
    pending = [process.pid]
    while pending:
        parent = pending.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.exists():
            for pid in children.read_text().split():
                found.append(_Pid(int(pid)))
                pending.append(int(pid))
    return found


class _Pid:
    def __init__(self, pid: int) -> None:
        self.pid = pid


# --- the runs ----------------------------------------------------------------------------------


def load(port: int, args: argparse.Namespace) -> dict[str, float]:
    return e2e.child(
        "--load", str(port), str(args.sessions), str(args.window), str(args.messages), "numbered"
    )


def main(args: argparse.Namespace) -> None:
    missing = needed(args.jasmin)
    if missing:
        sys.exit("bench/jasmin.py needs: " + "; ".join(missing))
    with tempfile.TemporaryDirectory(prefix="bench-jasmin-") as tmp:
        home = Path(tmp)
        jasmin = Jasmin(home, args.jasmin)
        sandbox, url = start_sandbox("--latency-ms", "0")
        bridge, bridge_port = e2e.start_bridge(home, url, "info")
        try:
            load(jasmin.smpp, argparse.Namespace(**{**vars(args), "messages": 500}))  # warm up
            load(bridge_port, argparse.Namespace(**{**vars(args), "messages": 500}))
            print(
                f"{args.sessions} sessions x window {args.window}, {args.messages} submit_sm a "
                "round, every text different"
            )
            print(f"{'round':>5}  {'jasmin msg/s':>12} {'µs CPU/msg':>10}  "
                  f"{'bridge msg/s':>12} {'µs CPU/msg':>10}  ratio  "
                  "(jasmin's answers to the ESMEs, queued: msg/s)")  # fmt: skip
            ratios: list[float] = []
            rates: dict[str, list[float]] = {"jasmin": [], "bridge": []}
            cpus: dict[str, list[float]] = {"jasmin": [], "bridge": []}
            queued = 0.0
            for number in range(args.rounds):
                measured: dict[str, tuple[float, float]] = {}
                order = ["jasmin", "bridge"] if number % 2 == 0 else ["bridge", "jasmin"]
                for side in order:
                    if side == "jasmin":
                        # Jasmin answers a submit_sm once it is queued (store and forward):
                        # its rate is until the sink has had every message.
                        before, had = jasmin.gateway_cpu_s(), jasmin.handed_on()
                        started = time.perf_counter()
                        result = load(jasmin.smpp, args)
                        while jasmin.handed_on() < had + args.messages:
                            time.sleep(0.02)
                        wall = time.perf_counter() - started
                        spent = jasmin.gateway_cpu_s() - before
                    else:
                        before = cpu_s(bridge.pid)
                        started = time.perf_counter()
                        result = load(bridge_port, args)
                        wall = time.perf_counter() - started
                        spent = cpu_s(bridge.pid) - before
                    rate = result["count"] / wall
                    answered = result["count"] / result["wall_s"]
                    measured[side] = (rate, spent / result["count"] * 1e6)
                    rates[side].append(rate)
                    if side == "jasmin":
                        queued = answered
                    cpus[side].append(measured[side][1])
                ratio = measured["bridge"][0] / measured["jasmin"][0]
                ratios.append(ratio)
                cells = [f"{measured[side][0]:>12,.0f} {measured[side][1]:>10,.0f}"
                         for side in ("jasmin", "bridge")]  # fmt: skip
                print(f"{number + 1:>5}  {cells[0]}  {cells[1]}  {ratio:.2f}x  ({queued:,.0f})")
            median = statistics.median(ratios)
            print(
                f"the bridge at its defaults: {median:.2f}x Jasmin's rate (median of the rounds' "
                f"ratios; target 5x: {'MET' if median >= 5 else 'NOT MET'}); CPU per message: "
                f"Jasmin {statistics.median(cpus['jasmin']):,.0f} µs (jasmind, RabbitMQ, Redis), "
                f"the bridge {statistics.median(cpus['bridge']):,.0f} µs"
            )
        finally:
            bridge.terminate()
            sandbox.terminate()
            jasmin.stop()
            bridge.wait(30)
            sandbox.wait(30)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == SINK:
        sink_main(int(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jasmin", required=True, help="the Python that has jasmin installed")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--window", type=int, default=50)
    main(parser.parse_args())
