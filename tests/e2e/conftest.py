"""Fixtures for tests over real loopback sockets.

- `write_config(smpp={...}, accounts=[{...}], tls=...)`: a valid config file in tmp_path
  (an ephemeral port unless told otherwise), each key bendable.
- `run_server(config_path, pipeline=False)`: the real SMPP side of a bridge (`SmppFront`:
  config -> registry, authority, server) around `ScriptedHandler`, which answers submits by
  the text they carry, or with `pipeline=True` the whole `Bridge` and its message pipeline,
  on its own event loop in a thread, stopped gracefully after the test.
- `raw_esme(server)`: a plain socket that speaks PDUs through bridge.pdu, for malformed input.
- `smpplib_esme(server)`: a connected smpplib Client (the real ESME), closed after the test.
- `sandbox`: the iSMS sandbox on its own loop in a thread (messages_rig.SandboxThread).
- `serve(config_path)`: `isms-bridge serve` as a real process (serve_process.ServeProcess),
  as many as a test starts, each stopped by its PID after the test.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
import smpplib.client
from serve_process import ServeProcess

from bridge.app import Bridge, SmppFront
from bridge.config import load_config
from bridge.pdu import Pdu, SubmitSm, SubmitSmResp
from bridge.server import SessionContext, SubmitRequest
from bridge.state import ClusterStore, MemoryState

from .loopback import ACCOUNT, SMPP, RawEsme, Toml, config_text
from .messages_rig import SandboxThread

T = TypeVar("T")

ISMS: dict[str, object] = {
    "api": "http",
    "endpoints": ["http://127.0.0.1:9/isms_send_all_id.php"],
}


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write bridge.toml: `smpp` keys over the test defaults, one table per account."""

    def write(
        smpp: Toml | None = None,
        accounts: Sequence[Toml] = ({},),
        tls: Toml | None = None,
        name: str = "bridge.toml",
    ) -> Path:
        tables: list[tuple[str, Toml]] = [("[smpp]", {**SMPP, **(smpp or {})})]
        if tls is not None:
            tables.append(("[smpp.tls]", tls))
        tables.append(("[isms]", ISMS))
        tables.extend(("[[accounts]]", {**ACCOUNT, **account}) for account in accounts)
        path = tmp_path / name
        path.write_text(config_text(tables), encoding="utf-8")
        return path

    return write


# --- real processes: the sandbox and isms-bridge serve -------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    running = SandboxThread()
    yield running
    running.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], ServeProcess]]:
    started: list[ServeProcess] = []

    def start(config: Path) -> ServeProcess:
        process = ServeProcess(config, tmp_path / f"serve{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


# --- a server on its own loop ---------------------------------------------------------------


class ScriptedHandler:
    """Answers by the message text: b"boom" raises, b"sleep:S ..." waits S seconds first;
    anything else is accepted with message_id "id-<sequence_number>"."""

    def __init__(self) -> None:
        self.seen: list[tuple[SessionContext, SubmitRequest]] = []

    def parts(self, request: SubmitRequest) -> int:
        return 1 if isinstance(request, SubmitSm) else 0

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return False

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        pass

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        self.seen.append((context, request))
        text = getattr(request, "short_message", b"")
        if text == b"boom":
            raise RuntimeError("scripted failure")
        if text.startswith(b"sleep:"):
            await asyncio.sleep(float(text[6:].split()[0]))
        return SubmitSmResp(message_id=f"id-{request.sequence_number}")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class RunningServer:
    """The SMPP side of a bridge (with `pipeline`, the whole Bridge), built from a config
    file, serving on a loop in a background thread."""

    def __init__(
        self, config_path: Path, pipeline: bool = False, cluster: ClusterStore | None = None
    ) -> None:
        # The loop `serve` runs on: uvloop where it is installed.
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.config = load_config(config_path)
        self.root: Bridge | None = None  # the whole bridge, with `pipeline`
        self.bridge: SmppFront = self.call(self._build(pipeline, cluster))
        self.stopped = False

    async def _build(self, pipeline: bool, cluster: ClusterStore | None) -> SmppFront:
        if pipeline:
            self.root = Bridge(self.config, MemoryState())
            await self.root.start()
            return self.root.smpp
        front = SmppFront(self.config, ScriptedHandler(), cluster=cluster)
        await front.server.start()
        return front

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def run(self, function: Callable[[], T]) -> T:
        """Run a plain function on the server's loop (its objects are not thread-safe)."""

        async def call() -> T:
            return function()

        return self.call(call())

    @property
    def host(self) -> str:
        return self.bridge.server.addresses[0][0]

    @property
    def port(self) -> int:
        return self.bridge.server.addresses[0][1]

    @property
    def tls_port(self) -> int:
        return self.bridge.server.tls_addresses[0][1]

    @property
    def handler(self) -> Any:
        return self.bridge.handler

    def stop(self, timeout: float = 5.0) -> None:
        if self.stopped:
            return
        self.stopped = True
        try:
            root = self.root
            front = self.bridge.server
            stopping = front.shutdown(timeout) if root is None else root.shutdown(timeout)
            self.call(stopping, timeout=timeout + 10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


@pytest.fixture
def run_server() -> Iterator[Callable[..., RunningServer]]:
    servers: list[RunningServer] = []

    def run(
        config_path: Path,
        pipeline: bool = False,
        cluster: ClusterStore | None = None,
    ) -> RunningServer:
        server = RunningServer(config_path, pipeline, cluster)
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop()


@pytest.fixture
def server(
    write_config: Callable[..., Path], run_server: Callable[..., RunningServer]
) -> RunningServer:
    """A server with the default test config and the scripted handler."""
    return run_server(write_config())


# --- ESMEs ----------------------------------------------------------------------------------


@pytest.fixture
def raw_esme() -> Iterator[Callable[..., RawEsme]]:
    opened: list[RawEsme] = []

    def connect(server: RunningServer, port: int | None = None, host: str | None = None) -> RawEsme:
        family = socket.AF_INET6 if (host or "").count(":") else socket.AF_INET
        esme = RawEsme(host or server.host, port or server.port, family)
        opened.append(esme)
        return esme

    yield connect
    for esme in opened:
        esme.close()


@pytest.fixture
def smpplib_esme() -> Iterator[Callable[..., smpplib.client.Client]]:
    clients: list[smpplib.client.Client] = []

    def connect(
        server: RunningServer,
        *,
        port: int | None = None,
        timeout: float = 5,
        ssl_context: ssl.SSLContext | None = None,
    ) -> smpplib.client.Client:
        client = smpplib.client.Client(
            server.host,
            port or server.port,
            timeout=timeout,
            ssl_context=ssl_context,
            allow_unknown_opt_params=True,
        )
        client.connect()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.disconnect()
