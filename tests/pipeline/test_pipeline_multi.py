"""MessagePipeline: submit_multi (SMPP 3.4 §4.5) in iSMS batches, failures per destination."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.pdu import (
    CommandStatus,
    DistributionList,
    QuerySm,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    Tag,
    Tlv,
    UnsuccessSme,
)
from bridge.pipeline import PipelineSettings, StatusMapping

from .pipeline_doubles import accepted, receipt_text, rejected, rig, udh_part

ROK = CommandStatus.ESME_ROK


def sme(address: str) -> SmeAddress:
    return SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=address)


def submit_multi(*destinations: SmeAddress | DistributionList, **fields: object) -> SubmitMulti:
    values: dict[str, object] = {"short_message": b"To all of you", **fields}
    return SubmitMulti(
        sequence_number=11,
        source_addr="MyBrand",
        dest_addresses=destinations,
        **values,  # type: ignore[arg-type]
    )


NUMBERS = [f"6012000{i:04d}" for i in range(7)]
IN_PAIRS = PipelineSettings(max_destinations_per_request=2)


def four_destinations() -> SubmitMulti:
    """Two batches under IN_PAIRS: NUMBERS[0:2] and NUMBERS[2:4]."""
    return submit_multi(*(sme(n) for n in NUMBERS[:4]))


def failures(response: SubmitMultiResp) -> list[tuple[str, int]]:
    return [(u.destination_addr, u.error_status_code) for u in response.unsuccess_sme]


async def test_destinations_within_one_batch_go_in_one_isms_request() -> None:
    r = rig(accepted("700"))
    response = await r.submit(submit_multi(*(sme(n) for n in NUMBERS[:3])))
    assert response == SubmitMultiResp(message_id="700", unsuccess_sme=())
    assert [m.destinations for m in r.isms.sent] == [tuple(NUMBERS[:3])]


async def test_destinations_are_batched_by_max_destinations_per_request_in_order() -> None:
    r = rig(settings=PipelineSettings(max_destinations_per_request=3))
    await r.submit(submit_multi(*(sme(n) for n in NUMBERS)))
    assert [m.destinations for m in r.isms.sent] == [
        tuple(NUMBERS[0:3]),
        tuple(NUMBERS[3:6]),
        tuple(NUMBERS[6:7]),
    ]


async def test_the_message_id_is_the_first_batchs_trx_id() -> None:
    r = rig(accepted("701"), accepted("702"), settings=IN_PAIRS)
    response = await r.submit(four_destinations())
    assert response.message_id == "701"


async def test_an_invalid_destination_is_listed_in_unsuccess_sme_and_the_others_still_go() -> None:
    r = rig(accepted("703"))
    bad = SmeAddress(dest_addr_ton=5, dest_addr_npi=0, destination_addr="ALPHA")
    response = await r.submit(submit_multi(sme(NUMBERS[0]), bad, sme(NUMBERS[1])))
    assert response == SubmitMultiResp(
        message_id="703",
        unsuccess_sme=(
            UnsuccessSme(
                dest_addr_ton=5,
                dest_addr_npi=0,
                destination_addr="ALPHA",
                error_status_code=CommandStatus.ESME_RINVDSTADR,
            ),
        ),
    )
    assert [m.destinations for m in r.isms.sent] == [(NUMBERS[0], NUMBERS[1])]


async def test_a_distribution_list_is_refused_rcntsubdl_for_that_destination_only() -> None:
    r = rig(accepted("704"))
    response = await r.submit(submit_multi(DistributionList(dl_name="staff"), sme(NUMBERS[0])))
    assert response.command_status == ROK
    assert response.unsuccess_sme == (
        UnsuccessSme(destination_addr="staff", error_status_code=CommandStatus.ESME_RCNTSUBDL),
    )


async def test_a_batch_isms_refuses_lists_each_of_its_destinations_with_that_status() -> None:
    r = rig(accepted("705"), rejected(-1004), settings=IN_PAIRS)
    response = await r.submit(four_destinations())
    assert response.command_status == ROK and response.message_id == "705"
    assert failures(response) == [
        (NUMBERS[2], CommandStatus.ESME_RSUBMITFAIL),
        (NUMBERS[3], CommandStatus.ESME_RSUBMITFAIL),
    ]


async def test_a_batch_that_raises_fails_its_own_destinations_and_the_others_stay_accepted() -> (
    None
):
    r = rig(accepted("709"), RuntimeError("a bug below the pipeline"), settings=IN_PAIRS)
    response = await r.submit(four_destinations())
    assert response.command_status == ROK and response.message_id == "709"
    assert failures(response) == [
        (NUMBERS[2], CommandStatus.ESME_RSYSERR),
        (NUMBERS[3], CommandStatus.ESME_RSYSERR),
    ]


async def test_a_batch_that_raises_fails_with_the_configured_unknown_outcome_status() -> None:
    # It may have reached iSMS: it is an unknown outcome, answered as the operator chose.
    settings = PipelineSettings(
        max_destinations_per_request=2,
        statuses=StatusMapping(unknown_outcome_status=CommandStatus.ESME_RSUBMITFAIL),
    )
    r = rig(RuntimeError("a bug below the pipeline"), accepted("710"), settings=settings)
    response = await r.submit(four_destinations())
    assert response.command_status == ROK and response.message_id == "710"
    assert failures(response) == [
        (NUMBERS[0], CommandStatus.ESME_RSUBMITFAIL),
        (NUMBERS[1], CommandStatus.ESME_RSUBMITFAIL),
    ]


async def test_a_batch_that_raises_is_logged_once_with_its_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig(accepted("711"), RuntimeError("a bug below the pipeline"), settings=IN_PAIRS)
    caplog.set_level(logging.INFO, logger="bridge")
    await r.submit(four_destinations())
    [line] = [rec.getMessage() for rec in caplog.records if "/batch2" in rec.getMessage()]
    assert "ref=esme1/s1/11/batch2" in line and f"{NUMBERS[2]};{NUMBERS[3]}" in line


async def test_a_batch_cancelled_under_submit_multi_cancels_the_request_instead_of_failing() -> (
    None
):
    r = rig(accepted("712"), asyncio.CancelledError(), settings=IN_PAIRS)
    with pytest.raises(asyncio.CancelledError):
        await r.submit(four_destinations())


async def test_nothing_accepted_answers_the_first_failures_status_with_the_full_list() -> None:
    r = rig(rejected(-1009))
    bad = SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="12")
    response = await r.submit(submit_multi(bad, sme(NUMBERS[0])))
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert [u.destination_addr for u in response.unsuccess_sme] == ["12", NUMBERS[0]]


async def test_every_destination_refused_sends_nothing() -> None:
    r = rig()
    response = await r.submit(submit_multi(DistributionList(dl_name="staff")))
    assert response.command_status == CommandStatus.ESME_RCNTSUBDL
    assert r.isms.sent == []


async def test_a_destination_given_twice_is_sent_once() -> None:
    r = rig()
    response = await r.submit(submit_multi(sme(NUMBERS[0]), sme("+" + NUMBERS[0])))
    assert response.command_status == ROK and response.unsuccess_sme == ()
    assert [m.destinations for m in r.isms.sent] == [(NUMBERS[0],)]


async def test_submit_multi_with_no_destinations_is_refused_rinvnumdests() -> None:
    r = rig()
    response = await r.submit(submit_multi())
    assert response.command_status == CommandStatus.ESME_RINVNUMDESTS


async def test_each_accepted_destination_gets_its_own_receipt() -> None:
    r = rig(
        accepted("706"), rejected(-1009), settings=PipelineSettings(max_destinations_per_request=1)
    )
    await r.submit(submit_multi(sme(NUMBERS[0]), sme(NUMBERS[1]), registered_delivery=1))
    await r.settle()
    assert [(pdu.source_addr, receipt_text(pdu).split()[0]) for pdu in r.receivers.delivered] == [
        (NUMBERS[0], "id:706"),
    ]


async def test_a_submit_multi_receipt_carries_the_submits_user_message_reference() -> None:
    r = rig(accepted("708"))
    umr = Tlv(Tag.USER_MESSAGE_REFERENCE, 4243)
    await r.submit(submit_multi(sme(NUMBERS[0]), registered_delivery=1, tlvs=(umr,)))
    await r.settle()
    [receipt] = r.receivers.delivered
    assert umr in receipt.tlvs and receipt_text(receipt).startswith("id:708 ")


async def test_a_long_submit_multi_is_joined_and_sent_to_every_destination() -> None:
    r = rig(accepted("707"))
    first = udh_part(6, 2, 1, b"Hello ")
    second = udh_part(6, 2, 2, b"everyone")
    destinations = (sme(NUMBERS[0]), sme(NUMBERS[1]))
    pending = await r.submit(
        submit_multi(*destinations, esm_class=0x40, short_message=first.short_message)
    )
    done = await r.submit(
        submit_multi(*destinations, esm_class=0x40, short_message=second.short_message)
    )
    assert pending.command_status == ROK and len(pending.message_id) == 18
    assert done.message_id == "707"
    assert [(m.text, m.destinations) for m in r.isms.sent] == [
        ("Hello everyone", (NUMBERS[0], NUMBERS[1]))
    ]


async def test_submit_multi_costs_its_parts_times_its_destinations() -> None:
    r = rig()
    assert r.pipeline.parts(submit_multi(sme(NUMBERS[0]), sme(NUMBERS[1]), sme(NUMBERS[2]))) == 3


async def test_an_expired_long_submit_multi_reports_each_destination_with_its_own_ton_and_npi() -> (
    None
):
    r = rig()
    international = SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=NUMBERS[0])
    national = SmeAddress(dest_addr_ton=2, dest_addr_npi=8, destination_addr="0123000001")
    first = udh_part(9, 2, 1, b"Hello ")
    await r.submit(
        submit_multi(
            international,
            national,
            esm_class=0x40,
            short_message=first.short_message,
            registered_delivery=1,
        )
    )
    await r.advance(3600)
    await r.settle()
    assert sorted(
        (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) for pdu in r.receivers.delivered
    ) == [("0123000001", 2, 8), (NUMBERS[0], 1, 1)]
    assert all("stat:EXPIRED" in receipt_text(pdu) for pdu in r.receivers.delivered)


async def test_a_submit_multi_finished_for_an_esme_that_left_keeps_its_record() -> None:
    settings = PipelineSettings(max_destinations_per_request=1, upstream_concurrency=1)
    r = rig(accepted("991"), accepted("992"), settings=settings)
    r.isms.hold()
    task = asyncio.ensure_future(r.submit(submit_multi(sme(NUMBERS[0]), sme(NUMBERS[1]))))
    await r.isms.reached.wait()  # the first batch is at iSMS, the second waits for the slot
    assert r.pipeline.must_finish(task)
    r.isms.release()  # the server left the task to finish; its answer goes to no one
    await task
    assert len(r.isms.sent) == 2  # the whole message, not cut between its batches
    found = await r.submit(QuerySm(message_id="991"))
    assert found.command_status == CommandStatus.ESME_ROK


async def test_a_batch_in_flight_whose_request_is_cancelled_anyway_still_ends_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A submit_multi's batches run in tasks of their own, which cancelling the request's task
    # (a forced stop does) does not reach once they are sent.
    r = rig(accepted("991"))
    r.isms.hold()
    caplog.set_level(logging.WARNING, logger="bridge.pipeline")
    task = asyncio.ensure_future(r.submit(submit_multi(sme(NUMBERS[0]))))
    await r.isms.reached.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    r.isms.release()
    await r.pipeline.aclose()  # waits for requests still running
    assert len(r.isms.sent) == 1
    [line] = [rec.getMessage() for rec in caplog.records if "answer_lost" in rec.getMessage()]
    assert "outcome=accepted" in line and "trx_id=991" in line
    assert r.pipeline.slots.in_flight("isms") == 0
