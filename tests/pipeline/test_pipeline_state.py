"""MessagePipeline and the state store: an answer leaves only after what it obliges is
committed, a store that cannot commit gets ESME_RSYSERR with nothing sent, and what a
store holds is picked up by the next pipeline on it."""

from __future__ import annotations

import asyncio

from bridge.pdu import CommandStatus, QuerySm
from bridge.pipeline import (
    MESSAGE_KIND,
    REFUSAL_KIND,
    PipelineSettings,
    ReassemblyLimits,
    decode_record,
    decode_refusal,
)
from bridge.state import MemoryState, Put, StateUnavailable

from .pipeline_doubles import (
    FakeReceivers,
    accepted,
    receipt_text,
    rejected,
    rig,
    submit_sm,
    udh_part,
)

PART1, PART2 = b"Hello ", b"world"


class GatedState(MemoryState):
    """Commits records of `kind` only once `gate` is set: a slow disk."""

    def __init__(self, kind: str = MESSAGE_KIND) -> None:
        super().__init__()
        self.kind = kind
        self.gate = asyncio.Event()

    async def put_record(self, *args: object, **kwargs: object) -> Put:
        if args[0] == self.kind:
            await self.gate.wait()
        return await super().put_record(*args, **kwargs)  # type: ignore[arg-type]


class FullState(MemoryState):
    """A store whose disk is full (every write fails) until `room` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.room = False

    def _check(self) -> None:
        if not self.room:
            raise StateUnavailable("database or disk is full")

    async def put_record(self, *args: object, **kwargs: object) -> Put:
        self._check()
        return await super().put_record(*args, **kwargs)  # type: ignore[arg-type]

    async def add_part(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        self._check()
        return await super().add_part(*args, **kwargs)  # type: ignore[arg-type]

    async def writable(self) -> bool:
        return self.room


async def test_the_submit_sm_resp_waits_for_the_message_record_to_be_committed() -> None:
    state = GatedState()
    r = rig(accepted("700"), state=state)
    answer = asyncio.ensure_future(r.submit(submit_sm()))
    for _ in range(20):
        await asyncio.sleep(0)
    assert r.isms.sent and not answer.done()
    state.gate.set()
    assert (await answer).message_id == "700"


async def test_a_non_final_part_is_answered_only_after_it_is_committed() -> None:
    state = GatedState()
    r = rig(state=state)
    answer = asyncio.ensure_future(r.submit(udh_part(3, 2, 1, PART1)))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not answer.done()
    state.gate.set()
    assert (await answer).command_status == CommandStatus.ESME_ROK


async def test_a_part_the_store_cannot_keep_is_answered_rsyserr_and_nothing_is_sent() -> None:
    r = rig(state=FullState())
    response = await r.submit(udh_part(3, 2, 1, PART1))
    assert response.command_status == CommandStatus.ESME_RSYSERR
    assert r.isms.sent == []


async def test_after_a_failed_commit_submits_get_rsyserr_without_reaching_isms() -> None:
    r = rig(state=FullState())
    await r.submit(udh_part(3, 2, 1, PART1))
    response = await r.submit(submit_sm())
    assert response.command_status == CommandStatus.ESME_RSYSERR
    assert r.isms.sent == [] and not r.pipeline.store_writable


async def test_once_the_store_has_room_again_submits_go_through() -> None:
    state = FullState()
    r = rig(accepted("701"), state=state)
    await r.submit(udh_part(3, 2, 1, PART1))
    state.room = True
    await r.advance(1.0)  # the sweep probes the store
    response = await r.submit(submit_sm())
    assert response.message_id == "701" and r.pipeline.store_writable


async def test_a_query_sm_on_a_new_pipeline_finds_the_message_the_old_one_answered() -> None:
    first = rig(accepted("702"))
    await first.submit(submit_sm())
    second = rig(state=first.pipeline.state, clock=first.clock)
    response = await second.submit(QuerySm(message_id="702"))
    assert response.command_status == CommandStatus.ESME_ROK and response.message_state == 6


async def test_parts_answered_before_a_restart_complete_with_the_last_part_after_it() -> None:
    first = rig()
    await first.submit(udh_part(4, 3, 1, b"one "))
    await first.submit(udh_part(4, 3, 2, b"two "))
    second = rig(accepted("703"), state=first.pipeline.state, clock=first.clock)
    recovered = await second.pipeline.recover()
    done = await second.submit(udh_part(4, 3, 3, b"three"))
    assert recovered.long_messages == 1
    assert done.message_id == "703"
    assert [m.text for m in second.isms.sent] == ["one two three"]


async def test_parts_whose_deadline_passed_during_a_restart_expire_with_their_receipts() -> None:
    settings = PipelineSettings(reassembly=ReassemblyLimits(timeout=60.0))
    first = rig(settings=settings)
    await first.submit(udh_part(4, 2, 1, b"one ", registered_delivery=1))
    first.clock.now += 3600  # down for an hour
    second = rig(settings=settings, state=first.pipeline.state, clock=first.clock)
    await second.pipeline.recover()
    await second.advance(0.0)
    await second.settle()
    assert ["stat:EXPIRED" in receipt_text(pdu) for pdu in second.receivers.delivered] == [True]


async def test_a_receipt_one_pipeline_made_is_delivered_by_another_with_the_receiver() -> None:
    maker = rig(accepted("704"), receivers=FakeReceivers(bound=set()))
    deliverer = rig(state=maker.pipeline.state, clock=maker.clock)  # a transceiver bound
    await maker.submit(submit_sm(registered_delivery=1))
    await deliverer.advance(1.0)  # its sweep asks the shared store what is due
    await deliverer.settle()
    assert [receipt_text(p).split()[0] for p in deliverer.receivers.delivered] == ["id:704"]
    assert maker.receivers.attempts == []


async def test_a_message_isms_refused_is_recorded_under_its_reference_for_operators() -> None:
    r = rig(rejected(-1004))
    response = await r.submit(submit_sm())
    [stored] = await r.pipeline.state.scan_records(MESSAGE_KIND, now=r.clock.now)
    record = decode_record(stored.value)
    assert response.command_status != CommandStatus.ESME_ROK
    assert (stored.key, record.message_ids, record.isms_code) == ("esme1/~esme1/s1/7", (), -1004)
    assert record.status == "ESME_RSUBMITFAIL" and record.message_state == 8  # REJECTED


async def test_a_refused_submit_is_recorded_with_its_status_and_reason_but_no_text() -> None:
    state = MemoryState()
    r = rig(state=state)
    answer = await r.submit(submit_sm(destination_addr="100", short_message=b"secret"))
    assert answer.command_status == CommandStatus.ESME_RINVDSTADR
    [kept] = [decode_refusal(r.value) for r in await state.scan_records(REFUSAL_KIND, now=1000)]
    assert (kept.status, kept.destinations, kept.kind) == (
        "ESME_RINVDSTADR",
        ("100",),
        "destination",
    )
    assert "100" in kept.reason and kept.reference.startswith("esme1/")
    assert b"secret" not in (await state.scan_records(REFUSAL_KIND, now=1000))[0].value


async def test_a_refusal_the_store_cannot_record_is_answered_all_the_same() -> None:
    r = rig(state=FullState())
    answer = await r.submit(submit_sm(destination_addr="100"))
    assert answer.command_status == CommandStatus.ESME_RINVDSTADR
