"""MessagePipeline: one submit_sm or data_sm -> one iSMS request -> one answer.

A fake iSMS (`FakeIsms`) records what would be sent; "nothing was sent" is asserted on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from bridge.pdu import (
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitSmResp,
    Tag,
    Tlv,
)
from bridge.pipeline import AccountRoute, MessageState, NumberRules, PipelineSettings, StatusMapping
from bridge.upstream import SmsType

from .pipeline_doubles import (
    CREDENTIALS,
    ROUTE,
    Rig,
    accepted,
    context,
    not_sent,
    rejected,
    rig,
    submit_sm,
    unknown,
)


async def test_submit_sm_is_answered_with_the_isms_trx_id_as_message_id() -> None:
    r = rig(accepted("1171081025"))
    response = await r.submit(submit_sm(b"Hello"))
    assert response == SubmitSmResp(sequence_number=7, command_status=0, message_id="1171081025")
    assert [(m.text, m.destinations, m.sms_type) for m in r.isms.sent] == [
        ("Hello", ("60123456789",), SmsType.ASCII)
    ]


async def test_a_blank_isms_success_is_answered_with_a_unique_bridge_message_id() -> None:
    r = rig(accepted(None), accepted(None))
    first = await r.submit(submit_sm())
    second = await r.submit(submit_sm())
    assert first.command_status == second.command_status == 0
    assert len(first.message_id) == 18 and first.message_id != second.message_id


# (data_coding, octets, account options, text iSMS must receive, iSMS type)
CODINGS = [
    pytest.param(0x00, b"Hello", {}, "Hello", SmsType.ASCII, id="dc0-ascii-letters"),
    pytest.param(0x00, b"\x00\x01\x02 \x11", {}, "@£$ _", SmsType.UNICODE, id="dc0-gsm7"),
    pytest.param(0x00, b"5\x1b\x65", {}, "5€", SmsType.UNICODE, id="dc0-gsm7-escape"),
    pytest.param(0x00, b"caf\xe9", {"dc0": "latin1"}, "café", SmsType.UNICODE, id="dc0-latin1"),
    pytest.param(0x00, b"a@b_c", {"dc0": "ascii"}, "a@b_c", SmsType.ASCII, id="dc0-ascii"),
    pytest.param(0x01, b"user@example.com", {}, "user@example.com", SmsType.ASCII, id="dc1"),
    pytest.param(0x01, b"\x00 \x02", {"dc1": "gsm7"}, "@ $", SmsType.ASCII, id="dc1-gsm7"),
    pytest.param(0x03, b"\xa3 5", {}, "£ 5", SmsType.UNICODE, id="dc3-latin1"),
    pytest.param(0x08, "Olá 😀".encode("utf-16-be"), {}, "Olá 😀", SmsType.UNICODE, id="dc8"),
    pytest.param(0xF0, b"Flash", {}, "Flash", SmsType.ASCII, id="dcF0-gsm7-class0"),
    pytest.param(0x18, "é".encode("utf-16-be"), {}, "é", SmsType.UNICODE, id="dc18-ucs2"),
]


@pytest.mark.parametrize(("data_coding", "octets", "options", "text", "sms_type"), CODINGS)
async def test_each_data_coding_reaches_isms_as_exactly_its_text_with_the_right_type(
    data_coding: int, octets: bytes, options: dict[str, str], text: str, sms_type: SmsType
) -> None:
    route = AccountRoute(system_id="esme1", credentials=CREDENTIALS, **options)  # type: ignore[arg-type]
    r = rig(routes=[route])
    response = await r.submit(submit_sm(octets, data_coding=data_coding))
    assert response.command_status == 0
    assert [(m.text, m.sms_type) for m in r.isms.sent] == [(text, sms_type)]


@pytest.mark.parametrize("data_coding", [0x02, 0x04, 0xF4, 0x05])
async def test_binary_or_unsupported_data_coding_is_refused_rsubmitfail_and_nothing_sent(
    data_coding: int, caplog: pytest.LogCaptureFixture
) -> None:
    r = rig()
    caplog.set_level(logging.INFO, logger="bridge.pipeline")
    response = await r.submit(submit_sm(b"\x01\x02", data_coding=data_coding))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.isms.sent == []
    assert f"data_coding 0x{data_coding:02X}" in caplog.text


async def test_ucs2_with_a_lone_surrogate_is_refused_rsubmitfail() -> None:
    r = rig()
    response = await r.submit(submit_sm(b"\xd8\x3d\x00\x41", data_coding=0x08))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.isms.sent == []


async def test_text_over_700_characters_is_refused_rinvmsglen_without_calling_isms() -> None:
    r = rig()
    payload = Tlv(Tag.MESSAGE_PAYLOAD, b"x" * 701)
    response = await r.submit(submit_sm(b"", tlvs=[payload]))
    assert response.command_status == CommandStatus.ESME_RINVMSGLEN
    assert r.isms.sent == []


async def test_exactly_the_maximum_length_is_sent() -> None:
    r = rig()
    response = await r.submit(submit_sm(b"", tlvs=[Tlv(Tag.MESSAGE_PAYLOAD, b"x" * 700)]))
    assert response.command_status == 0
    assert len(r.isms.sent[0].text) == 700


async def test_the_configured_maximum_length_replaces_700() -> None:
    r = rig(settings=PipelineSettings(max_text_length=10))
    response = await r.submit(submit_sm(b"eleven char"))
    assert response.command_status == CommandStatus.ESME_RINVMSGLEN


async def test_an_empty_message_is_refused_rinvmsglen_without_calling_isms() -> None:
    r = rig()
    response = await r.submit(submit_sm(b""))
    assert response.command_status == CommandStatus.ESME_RINVMSGLEN
    assert r.isms.sent == []


async def test_a_destination_that_is_not_a_number_is_refused_rinvdstadr_without_calling_isms() -> (
    None
):
    r = rig()
    response = await r.submit(submit_sm(destination_addr="not-a-phone"))
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert r.isms.sent == []


async def test_a_national_destination_gets_the_configured_country_code() -> None:
    r = rig(settings=PipelineSettings(numbers=NumberRules(default_country_code="65")))
    await r.submit(submit_sm(destination_addr="0123456789", dest_addr_ton=2))
    assert r.isms.sent[0].destinations == ("65123456789",)


async def test_a_valid_source_addr_becomes_the_sender_id() -> None:
    r = rig()
    await r.submit(submit_sm(source_addr="MyBrand"))
    assert r.isms.sent[0].sender_id == "MyBrand"


async def test_a_source_addr_the_account_does_not_allow_falls_back_to_its_default_sender() -> None:
    route = AccountRoute(
        system_id="esme1",
        credentials=CREDENTIALS,
        default_sender="Bank",
        allowed_sender_ids=("Bank", "61000"),
    )
    r = rig(routes=[route])
    await r.submit(submit_sm(source_addr="Spoofed"))
    assert r.isms.sent[0].sender_id == "Bank"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (-1004, CommandStatus.ESME_RSUBMITFAIL),
        (-1009, CommandStatus.ESME_RINVDSTADR),
        (-1006, CommandStatus.ESME_RINVMSGLEN),
        (-1000, CommandStatus.ESME_RSYSERR),
    ],
)
async def test_an_isms_refusal_is_answered_with_its_mapped_status_and_no_message_id(
    code: int, status: CommandStatus
) -> None:
    r = rig(rejected(code))
    response = await r.submit(submit_sm())
    assert response == SubmitSmResp(sequence_number=7, command_status=status, message_id=None)


async def test_a_status_override_from_config_is_applied() -> None:
    mapping = StatusMapping(overrides={-1004: CommandStatus.ESME_RSYSERR})
    r = rig(rejected(-1004), settings=PipelineSettings(statuses=mapping))
    response = await r.submit(submit_sm())
    assert response.command_status == CommandStatus.ESME_RSYSERR


async def test_type_1_refused_with_minus_1012_is_sent_once_more_as_type_2() -> None:
    r = rig(rejected(-1012), accepted("42"))
    response = await r.submit(submit_sm(b"Hello ~", data_coding=1))
    assert response == SubmitSmResp(sequence_number=7, message_id="42")
    assert [m.sms_type for m in r.isms.sent] == [SmsType.ASCII, SmsType.UNICODE]
    assert r.pipeline.counters.unicode_retries == 1


async def test_minus_1012_on_the_type_2_resend_is_not_resent_again() -> None:
    r = rig(rejected(-1012), rejected(-1012))
    response = await r.submit(submit_sm())
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert len(r.isms.sent) == 2


@pytest.mark.parametrize("configured", [CommandStatus.ESME_RSYSERR, CommandStatus.ESME_RSUBMITFAIL])
async def test_an_unknown_outcome_is_answered_with_the_configured_unknown_outcome_status(
    configured: CommandStatus,
) -> None:
    settings = PipelineSettings(statuses=StatusMapping(unknown_outcome_status=configured))
    r = rig(unknown(), settings=settings)
    response = await r.submit(submit_sm())
    assert response.command_status == configured
    assert len(r.isms.sent) == 1  # never resent: iSMS may already have it


async def test_isms_not_reached_is_answered_rsyserr_so_the_esme_retries() -> None:
    r = rig(not_sent())
    response = await r.submit(submit_sm())
    assert response.command_status == CommandStatus.ESME_RSYSERR


async def test_an_unexpected_exception_answers_rsyserr_for_that_submit_only_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig(RuntimeError("bug"), accepted("77"))
    caplog.set_level(logging.ERROR, logger="bridge.pipeline")
    failed = await r.submit(submit_sm(sequence_number=3))
    after = await r.submit(submit_sm(sequence_number=4))
    assert failed == SubmitSmResp(
        sequence_number=3, command_status=CommandStatus.ESME_RSYSERR, message_id=None
    )
    assert after == SubmitSmResp(sequence_number=4, message_id="77")
    failures = [rec for rec in caplog.records if "pipeline_failed" in rec.getMessage()]
    assert len(failures) == 1 and "session=s1" in failures[0].getMessage()


async def test_a_submit_from_an_account_without_a_route_is_refused_rsubmitfail() -> None:
    r = rig()
    response = await r.submit(submit_sm(), context(system_id="removed"))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.isms.sent == []


async def test_a_reload_adds_an_accounts_route() -> None:
    r = rig()
    r.pipeline.update_routes([ROUTE, AccountRoute(system_id="esme2", credentials=CREDENTIALS)])
    response = await r.submit(submit_sm(), context(system_id="esme2"))
    assert response.command_status == 0


async def test_message_payload_in_a_single_submit_sm_is_sent_as_one_isms_request() -> None:
    r = rig()
    text = "A long notice. " * 20
    response = await r.submit(submit_sm(b"", tlvs=[Tlv(Tag.MESSAGE_PAYLOAD, text.encode())]))
    assert response.command_status == 0
    assert [m.text for m in r.isms.sent] == [text]


async def test_message_payload_together_with_short_message_is_refused_roptparnotallwd() -> None:
    r = rig()
    response = await r.submit(submit_sm(b"x", tlvs=[Tlv(Tag.MESSAGE_PAYLOAD, b"y")]))
    assert response.command_status == CommandStatus.ESME_ROPTPARNOTALLWD
    assert r.isms.sent == []


async def test_data_sm_takes_its_text_from_message_payload_and_gets_data_sm_resp() -> None:
    r = rig(accepted("88"))
    pdu = DataSm(
        sequence_number=9,
        source_addr="MyBrand",
        dest_addr_ton=1,
        destination_addr="60123456789",
        tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"data sm text"),),
    )
    response = await r.submit(pdu)
    assert response == DataSmResp(sequence_number=9, message_id="88")
    assert r.isms.sent[0].text == "data sm text"


async def test_data_sm_without_message_payload_is_refused_rmissingoptparam() -> None:
    r = rig()
    response = await r.submit(DataSm(destination_addr="60123456789"))
    assert response == DataSmResp(
        command_status=CommandStatus.ESME_RMISSINGOPTPARAM, message_id=None
    )
    assert r.isms.sent == []


async def test_cancel_sm_is_refused_rcancelfail_because_isms_cannot_recall_a_message() -> None:
    r = rig()
    response = await r.submit(CancelSm(message_id="1171081025"))
    assert response == CancelSmResp(command_status=CommandStatus.ESME_RCANCELFAIL)


async def test_replace_sm_is_refused_rreplacefail_because_isms_cannot_recall_a_message() -> None:
    r = rig()
    response = await r.submit(ReplaceSm(message_id="1171081025", short_message=b"new"))
    assert response == ReplaceSmResp(command_status=CommandStatus.ESME_RREPLACEFAIL)


async def test_query_sm_reports_an_accepted_message_as_accepted_with_its_final_date() -> None:
    r = rig(accepted("555"))
    await r.submit(submit_sm())
    response = await r.submit(QuerySm(message_id="555"))
    assert response == QuerySmResp(
        message_id="555",
        final_date="2611261530000" + "32+",
        message_state=MessageState.ACCEPTED,
        error_code=0,
    )


async def test_query_sm_of_an_unknown_message_id_is_refused_rqueryfail() -> None:
    r = rig()
    response = await r.submit(QuerySm(message_id="nope"))
    assert response == QuerySmResp(command_status=CommandStatus.ESME_RQUERYFAIL, message_id=None)


async def test_query_sm_never_reveals_another_accounts_message() -> None:
    other = AccountRoute(system_id="esme2", credentials=CREDENTIALS)
    r = rig(accepted("555"), routes=[ROUTE, other])
    await r.submit(submit_sm())
    response = await r.submit(QuerySm(message_id="555"), context(system_id="esme2"))
    assert response.command_status == CommandStatus.ESME_RQUERYFAIL


async def test_a_message_payload_long_message_costs_one_token_per_part() -> None:
    r = rig()
    gsm = submit_sm(b"", tlvs=[Tlv(Tag.MESSAGE_PAYLOAD, b"x" * 400)])
    ucs2 = submit_sm(b"", data_coding=8, tlvs=[Tlv(Tag.MESSAGE_PAYLOAD, b"\x00x" * 100)])
    assert r.pipeline.parts(gsm) == 3  # 400 septets / 153 per part
    assert r.pipeline.parts(ucs2) == 2  # 200 octets / 134 per part
    assert r.pipeline.parts(submit_sm(b"x" * 160)) == 1


async def test_a_udh_part_costs_one_token_and_a_query_costs_none() -> None:
    r = rig()
    part = submit_sm(bytes([5, 0, 3, 1, 3, 1]) + b"x" * 153, esm_class=0x40)
    assert r.pipeline.parts(part) == 1
    assert r.pipeline.parts(QuerySm(message_id="1")) == 0
    assert r.pipeline.parts(CancelSm(message_id="1")) == 0


async def _until_sent(r: Rig, count: int) -> None:
    for _ in range(100):
        if len(r.isms.sent) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{len(r.isms.sent)} of {count} requests reached iSMS")


def one_destination_multi(text: bytes = b"Hello") -> SubmitMulti:
    address = SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="60123456789")
    return SubmitMulti(
        sequence_number=11, source_addr="MyBrand", dest_addresses=(address,), short_message=text
    )


# Both ways a submit sends: submit_sm in the request's own task, submit_multi in a task per
# batch on the request's behalf. The server's view of them must be the same.
SENDING_SUBMITS: dict[str, Callable[[bytes], Pdu]] = {
    "submit_sm": submit_sm,
    "submit_multi": one_destination_multi,
}
each_sending_submit = pytest.mark.parametrize(
    "make", SENDING_SUBMITS.values(), ids=SENDING_SUBMITS.keys()
)


@each_sending_submit
async def test_a_submit_must_be_finished_while_its_isms_request_is_in_flight(
    make: Callable[[bytes], Pdu],
) -> None:
    # The server cancels a departed ESME's requests but these: iSMS may have the message.
    r = rig(accepted("991"))
    r.isms.hold()
    task = asyncio.ensure_future(r.submit(make(b"Hello")))
    await r.isms.reached.wait()
    assert r.pipeline.must_finish(task)
    r.isms.release()
    response = await task
    assert response.message_id == "991"
    assert not r.pipeline.must_finish(task)


async def test_a_submit_finished_for_an_esme_that_left_keeps_its_record_for_query_sm() -> None:
    r = rig(accepted("991"))
    r.isms.hold()
    task = asyncio.ensure_future(r.submit(submit_sm()))
    await r.isms.reached.wait()
    r.isms.release()  # the server left the task to finish; its answer goes to no one
    await task
    found = await r.submit(QuerySm(message_id="991"))
    assert found.command_status == CommandStatus.ESME_ROK


@each_sending_submit
async def test_a_submit_still_waiting_for_a_slot_may_be_cancelled_and_sends_nothing(
    make: Callable[[bytes], Pdu],
) -> None:
    r = rig(settings=PipelineSettings(upstream_concurrency=1))
    r.isms.hold()
    first = asyncio.ensure_future(r.submit(submit_sm(b"first")))
    waiting = asyncio.ensure_future(r.submit(make(b"waiting")))
    await _until_sent(r, 1)
    assert not r.pipeline.must_finish(waiting)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    r.isms.release()
    await first
    assert [m.text for m in r.isms.sent] == ["first"]
    assert r.pipeline.slots.in_flight("isms") == 0


async def test_closing_the_pipeline_waits_for_a_submit_whose_request_is_in_flight() -> None:
    r = rig(accepted("991"))
    r.isms.hold()
    task = asyncio.ensure_future(r.submit(submit_sm()))
    await r.isms.reached.wait()
    closing = asyncio.ensure_future(r.pipeline.aclose())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not closing.done()
    r.isms.release()
    await closing
    assert task.done() and task.result().message_id == "991"
    assert len(r.isms.sent) == 1
