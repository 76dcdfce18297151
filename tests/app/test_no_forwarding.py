"""ForwardingNotBuilt: while the pipeline is missing, nothing is faked as accepted."""

from __future__ import annotations

import logging

import pytest

from bridge.app.no_forwarding import ForwardingNotBuilt
from bridge.pdu import (
    CancelSm,
    CommandStatus,
    DataSm,
    QuerySm,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
)
from bridge.server import Peer, SessionContext
from bridge.smpp import BindType

CONTEXT = SessionContext(
    session_id="s1",
    peer=Peer(host="127.0.0.1", port=1),
    system_id="esme1",
    bind_type=BindType.TRANSMITTER,
)


@pytest.mark.parametrize("request_pdu", [SubmitSm(), SubmitMulti(), DataSm()])
async def test_every_message_is_refused_with_rsyserr_and_no_message_id(request_pdu) -> None:
    resp = await ForwardingNotBuilt().handle(CONTEXT, request_pdu)
    assert resp.command_status == CommandStatus.ESME_RSYSERR
    assert resp.message_id is None


async def test_query_and_cancel_fail_because_no_message_was_ever_accepted() -> None:
    handler = ForwardingNotBuilt()
    query = await handler.handle(CONTEXT, QuerySm(message_id="x"))
    cancel = await handler.handle(CONTEXT, CancelSm(message_id="x"))
    assert query.command_status == CommandStatus.ESME_RQUERYFAIL
    assert cancel.command_status == CommandStatus.ESME_RCANCELFAIL


async def test_the_reason_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    handler = ForwardingNotBuilt()
    for _ in range(3):
        await handler.handle(CONTEXT, SubmitSm())
    assert caplog.text.count("event=forwarding_not_built") == 1


def test_messages_cost_one_part_per_destination_and_queries_nothing() -> None:
    handler = ForwardingNotBuilt()
    two = SubmitMulti(dest_addresses=(SmeAddress(destination_addr="1"), SmeAddress()))
    assert [handler.parts(p) for p in (SubmitSm(), two, QuerySm())] == [1, 2, 0]
