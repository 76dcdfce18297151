"""MessagePipeline: long messages become ONE iSMS request (SMPP 3.4 §5.3.2.22-24)."""

from __future__ import annotations

from bridge.pdu import CommandStatus, QuerySm, SubmitSmResp
from bridge.pipeline import MessageState, PipelineSettings, ReassemblyLimits
from bridge.upstream import SmsType

from .pipeline_doubles import (
    accepted,
    not_sent,
    receipt_text,
    rejected,
    rig,
    sar_part,
    udh16_part,
    udh_part,
)

PART1 = b"The first part of a long message, "
PART2 = b"and the second one."


async def test_a_non_final_part_is_answered_at_once_with_its_own_id_and_nothing_is_sent() -> None:
    r = rig()
    response = await r.submit(udh_part(7, 2, 1, PART1))
    assert response.command_status == 0 and len(response.message_id) == 18
    assert r.isms.sent == []


async def test_the_completing_part_sends_the_joined_text_in_one_request_and_gets_the_trx_id() -> (
    None
):
    r = rig(accepted("900"))
    await r.submit(udh_part(7, 2, 1, PART1))
    response = await r.submit(udh_part(7, 2, 2, PART2))
    assert response == SubmitSmResp(sequence_number=7, message_id="900")
    assert [m.text for m in r.isms.sent] == [(PART1 + PART2).decode()]


async def test_parts_arriving_out_of_order_are_joined_in_part_order() -> None:
    r = rig()
    for seqnum, chunk in ((3, b"three"), (1, b"one "), (2, b"two ")):
        await r.submit(udh_part(9, 3, seqnum, chunk))
    assert [m.text for m in r.isms.sent] == ["one two three"]


async def test_a_duplicated_part_gets_its_first_message_id_again_and_the_text_is_sent_once() -> (
    None
):
    r = rig()
    first = await r.submit(udh_part(7, 2, 1, PART1))
    again = await r.submit(udh_part(7, 2, 1, PART1))
    await r.submit(udh_part(7, 2, 2, PART2))
    assert again.message_id == first.message_id
    assert [m.text for m in r.isms.sent] == [(PART1 + PART2).decode()]


async def test_a_gsm7_escape_pair_split_between_parts_decodes_to_one_euro_sign() -> None:
    r = rig()
    await r.submit(udh_part(1, 2, 1, b"Price 5\x1b"))
    await r.submit(udh_part(1, 2, 2, b"\x65 only"))
    assert [(m.text, m.sms_type) for m in r.isms.sent] == [("Price 5€ only", SmsType.UNICODE)]


async def test_a_surrogate_pair_split_between_ucs2_parts_decodes_to_the_emoji() -> None:
    octets = "ok 😀!".encode("utf-16-be")
    r = rig()
    await r.submit(udh_part(2, 2, 1, octets[:7], data_coding=8))
    await r.submit(udh_part(2, 2, 2, octets[7:], data_coding=8))
    assert [m.text for m in r.isms.sent] == ["ok 😀!"]


async def test_parts_with_a_16_bit_reference_are_joined() -> None:
    r = rig()
    await r.submit(udh16_part(0xBEEF, 2, 1, PART1))
    await r.submit(udh16_part(0xBEEF, 2, 2, PART2))
    assert [m.text for m in r.isms.sent] == [(PART1 + PART2).decode()]


async def test_parts_with_sar_tlvs_are_joined() -> None:
    r = rig()
    await r.submit(sar_part(300, 2, 2, PART2))
    await r.submit(sar_part(300, 2, 1, PART1))
    assert [m.text for m in r.isms.sent] == [(PART1 + PART2).decode()]


async def test_two_messages_sharing_a_reference_but_not_a_destination_stay_apart() -> None:
    r = rig()
    await r.submit(udh_part(5, 2, 1, b"A1 ", destination_addr="60111111111"))
    await r.submit(udh_part(5, 2, 1, b"B1 ", destination_addr="60122222222"))
    await r.submit(udh_part(5, 2, 2, b"A2", destination_addr="60111111111"))
    await r.submit(udh_part(5, 2, 2, b"B2", destination_addr="60122222222"))
    assert [(m.text, m.destinations) for m in r.isms.sent] == [
        ("A1 A2", ("60111111111",)),
        ("B1 B2", ("60122222222",)),
    ]


async def test_a_joined_text_over_the_maximum_refuses_the_completing_part_rinvmsglen() -> None:
    r = rig()
    await r.submit(udh_part(4, 5, 1, b"x" * 153))
    for seqnum in (2, 3, 4):
        await r.submit(udh_part(4, 5, seqnum, b"x" * 153))
    response = await r.submit(udh_part(4, 5, 5, b"x" * 153))
    assert response == SubmitSmResp(
        sequence_number=7, command_status=CommandStatus.ESME_RINVMSGLEN, message_id=None
    )
    assert r.isms.sent == []


async def test_earlier_parts_of_an_over_length_message_get_rejected_receipts() -> None:
    r = rig()
    first = await r.submit(udh_part(4, 5, 1, b"x" * 153, registered_delivery=1))
    for seqnum in (2, 3, 4, 5):
        await r.submit(udh_part(4, 5, seqnum, b"x" * 153, registered_delivery=1))
    await r.settle()
    texts = [receipt_text(pdu) for pdu in r.receivers.delivered]
    assert len(texts) == 4
    assert texts[0].startswith(f"id:{first.message_id} sub:001 dlvrd:000")
    assert all("stat:REJECTD err:251" in text for text in texts)


