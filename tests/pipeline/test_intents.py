"""Intents and crash recovery (sending/intents.py, outcome/unsettled.py): a pipeline stopped at
each step of a message's way, and the next pipeline on the same store picking up where it
stopped.

A "crash" here is a pipeline whose request task is cancelled where it stands, nothing after
it run; the store (memory, shared by both pipelines) keeps what was committed."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.pdu import CommandStatus, QuerySm, SmeAddress, SubmitMulti
from bridge.pipeline import MESSAGE_KIND, PipelineSettings, StatusMapping, decode_record
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.sending.intents import (
    COMPLETING_KIND_PREFIX,
    INTENT_KIND,
    INTENT_S,
    Intent,
    Intents,
)
from bridge.state import MemoryState, Put, StateUnavailable

from .pipeline_doubles import FakeReceivers, Rig, accepted, receipt_text, rig, submit_sm, udh_part

PART1, PART2 = b"Hello ", b"world"


class HeldIntents(MemoryState):
    """Commits intents only once `gate` is set: the bridge stops before the request."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def put_record(self, *args: object, **kwargs: object) -> Put:
        if args[0] == INTENT_KIND:
            await self.gate.wait()
        return await super().put_record(*args, **kwargs)  # type: ignore[arg-type]


class IntentsRefused(MemoryState):
    """A store that cannot commit an intent (the disk filled up just then)."""

    async def put_record(self, *args: object, **kwargs: object) -> Put:
        if args[0] == INTENT_KIND:
            raise StateUnavailable("database or disk is full")
        return await super().put_record(*args, **kwargs)  # type: ignore[arg-type]


NUMBERS = ("60120000001", "60120000002")


