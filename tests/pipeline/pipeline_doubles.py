"""Test doubles for the message pipeline: a fake iSMS, fake receivers, clocks, PDU builders.

`FakeIsms` and `FakeReceivers` implement the same Protocols the production objects do
(`bridge.upstream.IsmsSender`, `bridge.pipeline.seams.ReceiverRegistry`); no sockets
anywhere.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bridge.pdu import DeliverSm, DeliverSmResp, Pdu, SubmitSm, Tag, Tlv
from bridge.pipeline import AccountRoute, MessagePipeline, PipelineSettings
from bridge.server import Peer, SessionContext
from bridge.smpp import BindType
from bridge.state import StateStore
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult

CREDENTIALS = IsmsCredentials(username="isms", password="isms123")
ROUTE = AccountRoute(system_id="esme1", credentials=CREDENTIALS)
MALAYSIA = timezone(timedelta(hours=8))
WALL_START = datetime(2026, 11, 26, 15, 30, 0, tzinfo=MALAYSIA)


def context(
    system_id: str = "esme1",
    bind_type: BindType = BindType.TRANSCEIVER,
    session_id: str = "s1",
) -> SessionContext:
    return SessionContext(
        session_id=session_id,
        peer=Peer(host="127.0.0.1", port=40000),
        system_id=system_id,
        bind_type=bind_type,
    )


def accepted(trx_id: str | None = "1171081025") -> SendResult:
    return SendResult(
        outcome=Outcome.ACCEPTED, code=2000, trx_id=trx_id, mirror="m1", elapsed_s=0.01, attempts=1
    )


def rejected(code: int) -> SendResult:
    return SendResult(
        outcome=Outcome.REJECTED, code=code, trx_id=None, mirror="m1", elapsed_s=0.01, attempts=1
    )


def unknown() -> SendResult:
    return SendResult(
        outcome=Outcome.UNKNOWN,
        code=None,
        trx_id=None,
        mirror="m1",
        elapsed_s=10.0,
        attempts=1,
        reason="read timeout",
    )


def not_sent() -> SendResult:
    return SendResult(
        outcome=Outcome.NOT_SENT,
        code=None,
        trx_id=None,
        mirror="m3",
        elapsed_s=0.1,
        attempts=3,
        reason="no mirror reached: connection refused",
    )


Answer = SendResult | BaseException | Callable[[IsmsMessage], SendResult]


class FakeIsms:
    """An IsmsSender answering from a script (default: accepted with increasing trx_ids).

    `hold()` makes every send wait until `release()`: an upstream that is saturated.
    `reached` is set once a request has reached it.
    """

    def __init__(self, *answers: Answer) -> None:
        self.script: deque[Answer] = deque(answers)
        self.sent: list[IsmsMessage] = []
        self._next_trx = 5000
        self._gate: asyncio.Event | None = None
        self.reached = asyncio.Event()

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    async def send(self, message: IsmsMessage) -> SendResult:
        self.sent.append(message)
        self.reached.set()
        if self._gate is not None:
            await self._gate.wait()
        if self.script:
            answer = self.script.popleft()
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                return answer(message)
            return answer
        self._next_trx += 1
        return accepted(str(self._next_trx))


@dataclass
class FakeReceivers:
    """A ReceiverRegistry: `bound` says whether a receiver of the account is there; `script`
    answers deliveries in turn (a status, or an exception to raise), then ESME_ROK."""

    bound: set[str] = field(default_factory=lambda: {"esme1"})
    script: deque[int | BaseException] = field(default_factory=deque)
    attempts: list[DeliverSm] = field(default_factory=list)
    delivered: list[DeliverSm] = field(default_factory=list)

    def delivery_window(self, system_id: str) -> int:
        return 10 if system_id in self.bound else 0

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        if system_id not in self.bound:
            raise LookupError(f"no receiver of {system_id}")
        self.attempts.append(pdu)
        status = self.script.popleft() if self.script else 0
        if isinstance(status, BaseException):
            raise status
        if status == 0:
            self.delivered.append(pdu)
        return DeliverSmResp(command_status=status, message_id="")


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class RigWallClock:
    """The rig's wall clock: WALL_START when its clock reads 1000, moving with it."""

    clock: Clock

    def now(self) -> float:
        return WALL_START.timestamp() + self.clock.now - 1000.0

    def local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, WALL_START.tzinfo)


