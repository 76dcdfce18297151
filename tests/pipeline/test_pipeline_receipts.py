"""MessagePipeline: delivery receipts (SMPP 3.4 Appendix B and §5.2.17)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque

import pytest

from bridge.pdu import CommandStatus, DeliverSm, Pdu, Tag, Tlv, encode
from bridge.pipeline import (
    RECEIPT_KIND,
    AccountRoute,
    MessageState,
    PipelineSettings,
    ReceiptSettings,
)
from bridge.smpp import BindType
from bridge.state import MemoryState

from .pipeline_doubles import (
    CREDENTIALS,
    FakeReceivers,
    Rig,
    accepted,
    context,
    receipt_text,
    rejected,
    rig,
    submit_sm,
)


async def test_an_accepted_message_gets_an_acceptd_receipt_with_state_6_and_swapped_addresses() -> (
    None
):
    r = rig(accepted("1171081025"))
    await r.submit(submit_sm(b"Your code is 123456", registered_delivery=1))
    await r.settle()
    [receipt] = r.receivers.delivered
    assert receipt_text(receipt) == (
        "id:1171081025 sub:001 dlvrd:000 submit date:2611261530 done date:2611261530 "
        "stat:ACCEPTD err:000 text:Your code is 123456"
    )
    assert receipt.esm_class == 0x04
    assert (receipt.source_addr, receipt.destination_addr) == ("60123456789", "MyBrand")
    assert receipt.tlvs == (
        Tlv(Tag.RECEIPTED_MESSAGE_ID, "1171081025"),
        Tlv(Tag.MESSAGE_STATE, MessageState.ACCEPTED),
    )


async def test_an_account_that_opted_in_gets_delivrd_instead_of_acceptd() -> None:
    route = AccountRoute(system_id="esme1", credentials=CREDENTIALS, report_delivered=True)
    r = rig(routes=[route])
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    [receipt] = r.receivers.delivered
    assert "dlvrd:001" in receipt_text(receipt) and "stat:DELIVRD" in receipt_text(receipt)
    assert Tlv(Tag.MESSAGE_STATE, MessageState.DELIVERED) in receipt.tlvs


async def test_the_receipt_carries_the_submits_user_message_reference() -> None:
    r = rig()
    umr = Tlv(Tag.USER_MESSAGE_REFERENCE, 4242)
    await r.submit(submit_sm(registered_delivery=1, tlvs=[umr]))
    await r.settle()
    assert umr in r.receivers.delivered[0].tlvs


async def test_a_receipt_sent_again_on_an_operators_word_is_the_deliver_sm_first_sent() -> None:
    # TON/NPI and user_message_reference come from the message record (version 4).
    r = rig(settings=PipelineSettings(record_text=True))
    umr = Tlv(Tag.USER_MESSAGE_REFERENCE, 4242)
    answer = await r.submit(
        submit_sm(registered_delivery=1, tlvs=[umr], source_addr_ton=5, source_addr_npi=0,
                  dest_addr_ton=1, dest_addr_npi=1)
    )  # fmt: skip
    await r.settle()
    assert await r.pipeline.resend_receipts("esme1", answer.message_id) == 1
    await r.settle()
    first, again = r.receivers.delivered
    # The rig's store clock is not its wall clock, so only the submit date may differ here.
    assert dataclasses.replace(again, short_message=first.short_message) == first
    assert (
        again.short_message.split(b" done date")[1] == first.short_message.split(b" done date")[1]
    )
    assert (again.source_addr_ton, again.source_addr_npi) == (1, 1)  # the original's dest
    assert (again.dest_addr_ton, again.dest_addr_npi) == (5, 0)  # the original's source
    assert umr in again.tlvs


async def test_no_receipt_is_sent_when_registered_delivery_asks_for_none() -> None:
    r = rig()
    await r.submit(submit_sm(registered_delivery=0))
    await r.settle()
    assert r.receivers.attempts == []


async def test_failure_only_receipts_skip_an_accepted_message() -> None:
    r = rig()
    await r.submit(submit_sm(registered_delivery=2))
    await r.settle()
    assert r.receivers.attempts == []


async def test_a_message_refused_at_submit_gets_no_receipt_since_it_has_no_message_id() -> None:
    r = rig(rejected(-1004))
    response = await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.receivers.attempts == []


async def test_a_receipt_is_held_while_no_receiver_is_bound_and_sent_when_one_binds() -> None:
    r = rig(receivers=FakeReceivers(bound=set()))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await r.pipeline.outbox.held("esme1") == 1
    r.receivers.bound.add("esme1")
    r.pipeline.session_bound(context(bind_type=BindType.RECEIVER))
    await r.settle()
    assert len(r.receivers.delivered) == 1
    assert await r.pipeline.outbox.held() == 0


async def test_the_oldest_held_receipt_is_dated_when_it_was_queued_and_none_once_gone() -> None:
    r = rig(accepted("1"), accepted("2"), receivers=FakeReceivers(bound=set()))
    assert await r.pipeline.outbox.oldest_held_at("esme1") is None
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    first_at = r.clock.now
    await r.advance(30.0)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await r.pipeline.outbox.oldest_held_at("esme1") == first_at
    assert await r.pipeline.outbox.oldest_held_at() == first_at
    assert await r.pipeline.outbox.oldest_held_at("esme2") is None
    assert await r.pipeline.outbox.drop_held("esme1") == 2
    assert await r.pipeline.outbox.oldest_held_at("esme1") is None


async def test_a_transmitter_bind_does_not_release_held_receipts() -> None:
    r = rig(receivers=FakeReceivers(bound=set()))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    r.pipeline.session_bound(context(bind_type=BindType.TRANSMITTER))
    await r.settle()
    assert await r.pipeline.outbox.held("esme1") == 1


async def test_held_receipts_go_out_oldest_first_and_new_ones_queue_behind_them() -> None:
    r = rig(accepted("1"), accepted("2"), accepted("3"), receivers=FakeReceivers(bound=set()))
    await r.submit(submit_sm(registered_delivery=1))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    r.receivers.bound.add("esme1")
    await r.submit(submit_sm(registered_delivery=1))  # while two are still held
    r.pipeline.session_bound(context(bind_type=BindType.TRANSCEIVER))
    await r.settle()
    assert [receipt_text(p).split()[0] for p in r.receivers.delivered] == ["id:1", "id:2", "id:3"]


async def test_held_receipts_beyond_the_bound_drop_the_oldest_and_count_it() -> None:
    settings = PipelineSettings(receipts=ReceiptSettings(max_held_per_account=2))
    r = rig(settings=settings, receivers=FakeReceivers(bound=set()))
    for _ in range(3):
        await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await r.pipeline.outbox.held("esme1") == 2
    assert r.pipeline.counters.receipts_dropped == 1


async def test_a_receipt_held_longer_than_its_maximum_age_is_dropped() -> None:
    settings = PipelineSettings(receipts=ReceiptSettings(max_held_age_s=60.0))
    r = rig(settings=settings, receivers=FakeReceivers(bound=set()))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    await r.advance(60.0)
    assert await r.pipeline.outbox.held() == 0
    assert r.pipeline.counters.receipts_dropped == 1


async def test_held_receipts_are_retried_at_the_sweep_when_a_busy_receiver_has_room_again() -> None:
    r = rig(receivers=FakeReceivers(bound=set()))
    r.pipeline.session_bound(context(bind_type=BindType.RECEIVER))  # bound, but no room
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert len(r.receivers.delivered) == 0
    r.receivers.bound.add("esme1")  # it has room again
    await r.advance(1.0)
    await r.settle()
    assert len(r.receivers.delivered) == 1


async def test_an_unconfirmed_receipt_is_sent_again_a_bounded_number_of_times_then_dropped() -> (
    None
):
    receipts = ReceiptSettings(attempts=3, retry_delay_s=0.0)
    receivers = FakeReceivers(script=deque([ConnectionError("no resp")] * 5))
    r = rig(settings=PipelineSettings(receipts=receipts), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert len(r.receivers.attempts) == 3
    assert r.pipeline.counters.receipts_dropped == 1
    assert r.pipeline.counters.receipts_retried == 2


async def test_an_unconfirmed_receipt_confirmed_on_the_second_attempt_is_sent_once_more_only() -> (
    None
):
    receipts = ReceiptSettings(attempts=3, retry_delay_s=0.0)
    receivers = FakeReceivers(script=deque([ConnectionError("no resp")]))
    r = rig(settings=PipelineSettings(receipts=receipts), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert len(r.receivers.attempts) == 2 and len(r.receivers.delivered) == 1


async def test_a_temporary_refusal_of_a_receipt_is_retried() -> None:
    receipts = ReceiptSettings(attempts=2, retry_delay_s=0.0)
    receivers = FakeReceivers(script=deque([CommandStatus.ESME_RTHROTTLED]))
    r = rig(settings=PipelineSettings(receipts=receipts), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert len(r.receivers.delivered) == 1


async def test_a_permanent_refusal_of_a_receipt_is_not_retried() -> None:
    receivers = FakeReceivers(script=deque([CommandStatus.ESME_RX_P_APPN]))
    r = rig(receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert len(r.receivers.attempts) == 1
    assert r.pipeline.counters.receipts_refused == 1


async def test_a_delivery_that_crashes_costs_that_receipt_only_and_is_counted() -> None:
    receivers = FakeReceivers(script=deque([RuntimeError("registry bug")]))
    r = rig(accepted("1"), accepted("2"), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    [receipt] = r.receivers.delivered
    assert "id:2 " in receipt_text(receipt)
    assert r.pipeline.counters.receipts_dropped == 1


async def test_receipts_held_at_stop_are_delivered_by_the_next_pipeline_on_the_same_store() -> None:
    first = rig(receivers=FakeReceivers(bound=set()))
    await first.submit(submit_sm(registered_delivery=1))
    await first.settle()
    await first.pipeline.aclose()
    second = rig(state=first.pipeline.state, clock=first.clock)
    recovered = await second.pipeline.recover()
    second.pipeline.session_bound(context(bind_type=BindType.RECEIVER))
    await second.settle()
    assert recovered.receipts == 1
    assert [receipt_text(p).split()[0] for p in second.receivers.delivered] == ["id:5001"]


async def test_on_the_memory_backend_receipts_held_at_stop_are_logged_as_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig(receivers=FakeReceivers(bound=set()))
    await r.submit(submit_sm(registered_delivery=1))
    await r.pipeline.aclose()
    assert "event=receipts_lost_at_stop held=1" in caplog.text


async def test_a_receipt_sent_but_unconfirmed_at_a_crash_is_due_again_at_the_next_start() -> None:
    state = MemoryState()
    receipt = encode(DeliverSm(short_message=b"id:1 stat:ACCEPTD", esm_class=0x04))
    await state.enqueue("esme1", receipt, now=1000.0, max_entries=10)
    # The crashed process had taken it (sent the deliver_sm), no deliver_sm_resp came back.
    await state.take("esme1", owner="bridge", now=1000.0, lease_s=600.0)
    r = rig(state=state)
    recovered = await r.pipeline.recover()
    await r.settle()
    assert recovered.receipts == 1
    assert [p.short_message for p in r.receivers.delivered] == [b"id:1 stat:ACCEPTD"]


# --- what `isms-bridge messages` shows of a receipt ------------------------------------


async def receipt_fate(r: Rig, message_id: str) -> str | None:
    found = await r.pipeline.state.get_record(RECEIPT_KIND, f"esme1/{message_id}", now=r.clock.now)
    return None if found is None else found.value.decode()


class AnsweringLater(FakeReceivers):
    """A receiver that answers each deliver_sm only once `answer` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        await self.answer.wait()
        return await super().deliver(system_id, pdu)


