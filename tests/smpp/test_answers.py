"""error_answer: a refused request's own *_resp with no body, else a generic_nack.

The one builder of an error answer, used by the session, the server's request runner and the
pipeline alike; the expected PDUs are written from SMPP 3.4 §4.3 and §4.4.2 by hand.
"""

from __future__ import annotations

import pytest

from bridge.pdu import (
    BindTransceiver,
    BindTransceiverResp,
    CancelSm,
    CancelSmResp,
    CommandId,
    DataSm,
    DataSmResp,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    encode,
)
from bridge.smpp import error_answer


def refused(request: Pdu, status: int) -> Pdu:
    return error_answer(request.command_id, request.sequence_number, status)


def test_a_submit_sm_error_is_a_bare_submit_sm_resp_echoing_the_sequence_number() -> None:
    resp = refused(SubmitSm(sequence_number=9), 0x08)
    assert resp == SubmitSmResp(command_status=0x08, sequence_number=9, message_id=None)
    assert len(encode(resp)) == 16  # SMPP 3.4 §4.4.2: no body on an error response


@pytest.mark.parametrize(
    ("request_pdu", "expected"),
    [
        (SubmitMulti(sequence_number=1), SubmitMultiResp(sequence_number=1, message_id=None)),
        (DataSm(sequence_number=2), DataSmResp(sequence_number=2, message_id=None)),
        (QuerySm(sequence_number=3), QuerySmResp(sequence_number=3, message_id=None)),
        (CancelSm(sequence_number=4), CancelSmResp(sequence_number=4)),
        (ReplaceSm(sequence_number=5), ReplaceSmResp(sequence_number=5)),
    ],
    ids=lambda pdu: type(pdu).__name__,
)
def test_each_request_gets_its_own_response_type_with_the_status_and_no_body(
    request_pdu: Pdu, expected: Pdu
) -> None:
    resp = refused(request_pdu, 0x58)
    assert type(resp) is type(expected)
    assert (resp.sequence_number, resp.command_status) == (expected.sequence_number, 0x58)
    assert len(encode(resp)) == 16


def test_a_request_that_could_not_be_read_gets_a_generic_nack() -> None:
    assert error_answer(None, 7, 0x02) == GenericNack(command_status=0x02, sequence_number=7)


def test_a_pdu_without_a_response_of_its_own_gets_a_generic_nack() -> None:
    nack = error_answer(CommandId.ALERT_NOTIFICATION, 8, 0x03)
    assert nack == GenericNack(command_status=0x03, sequence_number=8)


def test_a_refused_bind_still_names_the_bridge() -> None:
    bind = BindTransceiver(sequence_number=4, system_id="esme1", password="secret1")
    resp = error_answer(bind.command_id, bind.sequence_number, 0x0E, "isms-bridge")
    assert resp == BindTransceiverResp(
        command_status=0x0E, sequence_number=4, system_id="isms-bridge"
    )
