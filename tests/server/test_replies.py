"""The error answers the shell builds itself: the request's own *_resp, no body."""

from __future__ import annotations

from bridge.pdu import (
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    encode,
)
from bridge.server.replies import error_response


def test_a_submit_sm_error_is_a_bare_submit_sm_resp_echoing_the_sequence_number() -> None:
    resp = error_response(SubmitSm(sequence_number=9), 0x08)
    assert resp == SubmitSmResp(command_status=0x08, sequence_number=9, message_id=None)
    assert len(encode(resp)) == 16  # SMPP 3.4 §4.4.2: no body on an error response


def test_each_request_gets_its_own_response_type() -> None:
    assert isinstance(error_response(SubmitMulti(sequence_number=1), 0x58), SubmitMultiResp)
    assert isinstance(error_response(DataSm(sequence_number=1), 0x58), DataSmResp)
    assert error_response(CancelSm(sequence_number=5), 0x11) == CancelSmResp(
        command_status=0x11, sequence_number=5
    )