async def test_a_receipt_the_esme_has_not_answered_yet_is_recorded_as_sent() -> None:
    receivers = AnsweringLater()
    r = rig(accepted("11"), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "11") == "sent"
    receivers.answer.set()
    await r.settle()
    assert await receipt_fate(r, "11") == "confirmed"


async def test_a_receipt_confirmed_with_esme_rok_is_recorded_as_confirmed() -> None:
    r = rig(accepted("12"))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "12") == "confirmed"


async def test_a_receipt_refused_for_good_is_recorded_as_refused() -> None:
    r = rig(accepted("13"), receivers=FakeReceivers(script=deque([CommandStatus.ESME_RX_P_APPN])))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "13") == "refused"


async def test_a_receipt_waiting_for_its_next_attempt_is_recorded_as_held_again() -> None:
    receipts = ReceiptSettings(attempts=3, retry_delay_s=60.0)
    receivers = FakeReceivers(script=deque([CommandStatus.ESME_RTHROTTLED]))
    r = rig(accepted("14"), settings=PipelineSettings(receipts=receipts), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "14") == "held"
    await r.advance(60.0)
    await r.settle()
    assert await receipt_fate(r, "14") == "confirmed"


async def test_a_receipt_no_receiver_could_take_is_recorded_as_held_again() -> None:
    # A receiver with room in its window that cannot take it after all (it began unbinding).
    r = rig(accepted("15"), receivers=FakeReceivers(script=deque([LookupError("unbinding")])))
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "15") == "held"