@dataclass
class Rig:
    """A pipeline wired to fakes, with its clocks."""

    pipeline: MessagePipeline
    isms: FakeIsms
    receivers: FakeReceivers
    clock: Clock

    def wall(self) -> datetime:
        return WALL_START + timedelta(seconds=self.clock.now - 1000.0)

    async def submit(self, pdu: Pdu, ctx: SessionContext | None = None) -> Any:
        """Answer `pdu` as the server does: the response, then word that it was written."""
        ctx = ctx or context()
        response = await self.pipeline.handle(ctx, pdu)  # type: ignore[arg-type]
        self.pipeline.answer_written(ctx, response)
        return response

    async def settle(self) -> None:
        """Let background receipt deliveries finish."""
        for _ in range(200):
            await asyncio.sleep(0)
            if not self.pipeline.outbox.in_flight:
                return

    async def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        await self.pipeline.sweep()


def rig(
    *answers: Answer,
    routes: Iterable[AccountRoute] = (ROUTE,),
    settings: PipelineSettings | None = None,
    receivers: FakeReceivers | None = None,
    state: StateStore | None = None,
    clock: Clock | None = None,
) -> Rig:
    """A pipeline on fakes; each account in `receivers.bound` has a transceiver bound."""
    clock = clock or Clock()
    isms = FakeIsms(*answers)
    receivers = receivers or FakeReceivers()
    pipeline = MessagePipeline(
        sender=isms,
        registry=receivers,
        routes=routes,
        settings=settings,
        state=state,
        clock=clock,
        wall_clock=RigWallClock(clock),
    )
    for system_id in sorted(receivers.bound):
        pipeline.session_bound(context(system_id=system_id))
    return Rig(pipeline=pipeline, isms=isms, receivers=receivers, clock=clock)


def submit_sm(
    short_message: bytes = b"Hello",
    *,
    destination_addr: str = "60123456789",
    source_addr: str = "MyBrand",
    sequence_number: int = 7,
    tlvs: Iterable[Tlv] = (),
    **fields: Any,
) -> SubmitSm:
    values: dict[str, Any] = {"dest_addr_ton": 1, "dest_addr_npi": 1, **fields}
    return SubmitSm(
        sequence_number=sequence_number,
        source_addr=source_addr,
        destination_addr=destination_addr,
        short_message=short_message,
        tlvs=tuple(tlvs),
        **values,
    )


def udh_part(reference: int, total: int, seqnum: int, payload: bytes, **fields: Any) -> SubmitSm:
    """A submit_sm carrying one part with an 8-bit reference UDH (IEI 0x00)."""
    header = bytes([5, 0x00, 3, reference, total, seqnum])
    return submit_sm(header + payload, esm_class=0x40, **fields)


def udh16_part(reference: int, total: int, seqnum: int, payload: bytes, **fields: Any) -> SubmitSm:
    """A submit_sm carrying one part with a 16-bit reference UDH (IEI 0x08)."""
    header = bytes([6, 0x08, 4, reference >> 8, reference & 0xFF, total, seqnum])
    return submit_sm(header + payload, esm_class=0x40, **fields)


def sar_part(reference: int, total: int, seqnum: int, payload: bytes, **fields: Any) -> SubmitSm:
    return submit_sm(
        payload,
        tlvs=(
            Tlv(Tag.SAR_MSG_REF_NUM, reference),
            Tlv(Tag.SAR_TOTAL_SEGMENTS, total),
            Tlv(Tag.SAR_SEGMENT_SEQNUM, seqnum),
        ),
        **fields,
    )


def receipt_text(pdu: DeliverSm) -> str:
    return pdu.short_message.decode("ascii")
