"""What the bridge remembers and reports once a message_id's fate is known.

Each message_id the ESME was given ends up in two places: the query_sm store (state, final
date, error) and, when its registered_delivery asks for one, a delivery receipt per
destination (receipts.py has the text and the TLVs; receipt_outbox.py delivers it).

Final states (receipts.py explains why success is ACCEPTD):
| what happened | message_state | err |
|---|---|---|
| iSMS 2000 | ACCEPTED (DELIVERED when the account opts in) | 000 |
| iSMS refused | REJECTED | the iSMS code, -1004 -> 004 |
| the bridge refused the completed message (undecodable, too long) | REJECTED | 251 |
| the outcome is unknown (timeout after the request left) | UNKNOWN | 255 |
| iSMS was not reached | UNDELIVERABLE | 255 |
| a long message incomplete at its deadline | EXPIRED | 250 |
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Final, assert_never

from bridge.pdu import DeliverSm, SmeAddress
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.long_messages.reassembly import AnsweredPart, Complete
from bridge.pipeline.outcome.message_store import MessageStore
from bridge.pipeline.outcome.receipt_outbox import ReceiptOutbox
from bridge.pipeline.outcome.receipts import (
    ERR_NONE,
    ERR_UNKNOWN,
    RECEIPT_BITS,
    DeliveryReceipt,
    MessageState,
    receipt_deliver_sm,
    receipt_error_code,
    receipt_wanted,
    success_state,
)
from bridge.pipeline.outcome.records import RECEIPT_HELD, RECEIPT_NONE, MessageRecord
from bridge.pipeline.settings import AccountRoute
from bridge.pipeline.upkeep import WallClock
from bridge.state import RecordWrite
from bridge.upstream import Outcome, SendResult


@dataclass(slots=True, kw_only=True)
class FinalState:
    message_state: Final[MessageState]
    error_code: Final[int] = ERR_NONE


@dataclass(slots=True, kw_only=True)
class IssuedId:
    """A message_id the ESME holds, with what its submit asked for."""

    message_id: Final[str]
    registered_delivery: Final[int]
    user_message_reference: Final[int | None]


@dataclass(slots=True, kw_only=True)
class Delivery:
    """One destination of a message and its fate (a submit_multi has several)."""

    destination: Final[SmeAddress]
    state: Final[FinalState]


# Bound once: on Python 3.11 every `Outcome.X` lookup (a `case Outcome.X:` too) goes
# through EnumType's __getattr__ hook, and final_state runs per message.
_ACCEPTED: Final = Outcome.ACCEPTED
# A message iSMS accepted ends in one of these two (values nobody changes: shared).
_SUCCESS_STATES = {
    report_delivered: FinalState(message_state=success_state(report_delivered=report_delivered))
    for report_delivered in (False, True)
}


def final_state(result: SendResult, *, report_delivered: bool) -> FinalState:
    outcome = result.outcome
    if outcome is _ACCEPTED:
        return _SUCCESS_STATES[report_delivered]
    if outcome is Outcome.REJECTED:
        assert result.code is not None
        return FinalState(
            message_state=MessageState.REJECTED, error_code=receipt_error_code(result.code)
        )
    if outcome is Outcome.UNKNOWN:
        return FinalState(message_state=MessageState.UNKNOWN, error_code=ERR_UNKNOWN)
    if outcome is Outcome.NOT_SENT:
        return FinalState(message_state=MessageState.UNDELIVERABLE, error_code=ERR_UNKNOWN)
    assert_never(outcome)


def issued_parts(answered: Sequence[AnsweredPart]) -> list[IssuedId]:
    return [
        IssuedId(
            message_id=part.message_id,
            registered_delivery=part.registered_delivery,
            user_message_reference=part.user_message_reference,
        )
        for part in answered
    ]


@dataclass(slots=True, kw_only=True)
class Trace:
    """What a message record tells besides the fate: how the message came and went.

    Times are Unix seconds; `sent_at` is None when iSMS was never asked.
    """

    pdu: Final[str]
    parts: Final[int]
    received_at: Final[float]
    sent_at: Final[float | None] = None
    trx_id: Final[str] = ""
    isms_code: Final[int | None] = None
    mirror: Final[str] = ""
    text: Final[str | None] = None  # only when the operator opted in ([state] record_text)
    reference: Final[str] = ""  # system_id/session/sequence_number, as the iSMS request carries it
    credits: Final[int] = 0  # estimated, every destination (policy/credits.py)
    duplicate: Final[str] = ""  # what duplicate suppression made of it (policy/duplicates.py)
    duplicate_of: Final[str] = ""


def message_trace(
    pdu: str,
    complete: Complete | None,
    received_at: float,
    sent_at: float,
    result: SendResult,
    text: str | None,
    reference: str,
    *,
    credits: int = 0,
    duplicate: tuple[str, str] | None = None,
) -> Trace:
    """The trace of a message iSMS was asked for (`complete`: the long message it completes;
    `duplicate`: (what it is, the first's message_id) for a resend flagged or sent again)."""
    return Trace(
        pdu=pdu,
        parts=1 if complete is None else complete.total,
        received_at=received_at if complete is None else complete.first_part_at,
        sent_at=sent_at if result.attempts else None,
        trx_id=result.trx_id or "",
        isms_code=result.code,
        mirror=result.mirror,
        text=text,
        reference=reference,
        credits=credits,
        duplicate="" if duplicate is None else duplicate[0],
        duplicate_of="" if duplicate is None else duplicate[1],
    )


class Settlement:
    """The one owner of what happens to the message_ids an answer gave out.

    Every message_id the ESME holds is settled here and nowhere else: recorded (its
    message record, which query_sm reads: ENROUTE while its long message is incomplete,
    then its final state) and reported by receipt when its submit asked for one, whichever
    way the message ends: answered by iSMS (`concluded`), or refused, expired or never
    retried (`abandoned`). Each returns once all of it is committed to the state store
    (or raises StateUnavailable), so the answer that gave the ids out can follow.
    """

    __slots__ = ("_outbox", "_store", "_wall")

    def __init__(self, store: MessageStore, outbox: ReceiptOutbox, wall: WallClock) -> None:
        self._store = store
        self._outbox = outbox
        self._wall = wall

    async def part_answered(
        self, origin: MessageOrigin, message_id: str, trace: Trace, *, now: float
    ) -> None:
        """A part answered before its message is whole: query_sm says ENROUTE."""
        at = self._wall.now()
        await self._store.record(
            _record(origin, (message_id,), trace, "ESME_ROK", _ENROUTE, at, None, RECEIPT_NONE),
            now=now,
        )

    async def concluded(
        self,
        route: AccountRoute,
        *,
        origin: MessageOrigin,
        answered: IssuedId | None,
        status: str,
        earlier: Sequence[AnsweredPart],
        overall: FinalState,
        deliveries: Sequence[Delivery],
        text: str,
        submitted_at: float,
        trace: Trace,
        now: float,
        also: Sequence[Coroutine[Any, Any, object]] = (),
        settles: tuple[str, str] | None = None,
        with_record: RecordWrite | None = None,
    ) -> None:
        """iSMS answered the message: settle the ids of its earlier parts and the answered one,
        committed together with `also`; the put of its record deletes `settles` (its intent)
        and puts `with_record` (its duplicate claim settled: policy/gate.py).

        `answered` (an ESME_ROK answer only) hears of its accepted destinations alone,
        since a submit_multi_resp already lists the failed ones; the earlier parts' ids,
        answered before any destination was tried, hear of every destination.
        """
        done = self._wall.now()
        receipts: list[DeliverSm] = []
        ids: tuple[str, ...] = ()
        umrs: tuple[int | None, ...] = ()
        if earlier:
            receipts += self._receipts(
                route, origin, issued_parts(earlier), deliveries, text, submitted_at, done
            )
            ids = tuple(part.message_id for part in earlier)
            umrs = tuple(part.user_message_reference for part in earlier)
        if answered is not None:
            if answered.registered_delivery & RECEIPT_BITS:  # any receipt asked for at all
                accepted = [d for d in deliveries if d.state.message_state.is_success]
                own = self._receipts(route, origin, (answered,), accepted, text, submitted_at, done)
                if own:
                    # Its response is written only after this returns: the receipts wait.
                    self._outbox.answer_pending(answered.message_id)
                    receipts += own
            ids += (answered.message_id,)
            umrs += (answered.user_message_reference,)
        writes: list[Coroutine[Any, Any, object]] = (
            [self._outbox.send(route.system_id, receipt) for receipt in receipts]
            if receipts
            else []
        )
        writes += also
        if ids or trace.reference or settles is not None:
            # One without ids (iSMS refused it, or was not reached) is kept for operators.
            fate = RECEIPT_HELD if receipts else RECEIPT_NONE
            record = _record(origin, ids, trace, status, overall, done, done, fate, umrs)
            writes.append(self._store.record(record, now=now, deleting=settles, also=with_record))
        # Started together, so they share one group commit.
        try:
            await _all(writes)
        except BaseException:
            if answered is not None:
                self._outbox.answer_written(answered.message_id)  # no ESME_ROK will carry it
            raise

    async def abandoned(
        self,
        route: AccountRoute,
        *,
        origin: MessageOrigin,
        answered: Sequence[AnsweredPart],
        state: FinalState,
        submitted_at: float,
        now: float,
        also: Sequence[Coroutine[Any, Any, object]] = (),
    ) -> None:
        """A long message that never reaches iSMS (refused when whole, expired incomplete,
        or its completing part never retried): its answered parts end in `state`, for
        every destination it was for."""
        if not answered:
            await _all(list(also))
            return
        done = self._wall.now()
        deliveries = [Delivery(destination=d, state=state) for d in origin.destinations]
        receipts = self._receipts(
            route, origin, issued_parts(answered), deliveries, "", submitted_at, done
        )
        trace = Trace(pdu="", parts=len(answered), received_at=submitted_at)
        fate = RECEIPT_HELD if receipts else RECEIPT_NONE
        ids = tuple(part.message_id for part in answered)
        umrs = tuple(part.user_message_reference for part in answered)
        record = _record(origin, ids, trace, "ESME_ROK", state, done, done, fate, umrs)
        await _all(
            [
                self._store.record(record, now=now),
                *(self._outbox.send(route.system_id, receipt) for receipt in receipts),
                *also,
            ]
        )

    async def repeated(
        self,
        route: AccountRoute,
        *,
        origin: MessageOrigin,
        issued: IssuedId,
        state: FinalState,
        to: Sequence[SmeAddress],
        text: str,
        trace: Trace,
        now: float,
        earlier: Sequence[AnsweredPart] = (),
        also: Sequence[Coroutine[Any, Any, object]] = (),
    ) -> None:
        """A resend answered with an earlier message's id and nothing sent (policy/
        duplicates.py): the receipts it asks for, for the destinations `to`, with the earlier
        message's final `state`, and its own record (keyed by its reference, naming the
        first), committed together with `also`. A long message's `earlier` parts (the ids
        this resend's parts were answered with) get their receipts and are in its record."""
        done = self._wall.now()
        deliveries = [Delivery(destination=address, state=state) for address in to]
        receipts = self._receipts(
            route, origin, (issued,), deliveries, text, trace.received_at, done
        )
        pending = bool(receipts)
        if pending:
            self._outbox.answer_pending(issued.message_id)
        ids = tuple(part.message_id for part in earlier)
        umrs = tuple(part.user_message_reference for part in earlier)
        if earlier:
            receipts += self._receipts(
                route, origin, issued_parts(earlier), deliveries, text, trace.received_at, done
            )
        fate = RECEIPT_HELD if receipts else RECEIPT_NONE
        record = _record(origin, ids, trace, "ESME_ROK", state, done, done, fate, umrs)
        try:
            await _all(
                [
                    *(self._outbox.send(route.system_id, receipt) for receipt in receipts),
                    self._store.record(record, now=now),
                    *also,
                ]
            )
        except BaseException:
            if pending:
                self._outbox.answer_written(issued.message_id)
            raise

    def _receipts(
        self,
        route: AccountRoute,
        origin: MessageOrigin,
        ids: Sequence[IssuedId],
        deliveries: Sequence[Delivery],
        text: str,
        submitted_at: float,
        done: float,
    ) -> list[DeliverSm]:
        """The receipts the submits of `ids` asked for, one per id and destination."""
        receipts: list[DeliverSm] = []
        dates: tuple[datetime, datetime] | None = None  # made for the first receipt only
        for issued in ids:
            for delivery in deliveries:
                state = delivery.state
                if not receipt_wanted(issued.registered_delivery, state.message_state):
                    continue
                if dates is None:
                    dates = (self._wall.local(submitted_at), self._wall.local(done))
                destination = delivery.destination
                receipt = DeliveryReceipt(
                    message_id=issued.message_id,
                    source_addr_ton=origin.source_addr_ton,
                    source_addr_npi=origin.source_addr_npi,
                    source_addr=origin.source_addr,
                    dest_addr_ton=destination.dest_addr_ton,
                    dest_addr_npi=destination.dest_addr_npi,
                    destination_addr=destination.destination_addr,
                    submit_date=dates[0],
                    done_date=dates[1],
                    message_state=state.message_state,
                    error_code=state.error_code,
                    text=text,
                    user_message_reference=issued.user_message_reference,
                )
                receipts.append(receipt_deliver_sm(receipt, dc0=route.dc0))
        return receipts


_ENROUTE = FinalState(message_state=MessageState.ENROUTE)
# C-level getters, for what runs per message (a generator costs a frame per call).
_DESTINATION_ADDR = attrgetter("destination_addr")
_ADDRESS_TYPE = attrgetter("dest_addr_ton", "dest_addr_npi")


async def _all(writes: list[Coroutine[Any, Any, object]]) -> None:
    """Run the writes together (one group commit); the first failure is raised once all
    have finished, so none is left running unobserved."""
    if len(writes) == 1:
        await writes[0]
        return
    results = await asyncio.gather(*writes, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _record(
    origin: MessageOrigin,
    ids: tuple[str, ...],
    trace: Trace,
    status: str,
    state: FinalState,
    answered_at: float,
    final_at: float | None,
    receipt: str,
    umrs: tuple[int | None, ...] = (),
) -> MessageRecord:
    """`umrs`: the user_message_reference of each of `ids` (kept only when one has one)."""
    return MessageRecord(
        account=origin.account,
        message_ids=ids,
        pdu=trace.pdu,
        source_addr=origin.source_addr,
        destinations=tuple(map(_DESTINATION_ADDR, origin.destinations)),
        parts=trace.parts,
        status=status,
        message_state=int(state.message_state),
        error_code=state.error_code,
        received_at=trace.received_at,
        answered_at=answered_at,
        final_at=final_at,
        trx_id=trace.trx_id,
        isms_code=trace.isms_code,
        mirror=trace.mirror,
        sent_at=trace.sent_at,
        receipt=receipt,
        text=trace.text,
        reference=trace.reference,
        credits=trace.credits,
        duplicate=trace.duplicate,
        duplicate_of=trace.duplicate_of,
        source_addr_ton=origin.source_addr_ton,
        source_addr_npi=origin.source_addr_npi,
        destination_types=tuple(map(_ADDRESS_TYPE, origin.destinations)),
        user_message_references=umrs if any(umr is not None for umr in umrs) else (),
    )
