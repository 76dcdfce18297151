"""A connection without a socket: a fake transport, a fake ESME, and scriptable deciders.

Also used by tests/app (the metrics seen through the server's observer seam), hence the
package import `from server.server_doubles import Harness`.

`Harness` builds one `SmppConnection` on the running loop with a `FakeTransport`; the test
plays the ESME with `send(pdu)` (encoded with bridge.pdu) and reads what the bridge wrote
with `received()` (decoded). The authority and handler implement the same Protocols the
production code uses, so a test cannot pass on a fake the server would not accept.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.pdu import (
    BindTransceiver,
    BindTransmitter,
    Pdu,
    PduSplitter,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)
from bridge.server import (
    BindAttempt,
    BindVerdict,
    ConnectionObserver,
    ServerSettings,
    SessionContext,
    SessionRegistry,
    SubmitRequest,
)
from bridge.server.connection import SmppConnection
from bridge.server.services import ConnectionServices
from bridge.smpp import SessionConfig

PEER = ("10.0.0.5", 40112)


class FakeTransport(asyncio.Transport):
    """Records writes and flow control; close() ends the connection on the next loop turn."""

    def __init__(self, protocol: asyncio.Protocol, peer: tuple[str, int] = PEER) -> None:
        super().__init__()
        self.protocol = protocol
        self.peer = peer
        self.written = bytearray()
        self.reading = True
        self.pause_calls = 0
        self.closing = False
        self.aborted = False
        self.lost = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "write after close"
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self._end()

    def abort(self) -> None:
        self.aborted = True
        self._end()

    def pause_reading(self) -> None:
        self.reading = False
        self.pause_calls += 1

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def _end(self) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().call_soon(self._lose)

    def _lose(self) -> None:
        self.lost = True
        self.protocol.connection_lost(None)


class FakeAuthority:
    """Accepts every bind unless told otherwise; meters with a plain budget of parts."""

    def __init__(self, verdict: BindVerdict | None = None, budget: int | None = None) -> None:
        self.verdict = verdict or BindVerdict(command_status=0)
        self.budget = budget
        self.attempts: list[tuple[BindAttempt, int]] = []
        self.charged: list[tuple[str, int]] = []

    def decide(self, attempt: BindAttempt, bound_sessions: int, now: float) -> BindVerdict:
        self.attempts.append((attempt, bound_sessions))
        return self.verdict

    def admit(self, system_id: str, parts: int, now: float) -> bool:
        if self.budget is not None and self.budget < parts:
            return False
        if self.budget is not None:
            self.budget -= parts
        self.charged.append((system_id, parts))
        return True


Answer = Callable[[SessionContext, SubmitRequest], Awaitable[Pdu]]


async def accept_all(context: SessionContext, request: SubmitRequest) -> Pdu:
    return SubmitSmResp(message_id=f"m{request.sequence_number}")


class FakeHandler:
    """A SubmitHandler that delegates to a coroutine function and records what it saw."""

    def __init__(self, answer: Answer = accept_all, parts: int = 1) -> None:
        self.answer = answer
        self.part_count = parts
        self.seen: list[tuple[SessionContext, SubmitRequest]] = []
        # sequence_numbers of the requests whose tasks must finish (SubmitHandler.must_finish)
        self.finishing: set[int] = set()
        self._tasks: dict[int, asyncio.Task[Any]] = {}

    def parts(self, request: SubmitRequest) -> int:
        return self.part_count

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return any(self._tasks.get(seq) is task for seq in self.finishing)

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        pass

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        self.seen.append((context, request))
        current = asyncio.current_task()
        assert current is not None
        self._tasks[request.sequence_number] = current
        return await self.answer(context, request)


def settings(**session: Any) -> ServerSettings:
    shell = {
        key: session.pop(key)
        for key in (
            "bind_failure_delay_s",
            "shutdown_timeout_s",
            "max_connections",
            "max_connections_per_address",
            "max_unbound_connections",
            "read_budget",
            "log_summary_interval_s",
            "loop_lag_interval_s",
            "log_bodies",
        )
        if key in session
    }
    return ServerSettings(hosts=("127.0.0.1",), port=0, session=SessionConfig(**session), **shell)


class Harness:
    """One connection of a server that exists only in memory."""

    def __init__(
        self,
        *,
        authority: FakeAuthority | None = None,
        handler: FakeHandler | None = None,
        server_settings: ServerSettings | None = None,
        registry: SessionRegistry | None = None,
        observer: ConnectionObserver | None = None,
    ) -> None:
        self.authority = authority or FakeAuthority()
        self.handler = handler or FakeHandler()
        # Not `registry or ...`: an empty SessionRegistry is falsy (it has a __len__).
        self.registry = registry if registry is not None else SessionRegistry()
        self.services = ConnectionServices(
            loop=asyncio.get_running_loop(),
            settings=server_settings or settings(),
            authority=self.authority,
            handler=self.handler,
            registry=self.registry,
            observer=observer,
        )
        self._sequence_number = 1
        self._read = PduSplitter(1 << 20)
        self.connection, self.transport = self.connect()

    def connect(self, peer: tuple[str, int] = PEER) -> tuple[SmppConnection, FakeTransport]:
        connection = SmppConnection(self.services, self.services.new_session_id(), tls=False)
        transport = FakeTransport(connection, peer)
        connection.connection_made(transport)
        return connection, transport

    def send(self, *pdus: Pdu) -> list[int]:
        """Encode the PDUs (numbering them like smpplib, from 2) and feed them in one batch."""
        numbered = []
        for pdu in pdus:
            if not pdu.sequence_number:
                self._sequence_number += 1
                pdu = dataclasses.replace(pdu, sequence_number=self._sequence_number)
            numbered.append(pdu)
        self.connection.data_received(b"".join(encode(pdu) for pdu in numbered))
        return [pdu.sequence_number for pdu in numbered]

    def received(self) -> list[Pdu]:
        """Every PDU the bridge wrote since the last call."""
        self._read.feed(bytes(self.transport.written))
        self.transport.written.clear()
        found = []
        while (frame := self._read.next_frame()) is not None:
            found.append(decode(frame))
        return found

    def bind(self, bind: Pdu | None = None) -> list[Pdu]:
        self.send(bind or BindTransceiver(system_id="esme1", password="secret1"))
        return self.received()

    def bind_transmitter(self) -> list[Pdu]:
        return self.bind(BindTransmitter(system_id="esme1", password="secret1"))


def submit(text: bytes = b"hello") -> SubmitSm:
    return SubmitSm(source_addr="MyBrand", destination_addr="60123456789", short_message=text)


async def until(condition: Callable[[], object], limit_s: float = 5.0) -> None:
    """Let the loop run until `condition()` holds (a behaviour check, not a speed check)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.001)
