"""Duplicate suppression (policy/duplicates.py): flag, suppress, a resend while the first
is in flight, after an unknown outcome, the explicit key."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bridge.pdu import CommandStatus, SubmitMultiResp, Tag, Tlv
from bridge.pipeline import MESSAGE_KIND, DuplicateRules, decode_record
from bridge.pipeline.policy.duplicates import SENT, UNKNOWN, Duplicates, pending
from bridge.state import MemoryState, Record

from ..pipeline_doubles import (
    Rig,
    accepted,
    not_sent,
    receipt_text,
    rig,
    submit_sm,
    udh_part,
    unknown,
)
from .policy_rig import route, submit_multi

SUPPRESS = DuplicateRules(mode="suppress", window_s=600.0)


def dup_rig(*answers: object, **rules: object) -> Rig:
    duplicates = DuplicateRules(**{"mode": "suppress", "window_s": 600.0, **rules})  # type: ignore[arg-type]
    return rig(*answers, routes=[route(duplicates=duplicates)])  # type: ignore[arg-type]


async def records(r: Rig) -> list[object]:
    found = await r.pipeline.state.scan_records(MESSAGE_KIND, now=r.clock.now)
    return [decode_record(stored.value) for stored in found]


async def test_a_resend_within_the_window_gets_the_first_message_id_and_nothing_is_sent() -> None:
    r = dup_rig(accepted("1171081025"))
    first = await r.submit(submit_sm(b"Your code is 1234", sequence_number=1))
    second = await r.submit(submit_sm(b"Your code is 1234", sequence_number=2))
    assert first.message_id == second.message_id == "1171081025"
    assert second.command_status == CommandStatus.ESME_ROK
    assert len(r.isms.sent) == 1
    assert r.pipeline.counters.duplicates[("esme1", "suppressed")] == 1
    resend = [rec for rec in await records(r) if rec.duplicate]  # type: ignore[attr-defined]
    assert [(rec.duplicate, rec.duplicate_of) for rec in resend] == [  # type: ignore[attr-defined]
        ("suppressed", "1171081025")
    ]


async def test_another_text_destination_or_source_is_no_duplicate() -> None:
    r = dup_rig()
    await r.submit(submit_sm(b"A"))
    await r.submit(submit_sm(b"B"))
    await r.submit(submit_sm(b"A", destination_addr="60199999999"))
    await r.submit(submit_sm(b"A", source_addr="Other"))
    assert len(r.isms.sent) == 4


async def test_a_suppressed_resend_gets_the_receipt_it_asks_for_again() -> None:
    r = dup_rig(accepted("1171081025"))
    await r.submit(submit_sm(b"Hi", registered_delivery=1, sequence_number=1))
    await r.submit(submit_sm(b"Hi", registered_delivery=1, sequence_number=2))
    await r.settle()
    texts = [receipt_text(pdu) for pdu in r.receivers.delivered]
    assert len(texts) == 2 and all("id:1171081025" in t and "stat:ACCEPTD" in t for t in texts)


async def test_a_resend_while_the_first_is_in_flight_waits_for_its_result() -> None:
    r = dup_rig(accepted("555"))
    r.isms.hold()
    first = asyncio.create_task(r.submit(submit_sm(b"Hi", sequence_number=1)))
    await r.isms.reached.wait()
    second = asyncio.create_task(r.submit(submit_sm(b"Hi", sequence_number=2)))
    await asyncio.sleep(0.1)
    assert not second.done()
    r.isms.release()
    assert (await first).message_id == (await second).message_id == "555"
    assert len(r.isms.sent) == 1


async def test_a_resend_of_a_message_isms_never_got_is_sent() -> None:
    r = dup_rig(not_sent(), accepted("777"))
    first = await r.submit(submit_sm(b"Hi"))
    second = await r.submit(submit_sm(b"Hi"))
    assert first.command_status != CommandStatus.ESME_ROK
    assert second.message_id == "777"
    assert len(r.isms.sent) == 2


async def test_after_an_unknown_outcome_send_again_sends_the_resend() -> None:
    r = dup_rig(unknown(), accepted("888"), after_unknown="send_again")
    await r.submit(submit_sm(b"Hi"))
    second = await r.submit(submit_sm(b"Hi"))
    assert second.message_id == "888" and len(r.isms.sent) == 2
    assert r.pipeline.counters.duplicates[("esme1", "sent_again")] == 1


async def test_after_an_unknown_outcome_assume_sent_answers_rok_and_sends_nothing() -> None:
    r = dup_rig(unknown(), after_unknown="assume_sent")
    first = await r.submit(submit_sm(b"Hi", registered_delivery=1))
    second = await r.submit(submit_sm(b"Hi", registered_delivery=1))
    third = await r.submit(submit_sm(b"Hi"))
    assert first.command_status == CommandStatus.ESME_RSYSERR
    assert second.command_status == CommandStatus.ESME_ROK
    assert third.message_id == second.message_id  # later resends get the same id
    assert len(r.isms.sent) == 1
    await r.settle()
    assert ["stat:UNKNOWN" in receipt_text(pdu) for pdu in r.receivers.delivered] == [True]
    assert r.pipeline.counters.duplicates[("esme1", "assumed_sent")] == 1


async def test_flag_sends_the_resend_and_counts_it() -> None:
    r = dup_rig(accepted("1"), accepted("2"), mode="flag")
    await r.submit(submit_sm(b"Hi"))
    second = await r.submit(submit_sm(b"Hi"))
    assert second.message_id == "2" and len(r.isms.sent) == 2
    assert r.pipeline.counters.duplicates[("esme1", "flagged")] == 1
    flagged = [rec for rec in await records(r) if rec.duplicate]  # type: ignore[attr-defined]
    assert [(rec.duplicate, rec.duplicate_of) for rec in flagged] == [("flagged", "1")]  # type: ignore[attr-defined]


async def test_past_the_window_a_resend_is_sent_again() -> None:
    r = dup_rig(window_s=60.0)
    await r.submit(submit_sm(b"Hi"))
    r.clock.now += 61
    await r.submit(submit_sm(b"Hi"))
    assert len(r.isms.sent) == 2


async def test_user_message_reference_as_the_key_knows_a_resend_by_it_alone() -> None:
    r = dup_rig(accepted("42"), key="user_message_reference")
    umr = Tlv(Tag.USER_MESSAGE_REFERENCE, 17)
    await r.submit(submit_sm(b"Hi", tlvs=[umr]))
    second = await r.submit(submit_sm(b"Hi again", tlvs=[umr]))
    third = await r.submit(submit_sm(b"Hi again"))  # no key: its content is
    assert second.message_id == "42"
    assert len(r.isms.sent) == 2 and third.command_status == CommandStatus.ESME_ROK


async def test_a_suppressed_submit_multi_resend_lists_the_firsts_failed_destinations() -> None:
    r = dup_rig(accepted("9"))
    r.isms.script.clear()
    first = await r.submit(submit_multi("60120000001", "60120000002"))
    second = await r.submit(submit_multi("60120000001", "60120000002"))
    assert isinstance(second, SubmitMultiResp) and isinstance(first, SubmitMultiResp)
    assert second.message_id == first.message_id and second.unsuccess_sme == first.unsuccess_sme
    assert len(r.isms.sent) == 1


async def send_long(r: Rig, reference: int, **fields: object) -> list[object]:
    parts = (b"The first part, ", b"the second part, ", b"and the last one.")
    return [
        await r.submit(
            udh_part(reference, 3, n, payload, sequence_number=10 * reference + n, **fields)
        )
        for n, payload in enumerate(parts, start=1)
    ]


async def test_a_long_message_resent_in_new_parts_gets_the_first_message_id_and_is_not_sent() -> (
    None
):
    r = dup_rig(accepted("777"))
    first = await send_long(r, reference=1)
    await r.advance(300.0)  # its reassembly is long over; the duplicate window is not
    again = await send_long(r, reference=2)  # split again, as ESMEs do: a new reference
    assert first[-1].message_id == again[-1].message_id == "777"
    assert all(answer.command_status == CommandStatus.ESME_ROK for answer in again)
    assert len(r.isms.sent) == 1
    assert r.pipeline.counters.duplicates[("esme1", "suppressed")] == 1
    # Its completing part resent (its answer lost) gets that answer again.
    last = udh_part(2, 3, 3, b"and the last one.", sequence_number=99)
    assert (await r.submit(last)).message_id == "777"
    assert len(r.isms.sent) == 1


async def test_a_suppressed_long_messages_parts_get_their_receipts_with_the_firsts_state() -> None:
    r = dup_rig(accepted("777"))
    await send_long(r, reference=1, registered_delivery=1)
    await r.settle()
    r.receivers.delivered.clear()
    await r.advance(300.0)
    again = await send_long(r, reference=2, registered_delivery=1)
    await r.settle()
    texts = [receipt_text(pdu) for pdu in r.receivers.delivered]
    ids = {answer.message_id for answer in again}
    assert len(r.isms.sent) == 1  # the receipts are the first's, nothing sent again
    assert len(texts) == 3 and all("stat:ACCEPTD" in t for t in texts)
    assert {t.split()[0].removeprefix("id:") for t in texts} == ids


async def test_a_long_message_with_another_text_or_part_count_is_no_duplicate() -> None:
    r = dup_rig()
    await send_long(r, reference=1)
    await r.advance(300.0)
    parts = (b"The first part, ", b"the second part, and the last one.")
    for n, payload in enumerate(parts, start=1):
        await r.submit(udh_part(5, 2, n, payload, sequence_number=50 + n))
    assert len(r.isms.sent) == 2


def test_a_first_submits_claim_reads_back_as_pending_with_its_reference_and_time() -> None:
    books = Duplicates(MemoryState(), clock=lambda: 5.0)
    write = books.claim_write("esme1", "fp", SUPPRESS, "esme1/s1/7", 1234.5)
    stored = Record(kind=write.kind, key=write.key, value=write.value, stored_at=0, expires_at=1)
    assert Duplicates.earlier_of(stored) == pending("esme1/s1/7", 1234.5)


async def left_pending(store: MemoryState, owner: str) -> Record:
    books = Duplicates(store, clock=lambda: 5.0, owner=owner)
    write = books.claim_write("esme1", "fp", SUPPRESS, "esme1/s1/7", 5.0)
    await store.put_record(
        write.kind, write.key, write.value, now=5.0, expires_at=write.expires_at, max_records=9
    )
    found = await store.get_record(write.kind, write.key, now=5.0)
    assert found is not None
    return found


async def test_on_a_store_of_its_own_a_claim_an_earlier_run_left_pending_is_unknown_at_once() -> (
    None
):
    store, naps = MemoryState(), []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    claim = await left_pending(store, owner="host:41:aa")
    books = Duplicates(store, clock=lambda: 6.0, sleep=nap, owner="host:97:bb", alone=True)
    settled = await books.settled_of("esme1", "fp", Duplicates.earlier_of(claim))
    assert settled is not None and settled.state == UNKNOWN and naps == []


async def test_on_a_shared_store_a_claim_another_instance_holds_pending_is_waited_for() -> None:
    store = MemoryState()
    claim = await left_pending(store, owner="host-a:41:aa")
    first = Duplicates(store, clock=lambda: 6.0, owner="host-a:41:aa")

    async def nap(_seconds: float) -> None:  # meanwhile the other instance settles it
        earlier = Duplicates.earlier_of(claim)
        await first.settle("esme1", "fp", SUPPRESS, replace(earlier, state=SENT, message_id="9"))

    books = Duplicates(store, clock=lambda: 6.0, sleep=nap, owner="host-b:97:bb", alone=False)
    settled = await books.settled_of("esme1", "fp", Duplicates.earlier_of(claim))
    assert settled is not None and (settled.state, settled.message_id) == (SENT, "9")
