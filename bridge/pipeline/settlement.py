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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.pdu import SmeAddress
from bridge.pipeline.message_store import MessageStore
from bridge.pipeline.reassembly import AnsweredPart, MessageOrigin
from bridge.pipeline.receipt_outbox import ReceiptOutbox
from bridge.pipeline.receipts import (
    ERR_NONE,
    ERR_UNKNOWN,
    DeliveryReceipt,
    MessageState,
    receipt_deliver_sm,
    receipt_error_code,
    receipt_wanted,
    success_state,
)
from bridge.pipeline.settings import AccountRoute
from bridge.upstream import Outcome, SendResult


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalState:
    message_state: MessageState
    error_code: int = ERR_NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedId:
    """A message_id the ESME holds, with what its submit asked for."""

    message_id: str
    registered_delivery: int
    user_message_reference: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One destination of a message and its fate (a submit_multi has several)."""

    destination: SmeAddress
    state: FinalState


def final_state(result: SendResult, *, report_delivered: bool) -> FinalState:
    match result.outcome:
        case Outcome.ACCEPTED:
            return FinalState(message_state=success_state(report_delivered=report_delivered))
        case Outcome.REJECTED:
            assert result.code is not None
            return FinalState(
                message_state=MessageState.REJECTED, error_code=receipt_error_code(result.code)
            )
        case Outcome.UNKNOWN:
            return FinalState(message_state=MessageState.UNKNOWN, error_code=ERR_UNKNOWN)
        case Outcome.NOT_SENT:
            return FinalState(message_state=MessageState.UNDELIVERABLE, error_code=ERR_UNKNOWN)


def issued_parts(answered: Sequence[AnsweredPart]) -> list[IssuedId]:
    return [
        IssuedId(
            message_id=part.message_id,
            registered_delivery=part.registered_delivery,
            user_message_reference=part.user_message_reference,
        )
        for part in answered
    ]


class Settlement:
    """The one owner of what happens to the message_ids an answer gave out.

    Every message_id the ESME holds is settled here and nowhere else: recorded for query_sm
    (ENROUTE while its long message is incomplete, then its final state) and reported by
    receipt when its submit asked for one, whichever way the message ends: answered by
    iSMS (`concluded`), or refused, expired or never retried (`abandoned`).
    """

    __slots__ = ("_outbox", "_store", "_wall_clock")

    def __init__(
        self, store: MessageStore, outbox: ReceiptOutbox, wall_clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._wall_clock = wall_clock

    def part_answered(self, account: str, message_id: str, *, now: float) -> None:
        """A part answered before its message is whole: query_sm says ENROUTE."""
        self._store.record(
            account=account,
            message_id=message_id,
            message_state=MessageState.ENROUTE,
            final_date=None,
            now=now,
        )

    def concluded(
        self,
        route: AccountRoute,
        *,
        origin: MessageOrigin,
        answered: IssuedId | None,
        earlier: Sequence[AnsweredPart],
        overall: FinalState,
        deliveries: Sequence[Delivery],
        text: str,
        submitted_at: datetime,
        now: float,
    ) -> None:
        """iSMS answered the message: settle the ids of its earlier parts and the answered one.

        `answered` (an ESME_ROK answer only) hears of its accepted destinations alone,
        since a submit_multi_resp already lists the failed ones; the earlier parts' ids,
        answered before any destination was tried, hear of every destination.
        """
        if earlier:
            self._settle(
                route, origin, issued_parts(earlier), overall, deliveries, text, submitted_at, now
            )
        if answered is not None:
            accepted = [d for d in deliveries if d.state.message_state.is_success]
            self._settle(route, origin, (answered,), overall, accepted, text, submitted_at, now)

    def abandoned(
        self,
        route: AccountRoute,
        *,
        origin: MessageOrigin,
        answered: Sequence[AnsweredPart],
        state: FinalState,
        submitted_at: datetime,
        now: float,
    ) -> None:
        """A long message that never reaches iSMS (refused when whole, expired incomplete,
        or its completing part never retried): its answered parts end in `state`, for
        every destination it was for."""
        deliveries = [Delivery(destination=d, state=state) for d in origin.destinations]
        self._settle(
            route, origin, issued_parts(answered), state, deliveries, "", submitted_at, now
        )

    def _settle(
        self,
        route: AccountRoute,
        origin: MessageOrigin,
        ids: Sequence[IssuedId],
        overall: FinalState,
        deliveries: Sequence[Delivery],
        text: str,
        submitted_at: datetime,
        now: float,
    ) -> None:
        """Record the fate of every id, and queue the receipts their submits asked for."""
        done = self._wall_clock()
        for issued in ids:
            self._store.record(
                account=route.system_id,
                message_id=issued.message_id,
                message_state=overall.message_state,
                final_date=done,
                error_code=overall.error_code,
                now=now,
            )
            for delivery in deliveries:
                state = delivery.state
                if not receipt_wanted(issued.registered_delivery, state.message_state):
                    continue
                destination = delivery.destination
                receipt = DeliveryReceipt(
                    message_id=issued.message_id,
                    source_addr_ton=origin.source_addr_ton,
                    source_addr_npi=origin.source_addr_npi,
                    source_addr=origin.source_addr,
                    dest_addr_ton=destination.dest_addr_ton,
                    dest_addr_npi=destination.dest_addr_npi,
                    destination_addr=destination.destination_addr,
                    submit_date=submitted_at,
                    done_date=done,
                    message_state=state.message_state,
                    error_code=state.error_code,
                    text=text,
                    user_message_reference=issued.user_message_reference,
                )
                self._outbox.send(route.system_id, receipt_deliver_sm(receipt, dc0=route.dc0))
