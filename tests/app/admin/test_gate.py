"""The gates: a suspension or a drain meets binds and submits."""

from __future__ import annotations

from pathlib import Path

from bridge.app.admin import SteeredAuthority, SteeredHandler
from bridge.app.admin.records import SuspendMode
from bridge.app.root import account_authority
from bridge.pdu import CommandStatus, Pdu, QuerySm, QuerySmResp, SubmitSm, SubmitSmResp
from bridge.server import BindAttempt, Peer, SessionContext, SubmitRequest
from bridge.smpp import BindType
from bridge.state import MemoryState

from .admin_parts import admin_config, instance

PEER = Peer(host="192.0.2.1", port=40000)


def attempt(password: str = "secret1") -> BindAttempt:
    return BindAttempt(
        session_id="s1", peer=PEER, bind_type=BindType.TRANSCEIVER, system_id="esme1",
        password=password,
    )  # fmt: skip


async def test_a_suspended_account_with_the_right_password_is_refused_rbindfail(
    tmp_path: Path,
) -> None:
    config = admin_config(tmp_path)
    one = instance(config, MemoryState(), "a")
    gate = SteeredAuthority(account_authority(config), one.steering)
    assert gate.decide(attempt(), 0, 0.0).accepted
    await one.steering.suspend("esme1", SuspendMode.REFUSE_BINDS, "", "ops")
    verdict = gate.decide(attempt(), 0, 1.0)
    assert verdict.command_status == CommandStatus.ESME_RBINDFAIL
    assert verdict.reason == "account suspended"
    # A wrong password keeps its own answer: the suspension tells a guesser nothing.
    wrong = gate.decide(attempt("nope"), 0, 2.0)
    assert wrong.command_status == CommandStatus.ESME_RINVPASWD


class Answering:
    def __init__(self) -> None:
        self.handled: list[SubmitRequest] = []

    def parts(self, request: SubmitRequest) -> int:
        return 1

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        self.handled.append(request)
        if isinstance(request, QuerySm):
            return QuerySmResp(message_id="1", message_state=2)
        return SubmitSmResp(message_id="1")

    def must_finish(self, task: object) -> bool:
        return False

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        return None


async def test_the_softer_suspension_answers_submits_rthrottled_and_lets_queries_through(
    tmp_path: Path,
) -> None:
    one = instance(admin_config(tmp_path), MemoryState(), "a")
    inner = Answering()
    handler = SteeredHandler(inner, one.steering)  # type: ignore[arg-type]
    context = SessionContext(
        session_id="s1", peer=PEER, system_id="esme1", bind_type=BindType.TRANSCEIVER
    )
    submit = SubmitSm(sequence_number=5, destination_addr="60123456789", short_message=b"hi")
    assert (await handler.handle(context, submit)).command_status == 0
    await one.steering.suspend("esme1", SuspendMode.THROTTLE_SUBMITS, "", "ops")
    refused = await handler.handle(context, submit)
    assert refused.command_status == CommandStatus.ESME_RTHROTTLED
    assert refused.sequence_number == 5
    query = QuerySm(sequence_number=6, message_id="1")
    assert (await handler.handle(context, query)).command_status == 0
    assert inner.handled == [submit, query]
