"""A real redis-server for tests: on a free loopback port, no persistence, stopped by PID.

    with RedisServer.started() as server:      # skips (fails under CI) without redis-server
        store = await RedisState.open(server.url)
        server.stop()                           # Redis goes away under traffic...
        server.start()                          # ...and comes back (empty: --save "")

`password=` starts it with requirepass; `options=` adds command-line options (e.g.
`("--maxmemory-policy", "allkeys-lru")`). Reused by tests/state and tests/cluster: a session
fixture is three lines (`with RedisServer.started() as server: yield server`).

`RedisSentinel(folder, primary_port)` is one Sentinel (redis-server --sentinel, quorum 1,
short down-after and failover timeouts) watching service "mymaster" at that primary.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from real_parts import free_port, program


class RedisServer:
    def __init__(self, *, password: str | None = None, options: Sequence[str] = ()) -> None:
        self.binary = program("redis-server", "redis-server")
        self.port = free_port()
        self.password = password
        self.options = tuple(options)
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    @contextmanager
    def started(
        cls, *, password: str | None = None, options: Sequence[str] = ()
    ) -> Iterator[RedisServer]:
        server = cls(password=password, options=options)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self, *, timeout: float = 10.0) -> None:
        """Start (again, on the same port) and wait until it answers PING."""
        if self.process is not None:
            return
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        if self.password is not None:
            command += ["--requirepass", self.password]
        command += self.options
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM by PID, then wait (SIGKILL after 10 s)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL by PID: Redis dies as a crashed host would."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                probe.sendall(b"PING\r\n")
                reply = probe.recv(64)
        except OSError:
            return False
        return reply.startswith((b"+PONG", b"-NOAUTH"))


class RedisSentinel(RedisServer):
    """One Sentinel on a free loopback port: quorum 1, `down_after_ms` and `failover_ms`
    short, so a failover takes about a second. Its config file lives in `folder` (Sentinel
    rewrites it)."""

    SERVICE = "mymaster"

    def __init__(
        self, folder: Path, primary_port: int, *, down_after_ms: int = 500, failover_ms: int = 2000
    ) -> None:
        super().__init__()
        self.folder = folder
        self.primary_port = primary_port
        self.down_after_ms = down_after_ms
        self.failover_ms = failover_ms

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self, *, timeout: float = 10.0) -> None:
        if self.process is not None:
            return
        conf = self.folder / f"sentinel-{self.port}.conf"
        if not conf.exists():
            service = self.SERVICE
            conf.write_text(
                f"port {self.port}\nbind 127.0.0.1\ndaemonize no\nloglevel warning\n"
                f"dir {self.folder}\n"
                f"sentinel monitor {service} 127.0.0.1 {self.primary_port} 1\n"
                f"sentinel down-after-milliseconds {service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {service} {self.failover_ms}\n",
                encoding="utf-8",
            )
        self.process = subprocess.Popen(
            [self.binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server --sentinel exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server --sentinel did not answer on port {self.port}")
            time.sleep(0.02)