async def test_a_receipt_out_of_attempts_is_recorded_as_dropped() -> None:
    receipts = ReceiptSettings(attempts=2, retry_delay_s=0.0)
    receivers = FakeReceivers(script=deque([ConnectionError("no resp")] * 2))
    r = rig(accepted("16"), settings=PipelineSettings(receipts=receipts), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.settle()
    assert await receipt_fate(r, "16") == "dropped"


# --- the sliding window (outcome/receipt_outbox.py rule 6) --------------------------------


class HeldReceivers(FakeReceivers):
    """Receivers with a window of `window`: a deliver_sm whose message_id is in `silent`
    is never answered; the others are answered when `answer` is set (at once by default)."""

    def __init__(self, window: int, silent: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.window = window
        self.silent = silent
        self.answer = asyncio.Event()
        self.answer.set()
        self.in_flight = 0
        self.most_in_flight = 0

    def delivery_window(self, system_id: str) -> int:
        return self.window

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if pdu.tlv(Tag.RECEIPTED_MESSAGE_ID) in self.silent:
                await asyncio.Event().wait()
            await self.answer.wait()
            return await super().deliver(system_id, pdu)
        finally:
            self.in_flight -= 1


def receipted(receivers: FakeReceivers) -> list[object]:
    return [pdu.tlv(Tag.RECEIPTED_MESSAGE_ID) for pdu in receivers.delivered]


async def test_an_unanswered_receipt_holds_back_no_later_receipt() -> None:
    receivers = HeldReceivers(window=10, silent=frozenset({"1"}))
    r = rig(*(accepted(str(n)) for n in range(1, 22)), receivers=receivers)
    for _ in range(21):
        await r.submit(submit_sm(registered_delivery=1))
    for _ in range(200):
        await asyncio.sleep(0)
    assert sorted(receipted(receivers), key=int) == [str(n) for n in range(2, 22)]
    await r.pipeline.outbox.aclose()


async def test_receipts_in_flight_fill_the_window_and_never_exceed_it() -> None:
    receivers = HeldReceivers(window=4)
    receivers.answer.clear()
    r = rig(*(accepted(str(n)) for n in range(1, 11)), receivers=receivers)
    for _ in range(10):
        await r.submit(submit_sm(registered_delivery=1))
    for _ in range(100):
        await asyncio.sleep(0)
    assert receivers.in_flight == 4
    receivers.answer.set()
    await r.settle()
    assert receivers.most_in_flight == 4
    assert len(receivers.delivered) == 10


async def test_a_slot_that_frees_takes_the_next_due_receipt_at_once() -> None:
    receivers = HeldReceivers(window=1, silent=frozenset({"1"}))
    r = rig(accepted("1"), accepted("2"), receivers=receivers)
    await r.submit(submit_sm(registered_delivery=1))
    await r.submit(submit_sm(registered_delivery=1))
    for _ in range(50):
        await asyncio.sleep(0)
    assert receipted(receivers) == []  # the one slot is held by the unanswered receipt
    receivers.silent = frozenset()
    receivers.window = 2  # a second receiver binds: one more slot
    r.pipeline.session_bound(context(bind_type=BindType.RECEIVER))
    for _ in range(50):
        await asyncio.sleep(0)
    assert receipted(receivers) == ["2"]
    await r.pipeline.outbox.aclose()


# --- the wire order (outcome/receipt_outbox.py rule 7) --------------------------------------


async def test_a_receipt_waits_until_the_response_with_its_id_is_written() -> None:
    r = rig(accepted("31"))
    response = await r.pipeline.handle(context(), submit_sm(registered_delivery=1))
    await r.settle()
    assert r.receivers.attempts == []
    r.pipeline.answer_written(context(), response)
    await r.settle()
    assert receipted(r.receivers) == ["31"]


async def test_a_receipt_whose_response_is_never_written_goes_after_the_answer_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bridge.pipeline.outcome.receipt_outbox.ANSWER_WAIT_S", 0.05)
    r = rig(accepted("32"))
    await r.pipeline.handle(context(), submit_sm(registered_delivery=1))
    await asyncio.sleep(0.1)
    await r.settle()
    assert receipted(r.receivers) == ["32"]


async def test_receipts_of_earlier_parts_do_not_wait_for_the_last_parts_response() -> None:
    receivers = FakeReceivers()
    r = rig(accepted("41"), receivers=receivers)
    header = bytes([5, 0, 3, 9, 2])
    await r.submit(submit_sm(header + b"\x01" + b"a" * 100, esm_class=0x40, registered_delivery=1))
    await r.pipeline.handle(
        context(), submit_sm(header + b"\x02" + b"b" * 10, esm_class=0x40, registered_delivery=1)
    )
    await r.settle()
    earlier = [i for i in receipted(receivers) if i != "41"]
    assert len(earlier) == 1  # the first part's receipt went; the last part's waits