async def test_an_incomplete_message_expires_with_a_failure_receipt_when_one_was_asked_for() -> (
    None
):
    limits = ReassemblyLimits(timeout=60.0)
    r = rig(settings=PipelineSettings(reassembly=limits))
    first = await r.submit(udh_part(3, 2, 1, PART1, registered_delivery=1))
    await r.advance(59.0)
    assert r.pipeline.counters.reassembly_expired == 0
    await r.advance(1.0)
    await r.settle()
    assert r.pipeline.counters.reassembly_expired == 1
    assert r.isms.sent == []
    [receipt] = r.receivers.delivered
    assert receipt_text(receipt).startswith(f"id:{first.message_id} ")
    assert "stat:EXPIRED err:250" in receipt_text(receipt)


async def test_an_expired_message_whose_parts_asked_for_no_receipt_sends_none() -> None:
    r = rig(settings=PipelineSettings(reassembly=ReassemblyLimits(timeout=10.0)))
    await r.submit(udh_part(3, 2, 1, PART1))
    await r.advance(10.0)
    await r.settle()
    assert r.receivers.attempts == []


async def test_a_late_part_after_expiry_starts_a_new_message() -> None:
    r = rig(settings=PipelineSettings(reassembly=ReassemblyLimits(timeout=10.0)))
    await r.submit(udh_part(3, 2, 1, PART1))
    await r.advance(10.0)
    response = await r.submit(udh_part(3, 2, 2, PART2))
    assert response.command_status == 0
    assert r.isms.sent == []


async def test_query_sm_of_a_non_final_part_says_enroute_until_the_message_is_sent() -> None:
    r = rig(accepted("901"))
    first = await r.submit(udh_part(7, 2, 1, PART1))
    before = await r.submit(QuerySm(message_id=first.message_id))
    await r.submit(udh_part(7, 2, 2, PART2))
    after = await r.submit(QuerySm(message_id=first.message_id))
    assert (before.message_state, before.final_date) == (MessageState.ENROUTE, "")
    assert after.message_state == MessageState.ACCEPTED and after.final_date


async def test_every_part_that_asked_gets_an_accepted_receipt_with_its_own_message_id() -> None:
    r = rig(accepted("902"))
    first = await r.submit(udh_part(7, 2, 1, PART1, registered_delivery=1))
    await r.submit(udh_part(7, 2, 2, PART2, registered_delivery=1))
    await r.settle()
    ids = [receipt_text(pdu).split()[0] for pdu in r.receivers.delivered]
    assert ids == [f"id:{first.message_id}", "id:902"]


async def test_too_many_incomplete_long_messages_for_an_account_are_refused_rmsgqful() -> None:
    limits = ReassemblyLimits(max_pending_per_account=2)
    r = rig(settings=PipelineSettings(reassembly=limits))
    await r.submit(udh_part(1, 2, 1, PART1))
    await r.submit(udh_part(2, 2, 1, PART1))
    response = await r.submit(udh_part(3, 2, 1, PART1))
    assert response.command_status == CommandStatus.ESME_RMSGQFUL


async def test_a_part_with_a_binary_data_coding_is_refused_before_it_is_taken() -> None:
    r = rig()
    response = await r.submit(udh_part(1, 2, 1, PART1, data_coding=4))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert await r.pipeline.long.reassembly.counts() == (0, 0)


async def test_a_completing_part_answered_rsyserr_is_sent_whole_when_the_esme_retries_it() -> None:
    r = rig(not_sent(), accepted("903"))
    first = await r.submit(udh_part(7, 2, 1, PART1))
    failed = await r.submit(udh_part(7, 2, 2, PART2))
    retried = await r.submit(udh_part(7, 2, 2, PART2))
    assert failed.command_status == CommandStatus.ESME_RSYSERR
    assert retried == SubmitSmResp(sequence_number=7, message_id="903")
    assert [m.text for m in r.isms.sent] == [(PART1 + PART2).decode()] * 2
    query = await r.submit(QuerySm(message_id=first.message_id))
    assert query.message_state == MessageState.ACCEPTED


async def test_a_message_kept_for_a_retry_that_never_comes_is_settled_at_its_deadline() -> None:
    r = rig(not_sent(), settings=PipelineSettings(reassembly=ReassemblyLimits(timeout=30.0)))
    first = await r.submit(udh_part(7, 2, 1, PART1, registered_delivery=1))
    await r.submit(udh_part(7, 2, 2, PART2, registered_delivery=1))
    await r.settle()
    assert r.receivers.attempts == []  # not final yet: a retry may still come
    await r.advance(30.0)
    await r.settle()
    [receipt] = r.receivers.delivered
    assert receipt_text(receipt).startswith(f"id:{first.message_id} ")
    assert "stat:UNDELIV err:255" in receipt_text(receipt)


async def test_a_completing_part_refused_for_good_rejects_the_earlier_parts_at_once() -> None:
    r = rig(rejected(-1004))
    first = await r.submit(udh_part(7, 2, 1, PART1, registered_delivery=2))
    response = await r.submit(udh_part(7, 2, 2, PART2, registered_delivery=2))
    await r.settle()
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    [receipt] = r.receivers.delivered
    assert receipt_text(receipt).startswith(f"id:{first.message_id} ")
    assert "stat:REJECTD err:004" in receipt_text(receipt)


async def test_a_udh_saying_part_1_of_1_is_an_ordinary_message() -> None:
    r = rig(accepted("904"))
    response = await r.submit(udh_part(8, 1, 1, b"just one"))
    assert response == SubmitSmResp(sequence_number=7, message_id="904")
    assert [m.text for m in r.isms.sent] == ["just one"]
