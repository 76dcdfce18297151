"""The server's observer calls reach the metrics: a real SmppServer on loopback, a plain
socket ESME speaking bridge.pdu, a handler held back so the window fills."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bridge.app.metrics import BridgeMetrics
from bridge.app.metrics_observers import SmppObserver
from bridge.pdu import (
    BindTransceiver,
    CommandStatus,
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
    ServerSettings,
    SessionContext,
    SessionRegistry,
    SmppServer,
    SubmitRequest,
)
from bridge.smpp import SessionConfig


@dataclass
class Authority:
    """esme1 / "pw"; admits `budget` message parts, then refuses (ESME_RTHROTTLED)."""

    budget: int = 2

    def decide(self, attempt: BindAttempt, bound_sessions: int, now: float) -> BindVerdict:
        if attempt.system_id != "esme1":
            return BindVerdict(command_status=CommandStatus.ESME_RINVSYSID, reason="system_id")
        if attempt.password != "pw":
            return BindVerdict(command_status=CommandStatus.ESME_RINVPASWD, reason="password")
        return BindVerdict(command_status=CommandStatus.ESME_ROK)

    def admit(self, system_id: str, parts: int, now: float) -> bool:
        self.budget -= parts
        return self.budget >= 0


@dataclass
class HeldHandler:
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def parts(self, request: SubmitRequest) -> int:
        return 1

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        await self.gate.wait()
        return SubmitSmResp(message_id="m1")


class Esme:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.splitter = PduSplitter(1 << 16)
        self.sequence_number = 0

    async def send(self, *pdus: Pdu) -> None:
        wire = b""
        for pdu in pdus:
            self.sequence_number += 1
            wire += encode(dataclasses.replace(pdu, sequence_number=self.sequence_number))
        self.writer.write(wire)
        await self.writer.drain()

    async def read(self) -> Pdu:
        while (frame := self.splitter.next_frame()) is None:
            chunk = await asyncio.wait_for(self.reader.read(65536), 5)
            assert chunk, "the bridge closed the connection"
            self.splitter.feed(chunk)
        return decode(frame)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@dataclass
class Served:
    server: SmppServer
    metrics: BridgeMetrics
    handler: HeldHandler

    async def esme(self) -> Esme:
        host, port = self.server.addresses[0]
        return Esme(*await asyncio.open_connection(host, port))

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    metrics = BridgeMetrics(accounts=["esme1"], process_metrics=False)
    observer = SmppObserver(metrics)
    registry = SessionRegistry()
    registry.subscribe(observer)
    handler = HeldHandler()
    server = SmppServer(
        ServerSettings(
            hosts=("127.0.0.1",),
            port=0,
            session=SessionConfig(window=2),
            bind_failure_delay_s=0.0,
            shutdown_timeout_s=1.0,
        ),
        authority=Authority(),
        handler=handler,
        registry=registry,
        observer=observer,
    )
    await server.start()
    try:
        yield Served(server=server, metrics=metrics, handler=handler)
    finally:
        handler.gate.set()
        await server.shutdown(1.0)


async def test_a_bound_session_its_submits_the_window_and_the_throughput_limit_are_counted(
    served: Served,
) -> None:
    esme = await served.esme()
    await esme.send(BindTransceiver(system_id="esme1", password="pw"))
    assert (await esme.read()).command_status == 0
    assert (
        served.sample("isms_bridge_smpp_sessions", system_id="esme1", bind_type="transceiver")
        == 1.0
    )
    # Two held by the handler fill the window of 2; the third is refused by the window.
    await esme.send(SubmitSm(), SubmitSm(), SubmitSm())
    assert (await esme.read()).command_status == CommandStatus.ESME_RTHROTTLED
    served.handler.gate.set()
    assert [(await esme.read()).command_status for _ in range(2)] == [0, 0]
    # The account's budget of 2 parts is spent: the next is refused by the throughput limit.
    await esme.send(SubmitSm())
    assert (await esme.read()).command_status == CommandStatus.ESME_RTHROTTLED
    await esme.close()

    submits = {"system_id": "esme1", "command": "submit_sm"}
    assert served.sample("isms_bridge_smpp_submits_total", status="ESME_ROK", **submits) == 2
    assert served.sample("isms_bridge_smpp_submits_total", status="ESME_RTHROTTLED", **submits) == 2
    assert served.sample("isms_bridge_smpp_window_full_total", system_id="esme1") == 1
    assert served.sample("isms_bridge_smpp_throttled_total", system_id="esme1") == 1
    assert served.sample("isms_bridge_smpp_submit_duration_seconds_count", command="submit_sm") == 2
    assert (
        served.sample(
            "isms_bridge_smpp_pdus_received_total", command="submit_sm", status="ESME_ROK"
        )
        == 4
    )
    assert (
        served.sample(
            "isms_bridge_smpp_pdus_sent_total", command="submit_sm_resp", status="ESME_RTHROTTLED"
        )
        == 2
    )
    assert (
        served.sample(
            "isms_bridge_smpp_pdus_sent_total", command="bind_transceiver_resp", status="ESME_ROK"
        )
        == 1
    )
    for _ in range(100):
        if (
            served.sample("isms_bridge_smpp_sessions", system_id="esme1", bind_type="transceiver")
            == 0.0
        ):
            break
        await asyncio.sleep(0.01)
    assert (
        served.sample("isms_bridge_smpp_sessions", system_id="esme1", bind_type="transceiver")
        == 0.0
    )


async def test_refused_binds_are_counted_with_their_status_and_a_shared_unknown_label(
    served: Served,
) -> None:
    for system_id, password in (("esme1", "wrong"), ("nobody", "pw")):
        esme = await served.esme()
        await esme.send(BindTransceiver(system_id=system_id, password=password))
        await esme.read()
        await esme.close()
    attempts = "isms_bridge_smpp_bind_attempts_total"
    labels = {"bind_type": "transceiver"}
    assert served.sample(attempts, system_id="esme1", status="ESME_RINVPASWD", **labels) == 1
    assert served.sample(attempts, system_id="_unknown", status="ESME_RINVSYSID", **labels) == 1