async def crash(task: asyncio.Future[object]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def records(state: MemoryState, kind: str, now: float = 1000.0) -> int:
    return len(await state.scan_records(kind, now=now))


async def part2_at_isms_when_the_bridge_dies(state: MemoryState) -> Rig:
    """Part 1 answered; part 2 completes the message, whose request is at iSMS when the
    first pipeline dies. Returns the pipeline after it, recovered."""
    first = rig(state=state)
    first.isms.hold()
    await first.submit(udh_part(7, 2, 1, PART1, registered_delivery=1))
    request = asyncio.ensure_future(first.submit(udh_part(7, 2, 2, PART2, registered_delivery=1)))
    await first.isms.reached.wait()
    await crash(request)
    return first


async def test_an_intent_is_committed_before_the_request_and_deleted_with_its_settlement() -> None:
    state = MemoryState()
    r = rig(accepted("900"), state=state)
    r.isms.hold()
    await r.submit(udh_part(6, 2, 1, PART1, registered_delivery=1))
    answer = asyncio.ensure_future(r.submit(udh_part(6, 2, 2, PART2, registered_delivery=1)))
    await r.isms.reached.wait()
    assert await records(state, INTENT_KIND) == 1
    r.isms.release()
    await answer
    assert await records(state, INTENT_KIND) == 0


async def test_nothing_is_sent_while_the_intent_is_not_committed() -> None:
    state = HeldIntents()
    r = rig(state=state)
    await r.submit(udh_part(6, 2, 1, PART1))
    answer = asyncio.ensure_future(r.submit(udh_part(6, 2, 2, PART2)))
    for _ in range(20):
        await asyncio.sleep(0)
    assert r.isms.sent == []
    state.gate.set()
    assert (await answer).command_status == CommandStatus.ESME_ROK


async def test_a_message_of_one_part_has_its_intent_until_its_record_is_committed() -> None:
    state = MemoryState()
    r = rig(accepted("800"), state=state)
    r.isms.hold()
    answer = asyncio.ensure_future(r.submit(submit_sm()))
    await r.isms.reached.wait()
    assert await records(state, INTENT_KIND) == 1
    r.isms.release()
    assert (await answer).message_id == "800"
    assert await records(state, INTENT_KIND) == 0
    assert await records(state, MESSAGE_KIND) == 1


async def test_a_message_of_one_part_is_not_sent_while_its_intent_is_not_committed() -> None:
    state = HeldIntents()
    r = rig(state=state)
    answer = asyncio.ensure_future(r.submit(submit_sm()))
    for _ in range(20):
        await asyncio.sleep(0)
    assert r.isms.sent == []
    state.gate.set()
    assert (await answer).command_status == CommandStatus.ESME_ROK


async def test_a_message_whose_intent_cannot_be_committed_is_refused_and_not_sent() -> None:
    state = IntentsRefused()
    r = rig(state=state)
    answer = await r.submit(submit_sm())
    assert answer.command_status == CommandStatus.ESME_RSYSERR
    assert r.isms.sent == []


async def test_a_message_of_one_part_left_at_isms_is_recorded_as_unsettled_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = MemoryState()
    first = rig(state=state)
    first.isms.hold()
    request = asyncio.ensure_future(first.submit(submit_sm(registered_delivery=1)))
    await first.isms.reached.wait()
    await crash(request)
    after = rig(state=state)
    recovered = await after.pipeline.recover()
    assert recovered.intents == 1 and after.pipeline.counters.intents_unsettled == 1
    [unsettled] = [decode_record(r.value) for r in await state.scan_records(MESSAGE_KIND, now=1000)]
    assert unsettled.status == "UNSETTLED" and unsettled.reference.startswith("esme1/")
    assert unsettled.message_ids == ()  # the ESME was never answered: it holds no id
    assert await records(state, INTENT_KIND) == 0
    assert "event=intent_unsettled" in caplog.text and "destinations=60123456789" in caplog.text


async def test_a_submit_multi_left_at_isms_is_recorded_as_unsettled_with_its_destinations(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = MemoryState()
    first = rig(state=state)
    first.isms.hold()
    to = [SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=n) for n in NUMBERS]
    multi = SubmitMulti(source_addr="MyBrand", dest_addresses=tuple(to), short_message=b"Hi")
    request = asyncio.ensure_future(first.submit(multi))
    await first.isms.reached.wait()
    await crash(request)
    recovered = await rig(state=state).pipeline.recover()
    assert recovered.intents == 1
    assert f"destinations={','.join(NUMBERS)}" in caplog.text


async def test_a_completed_long_message_is_kept_until_its_settlement_commits() -> None:
    state = MemoryState()
    r = rig(state=state)
    r.isms.hold()
    await r.submit(udh_part(7, 2, 1, PART1))
    answer = asyncio.ensure_future(r.submit(udh_part(7, 2, 2, PART2)))
    await r.isms.reached.wait()
    assert await records(state, COMPLETING_KIND_PREFIX + "esme1") == 1
    r.isms.release()
    await answer
    assert await records(state, COMPLETING_KIND_PREFIX + "esme1") == 0


async def test_a_long_message_left_at_isms_is_recorded_as_unsettled_and_counted() -> None:
    state = MemoryState()
    await part2_at_isms_when_the_bridge_dies(state)
    recovered = await rig(state=state).pipeline.recover()
    assert recovered.intents == 1
    found = [decode_record(r.value) for r in await state.scan_records(MESSAGE_KIND, now=1000)]
    [unsettled] = [record for record in found if record.status == "UNSETTLED"]
    assert unsettled.reference.startswith("esme1/")
    assert await records(state, INTENT_KIND) == 0


async def test_a_long_message_left_at_isms_is_retried_by_the_resend_of_its_last_part() -> None:
    # unknown_outcome_status ESME_RSYSERR (the default): as after any unknown outcome of a
    # completing part, the message waits for the ESME's resend of that part, which sends it.
    state = MemoryState()
    await part2_at_isms_when_the_bridge_dies(state)
    after = rig(accepted("901"), state=state)
    await after.pipeline.recover()
    resent = await after.submit(udh_part(7, 2, 2, PART2, registered_delivery=1))
    await after.settle()
    assert resent.message_id == "901"
    assert [m.text for m in after.isms.sent] == ["Hello world"]
    texts = [receipt_text(pdu) for pdu in after.receivers.delivered]
    assert len(texts) == 2 and all("stat:ACCEPTD" in text for text in texts)


async def test_a_long_message_left_at_isms_is_settled_unknown_when_that_is_not_retried() -> None:
    state = MemoryState()
    await part2_at_isms_when_the_bridge_dies(state)
    settings = PipelineSettings(
        statuses=StatusMapping(unknown_outcome_status=CommandStatus.ESME_RSUBMITFAIL)
    )
    after = rig(state=state, settings=settings)
    await after.pipeline.recover()
    await after.settle()
    [receipt] = [receipt_text(pdu) for pdu in after.receivers.delivered]
    assert "stat:UNKNOWN err:255" in receipt and "EXPIRED" not in receipt
    first_id = receipt.split()[0].removeprefix("id:")
    answer = await after.submit(QuerySm(message_id=first_id, source_addr="MyBrand"))
    assert answer.message_state == 7  # UNKNOWN, never ENROUTE for ever


async def test_a_long_message_completed_but_never_sent_is_sent_by_the_resend() -> None:
    state = HeldIntents()
    first = rig(state=state)
    await first.submit(udh_part(7, 2, 1, PART1, registered_delivery=1))
    request = asyncio.ensure_future(first.submit(udh_part(7, 2, 2, PART2, registered_delivery=1)))
    for _ in range(20):
        await asyncio.sleep(0)
    await crash(request)  # the part completed the message; its intent never committed
    state.gate.set()
    after = rig(accepted("902"), state=state, receivers=FakeReceivers())
    recovered = await after.pipeline.recover()
    assert recovered.intents == 0
    assert first.isms.sent == []
    resent = await after.submit(udh_part(7, 2, 2, PART2, registered_delivery=1))
    await after.settle()
    assert resent.message_id == "902"
    assert [m.text for m in after.isms.sent] == ["Hello world"]
    assert len(after.receivers.delivered) == 2


async def test_a_message_still_waiting_for_its_slot_at_a_crash_is_known_not_sent() -> None:
    state = MemoryState()
    first = rig(state=state, settings=PipelineSettings(upstream_concurrency=1))
    first.isms.hold()
    await first.submit(udh_part(1, 2, 1, PART1))
    at_isms = asyncio.ensure_future(first.submit(udh_part(1, 2, 2, PART2)))
    await first.isms.reached.wait()
    await first.submit(udh_part(2, 2, 1, PART1))
    waiting = asyncio.ensure_future(first.submit(udh_part(2, 2, 2, PART2)))
    for _ in range(20):
        await asyncio.sleep(0)
    await crash(waiting)
    await crash(at_isms)
    recovered = await rig(state=state).pipeline.recover()
    assert recovered.intents == 1  # the one at iSMS; the other never had an intent
    assert recovered.retries == 2  # both wait for the resend of their last part


async def test_on_a_shared_store_what_a_dead_instance_left_is_settled_at_its_expiry() -> None:
    state = MemoryState()
    await part2_at_isms_when_the_bridge_dies(state)
    after = rig(state=state)
    assert await records(state, INTENT_KIND) == 1  # not at start: it may be a live one's
    after.clock.now += INTENT_S + 1
    await after.pipeline.sweep()
    assert await records(state, INTENT_KIND) == 0
    assert after.pipeline.counters.intents_unsettled == 1
    assert await after.pipeline.long.retries_for("esme1") == 1


async def test_the_resend_of_a_settled_long_messages_last_part_gets_its_answer_again() -> None:
    # The answer was lost with the connection (or a crash): the ESME resends the last part.
    r = rig(accepted("903"))
    await r.submit(udh_part(8, 2, 1, PART1))
    first = await r.submit(udh_part(8, 2, 2, PART2))
    again = await r.submit(udh_part(8, 2, 2, PART2))
    assert (again.command_status, again.message_id) == (CommandStatus.ESME_ROK, "903")
    assert first.message_id == "903"
    assert len(r.isms.sent) == 1
    assert await r.pipeline.long.reassembly.pending_for("esme1") == 0  # no new message begun


async def test_a_new_message_under_a_settled_ones_reference_is_not_taken_for_a_resend() -> None:
    r = rig(accepted("904"), accepted("905"))
    await r.submit(udh_part(8, 2, 1, PART1))
    await r.submit(udh_part(8, 2, 2, PART2))
    await r.submit(udh_part(8, 2, 1, b"Bye "))
    second = await r.submit(udh_part(8, 2, 2, b"now"))
    assert second.message_id == "905"
    assert [m.text for m in r.isms.sent] == ["Hello world", "Bye now"]


async def test_after_a_crash_settled_unknown_the_resend_of_the_last_part_sends_nothing() -> None:
    state = MemoryState()
    await part2_at_isms_when_the_bridge_dies(state)
    settings = PipelineSettings(
        statuses=StatusMapping(unknown_outcome_status=CommandStatus.ESME_RSUBMITFAIL)
    )
    after = rig(state=state, settings=settings)
    await after.pipeline.recover()
    resent = await after.submit(udh_part(7, 2, 2, PART2, registered_delivery=1))
    await after.settle()
    assert resent.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert after.isms.sent == []
    assert all("EXPIRED" not in receipt_text(pdu) for pdu in after.receivers.delivered)


LATIN1 = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=21)


@settings(max_examples=60, deadline=None)
@given(source=LATIN1, destinations=st.lists(LATIN1, min_size=1, max_size=3), at=st.floats(0, 2e9))
def test_an_intent_read_back_after_a_crash_is_the_intent_written(
    source: str, destinations: list[str], at: float
) -> None:
    async def written_and_read() -> tuple[Intent, tuple[Intent, ...]]:
        intents = Intents(MemoryState())
        origin = MessageOrigin(
            account="esme1",
            source_addr_ton=5,
            source_addr_npi=0,
            source_addr=source,
            destinations=tuple(
                SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=d)
                for d in destinations
            ),
        )
        intent = intents.prepare(origin, "submit_multi", None, at, "esme1/s1/9")
        await intents.open(intent, now=1000.0)
        return intent, await intents.left_over(now=1000.0)

    intent, left = asyncio.run(written_and_read())
    assert left == (intent,)
