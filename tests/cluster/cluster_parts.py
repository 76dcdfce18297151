"""Real processes for the cluster tests: the iSMS sandbox, `serve`, HAProxy (stopped by PID).

Each part is started on free loopback ports, waits until it answers, and is stopped by
its own PID (terminate, then kill after a grace period) by the fixture that made it.
HAProxy runs with configs/haproxy.cfg itself, rewritten only where a test must differ
(ports, addresses, a faster check interval), so the shipped file is the one tested.
"""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import smpplib.client
from real_parts import free_port

REPO = Path(__file__).resolve().parents[2]
HAPROXY_CFG = REPO / "configs" / "haproxy.cfg"
# HAProxy connects to the bridges from this address, the clients from 127.0.0.1, so a
# bridge that judged HAProxy's address instead of the header's would be caught.
HAPROXY_SOURCE = "127.0.0.3"


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Part:
    """One started program, its output in a log file."""

    def __init__(self, name: str, command: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            list(command), stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            if not self.running:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
            return re.search(pattern, self.log())

        try:
            return wait_until(found, timeout, f"{pattern!r} in {self.name}'s log")  # type: ignore[no-any-return]
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.log()[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a dying node)."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, grace: float = 10.0) -> None:
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class Sandbox(Part):
    """`isms-bridge sandbox`: the stand-in for iSMS, counting what it received."""

    def __init__(self, log_path: Path, extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        super().__init__(
            "sandbox",
            [sys.executable, "-m", "bridge", "sandbox", "--port", str(self.port), *extra],
            log_path,
        )
        self.wait_for_log(r"iSMS sandbox listening")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/isms_send_all_id.php"

    def messages(self) -> list[dict[str, Any]]:
        status, body = http_get(f"http://127.0.0.1:{self.port}/messages.json")
        assert status == 200, body
        found = json.loads(body)["messages"]  # newest first, as the sandbox lists them
        assert isinstance(found, list)
        return found[::-1]


class Bridge(Part):
    """`isms-bridge serve --config ...`; ports read back from its config."""

    def __init__(self, name: str, config: Path, smpp_port: int, metrics_port: int, log: Path):
        self.smpp_port = smpp_port
        self.metrics_port = metrics_port
        super().__init__(
            name, [sys.executable, "-m", "bridge", "serve", "--config", str(config)], log
        )
        self.wait_for_log(rf"event=listening host=127\.0\.0\.1 port={smpp_port}")
        wait_until(lambda: accepts("127.0.0.1", metrics_port), 15, f"{name}'s metrics port")

    def readyz(self) -> tuple[int, str]:
        return http_get(f"http://127.0.0.1:{self.metrics_port}/readyz")

    def metric(self, name: str, **labels: str) -> float | None:
        """One sample of /metrics (None when absent)."""
        status, body = http_get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        assert status == 200
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        for line in body.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            metric, _, rest = series.partition("{")
            if metric != name:
                continue
            found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
            if found == wanted:
                return float(value)
        return None


def bridge_config(
    path: Path,
    *,
    smpp_port: int,
    metrics_port: int,
    isms_endpoint: str,
    smpp: Mapping[str, object] | None = None,
    extra: str = "",
    accounts: str = "",
) -> Path:
    """A bridge config behind HAProxy: the PROXY header required, from HAPROXY_SOURCE only."""
    keys = {
        "host": "127.0.0.1",
        "port": smpp_port,
        "proxy_protocol": True,
        "proxy_trusted": [f"{HAPROXY_SOURCE}/32"],
        "bind_failure_delay_s": 0.2,
        "auth_slowdown_s": 0.0,
        "shutdown_timeout_s": 5.0,
        **(smpp or {}),
    }
    lines = ["[smpp]", *(f"{key} = {json.dumps(value)}" for key, value in keys.items())]
    lines += ["", "[metrics]", 'host = "127.0.0.1"', f"port = {metrics_port}"]
    lines += ["", "[isms]", 'api = "http"', f"endpoints = [{json.dumps(isms_endpoint)}]"]
    lines += ["timeout_s = 5", "", extra]
    lines += [
        accounts
        or "\n".join(
            [
                "[[accounts]]",
                'system_id = "esme1"',
                'password = "secret1"',
                'isms_username = "isms"',
                'isms_password = "isms123"',
            ]
        )
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def haproxy_config(
    servers: Sequence[tuple[str, int, int]], *, port: int, stats_socket: Path
) -> str:
    """configs/haproxy.cfg for loopback: `servers` as (name, smpp port, metrics port)."""
    text = HAPROXY_CFG.read_text(encoding="utf-8")

    def swap(old: str, new: str) -> None:
        nonlocal text
        assert old in text, f"configs/haproxy.cfg no longer has {old!r}: update this fixture"
        text = text.replace(old, new)

    swap(
        "    log stdout format raw local0 info\n",
        "    log stdout format raw local0 info\n"
        f"    stats socket {stats_socket} mode 600 level admin\n",
    )
    swap("    bind :2775\n", f"    bind 127.0.0.1:{port}\n")
    # 20000 needs 40000 file descriptors, more than a test runner's limit may allow.
    swap("    maxconn 20000\n", "    maxconn 1000\n")
    # Checks every 200 ms instead of 2 s, so the tests see a state change quickly.
    swap("inter 2s fall 2 rise 2", "inter 200ms fall 2 rise 1")
    lines = "".join(
        f"    server {name} 127.0.0.1:{smpp} check port {metrics}\n"
        for name, smpp, metrics in servers
    )
    swap(
        "    server bridge-a bridge-a:2775\n    server bridge-b bridge-b:2775\n",
        f"    source {HAPROXY_SOURCE}\n{lines}",
    )
    return text


class Haproxy(Part):
    """The real HAProxy with configs/haproxy.cfg in front of `servers`."""

    def __init__(self, directory: Path, binary: str, servers: Sequence[tuple[str, int, int]]):
        self.port = free_port()
        self.stats_socket = directory / "haproxy.sock"
        config = directory / "haproxy.cfg"
        config.write_text(
            haproxy_config(servers, port=self.port, stats_socket=self.stats_socket),
            encoding="utf-8",
        )
        super().__init__("haproxy", [binary, "-db", "-f", str(config)], directory / "haproxy.log")
        # Ready once its admin socket answers (a probe of the SMPP port would reach a bridge).
        wait_until(lambda: self._answers() or not self.running, 15, "haproxy's admin socket")
        if not self.running:
            raise AssertionError(f"haproxy exited:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            return "Name: HAProxy" in self.command("show info")
        except OSError:
            return False

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(5)
            admin.connect(str(self.stats_socket))
            admin.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := admin.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """Backend server name -> status as HAProxy sees it (UP, DOWN, ...)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            if not line:
                continue
            row = dict(zip(header, line.split(","), strict=False))
            if row["pxname"] == "bridges" and row["svname"] not in ("FRONTEND", "BACKEND"):
                states[row["svname"]] = row["status"].split(" ")[0]
        return states

    def wait_for_states(self, expected: Mapping[str, str], timeout: float = 15.0) -> None:
        wait_until(
            lambda: self.server_states() == dict(expected),
            timeout,
            f"haproxy to see {dict(expected)} (last: {self.server_states()})",
        )


class RedisServer(Part):
    """A real redis-server on a free loopback port, with its data in `directory`, so a
    restart (`stop` then `restart`) comes back on the same port with what it had saved.

    Not tests/redis_server.py's: that one runs without persistence (a restart comes back
    empty), while a cluster is tested the way the compose profile runs Redis, with its AOF.
    """

    def __init__(self, directory: Path, binary: str, password: str = "redis-pw") -> None:
        self.port = free_port()
        self.password = password
        self._binary = binary
        self._directory = directory
        self._generation = 0
        super().__init__("redis", self._command(), directory / "redis-0.log")
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        return [
            self._binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self._directory),
            "--requirepass", self.password,
            # As docker-compose.yml runs it: the AOF, written every second.
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
        ]  # fmt: skip

    def _wait_ready(self) -> None:
        wait_until(lambda: self.ping() or not self.running, 15, "redis-server")
        if not self.running:
            raise AssertionError(f"redis-server exited:\n{self.log()}")

    def command(self, *words: str) -> bytes:
        """One command in RESP, its raw reply (enough for PING, INFO, DBSIZE)."""
        wire = _resp("AUTH", self.password) + _resp(*words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(wire)
            reply = b""
            while reply.count(b"\r\n") < 2 or not _complete(reply):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[1]

    def ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def restart(self) -> None:
        """Start again on the same port after `stop()` (its AOF is read back)."""
        assert not self.running
        self._generation += 1
        log = self._directory / f"redis-{self._generation}.log"
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            self._command(), stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO
        )
        self._wait_ready()


def _resp(*words: str) -> bytes:
    return f"*{len(words)}\r\n".encode() + b"".join(
        f"${len(word)}\r\n{word}\r\n".encode() for word in words
    )


def _complete(reply: bytes) -> bool:
    """Whether the second RESP reply in `reply` (after AUTH's +OK) has fully arrived."""
    _, _, rest = reply.partition(b"\r\n")
    if rest.startswith(b"$"):
        size, _, body = rest[1:].partition(b"\r\n")
        return int(size) < 0 or len(body) >= int(size) + 2
    return rest.endswith(b"\r\n")


def route_only_to(haproxy: Haproxy, name: str, names: Sequence[str]) -> None:
    """New connections go to `name` alone: the others drain (they keep what they have)."""
    for other in names:
        state = "ready" if other == name else "drain"
        haproxy.command(f"set server bridges/{other} state {state}")


def redis_state(redis: RedisServer, prefix: str = "test:") -> str:
    return "\n".join(
        [
            "[state]",
            'backend = "redis"',
            f'redis_url = "{redis.url}"',
            f'redis_password = "{redis.password}"',
            f'key_prefix = "{prefix}"',
            "",
        ]
    )


class Cluster:
    """Two bridges on one Redis behind one HAProxy; `via(name)` steers new connections."""

    def __init__(self, bridges: dict[str, Bridge], haproxy: Haproxy, redis: RedisServer):
        self.bridges = bridges
        self.haproxy = haproxy
        self.redis = redis

    def via(self, name: str) -> int:
        """The HAProxy port, with new connections going to bridge `name` only."""
        route_only_to(self.haproxy, name, list(self.bridges))
        return self.haproxy.port


# --- an smpplib ESME's conversations (as tests/e2e/messages_rig.py has them) ----------------


@dataclasses.dataclass
class Answer:
    status: int
    message_id: str | None


def submit(client: smpplib.client.Client, **fields: Any) -> Answer:
    return submit_many(client, [fields])[0]


def submit_many(client: smpplib.client.Client, messages: list[dict[str, Any]]) -> list[Answer]:
    """Send every message (pipelined), then read until each is answered; in sending order."""
    answers: dict[int, Answer] = {}
    receipts: list[Any] = getattr(client, "receipts", [])
    client.receipts = receipts
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    client.set_error_pdu_handler(lambda pdu: None)

    def sent(pdu: Any) -> None:
        message_id = pdu.message_id.decode() if pdu.message_id else None
        answers.setdefault(pdu.sequence, Answer(status=pdu.status, message_id=message_id))

    client.set_message_sent_handler(sent)
    defaults = {"source_addr": "MyBrand", "dest_addr_ton": 1, "dest_addr_npi": 1}
    sequences = [client.send_message(**{**defaults, **fields}).sequence for fields in messages]
    deadline = time.monotonic() + 15
    while not all(sequence in answers for sequence in sequences):
        assert time.monotonic() < deadline, f"answered {len(answers)} of {len(sequences)}"
        client.read_once()
    return [answers[sequence] for sequence in sequences]


def read_receipts(client: smpplib.client.Client, count: int, timeout: float = 20) -> list[Any]:
    """Read until `count` deliver_sm receipts have arrived on this client."""
    receipts: list[Any] = getattr(client, "receipts", [])
    client.receipts = receipts
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    deadline = time.monotonic() + timeout
    while len(receipts) < count:
        assert time.monotonic() < deadline, f"{len(receipts)} of {count} receipts arrived"
        client.read_once()
    return receipts
