"""A message's receipts made again from its record, for an operator who asks for them
(ksmppd's "repush DLR"): the ESME lost one, or it was dropped while no receiver was bound.

What the record keeps is what the receipt can say again: the message_id(s), the addresses
(their TON/NPI are not kept: 0/0 is written), the final state and error, the dates and the
first 20 characters of the text when `[state] record_text` kept it. The user_message_reference
of the submit is not kept, so a receipt made again carries none.
"""

from __future__ import annotations

from bridge.pdu import DeliverSm
from bridge.pipeline.outcome.receipts import (
    DeliveryReceipt,
    MessageState,
    receipt_deliver_sm,
)
from bridge.pipeline.outcome.records import MessageRecord
from bridge.pipeline.settings import AccountRoute
from bridge.pipeline.upkeep import WallClock


class NotFinal(ValueError):
    """The message has no final state yet: there is no receipt to send."""


def receipts_again(record: MessageRecord, route: AccountRoute, wall: WallClock) -> list[DeliverSm]:
    """One deliver_sm per message_id and destination of `record` (NotFinal when it has no
    final state, or gave out no message_id)."""
    state = MessageState(record.message_state)
    if not state.is_final or record.final_at is None or not record.message_ids:
        raise NotFinal(f"message {record.keys[0]} has no final state to report")
    submitted, done = wall.local(record.received_at), wall.local(record.final_at)
    return [
        receipt_deliver_sm(
            DeliveryReceipt(
                message_id=message_id,
                source_addr=record.source_addr,
                destination_addr=destination,
                submit_date=submitted,
                done_date=done,
                message_state=state,
                error_code=record.error_code,
                text=record.text or "",
            ),
            dc0=route.dc0,
        )
        for message_id in record.message_ids
        for destination in record.destinations
    ]
