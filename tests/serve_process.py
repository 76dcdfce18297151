"""Programs the tests start as child processes, each with its output in a log file and
stopped by its own PID; `ServeProcess` is `isms-bridge serve` as one of them.

    bridge = ServeProcess(config, tmp_path / "serve.log")   # returns once it listens
    bridge.wait_for(r"event=bind_accepted")                  # a regex in its log
    bridge.kill()                                            # SIGKILL: a dying node
    bridge.stop()                                            # SIGTERM, SIGKILL after a grace

Used by tests/e2e (durability, signals) and tests/cluster (sandbox, bridges, HAProxy, Redis).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class LoggedProcess:
    """One started program, its stdout and stderr in `log_path`."""

    def __init__(
        self,
        command: Sequence[str],
        log_path: Path,
        *,
        name: str = "process",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            list(command),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=None if env is None else dict(env),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """The first match of `pattern` in the log; fails once the program has exited
        without writing it, or after `timeout` seconds, showing the log's end."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.log())) is None:
            if not self.running or time.monotonic() > deadline:
                state = "exited" if not self.running else f"after {timeout:g} s"
                raise AssertionError(
                    f"no {pattern!r} in {self.name}'s log ({state}):\n{self.log()[-3000:]}"
                )
            time.sleep(0.05)
        return found

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the program gets no chance to clean up (a dying node)."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._log.close()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, and SIGKILL if it has not exited after `grace` seconds."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class ServeProcess(LoggedProcess):
    """`isms-bridge serve --config FILE` (or `command`, a stand-in that serves the same
    config); returns once it listens on 127.0.0.1, on `port` when given. `port` is the one
    it listens on."""

    def __init__(
        self,
        config: Path,
        log_path: Path,
        *,
        command: Sequence[str] | None = None,
        name: str = "serve",
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        serve = [sys.executable, "-m", "bridge", "serve", "--config", str(config)]
        super().__init__(serve if command is None else command, log_path, name=name, env=env)
        wanted = r"\d+" if port is None else str(port)
        self.port = int(self.wait_for(rf"event=listening host=127\.0\.0\.1 port=({wanted})")[1])
