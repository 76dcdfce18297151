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

    origin: MessageOrigin
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


def receipt_origins(origin: MessageOrigin) -> tuple[MessageOrigin, ...]:
    """The destinations of a reassembly origin: a submit_multi's are joined with ';' (their
    TON/NPI are the first address's, all that a key keeps)."""
    addresses = origin.destination_addr.split(";")
    if len(addresses) == 1:
        return (origin,)
    return tuple(
        MessageOrigin(
            account=origin.account,
            source_addr_ton=origin.source_addr_ton,
            source_addr_npi=origin.source_addr_npi,
            source_addr=origin.source_addr,
            dest_addr_ton=origin.dest_addr_ton,
            dest_addr_npi=origin.dest_addr_npi,
            destination_addr=address,
        )
        for address in addresses
    )


class Settlement:
    __slots__ = ("_outbox", "_store", "_wall_clock")

    def __init__(
        self, store: MessageStore, outbox: ReceiptOutbox, wall_clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._wall_clock = wall_clock

    def pending(self, account: str, message_id: str, *, now: float) -> None:
        """A part answered before its message is whole: query_sm says ENROUTE."""
        self._store.record(
            account=account,
            message_id=message_id,
            message_state=MessageState.ENROUTE,
            final_date=None,
            now=now,
        )

    def settle(
        self,
        route: AccountRoute,
        ids: Sequence[IssuedId],
        *,
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
                origin = delivery.origin
                receipt = DeliveryReceipt(
                    message_id=issued.message_id,
                    source_addr_ton=origin.source_addr_ton,
                    source_addr_npi=origin.source_addr_npi,
                    source_addr=origin.source_addr,
                    dest_addr_ton=origin.dest_addr_ton,
                    dest_addr_npi=origin.dest_addr_npi,
                    destination_addr=origin.destination_addr,
                    submit_date=submitted_at,
                    done_date=done,
                    message_state=state.message_state,
                    error_code=state.error_code,
                    text=text,
                    user_message_reference=issued.user_message_reference,
                )
                self._outbox.send(route.system_id, receipt_deliver_sm(receipt, dc0=route.dc0))
