"""A message's receipts made again from its record, for an operator who asks for them
(ksmppd's "repush DLR"): the ESME lost one, or it was dropped while no receiver was bound.

What the record keeps is what the receipt can say again: the message_id(s), the addresses
with their TON/NPI, each message_id's user_message_reference, the final state and error,
the dates and the first 20 characters of the text when `[state] record_text` kept it. So
the deliver_sm is the one first built (settlement.py), but for the text when it was not
kept. A record written before version 4 (records.py) kept no TON/NPI and no reference: its
receipts carry 0/0 and none.
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
    umrs, types = record.user_message_references, record.destination_types
    return [
        receipt_deliver_sm(
            DeliveryReceipt(
                message_id=message_id,
                source_addr_ton=record.source_addr_ton,
                source_addr_npi=record.source_addr_npi,
                source_addr=record.source_addr,
                dest_addr_ton=types[place][0] if place < len(types) else 0,
                dest_addr_npi=types[place][1] if place < len(types) else 0,
                destination_addr=destination,
                submit_date=submitted,
                done_date=done,
                message_state=state,
                error_code=record.error_code,
                text=record.text or "",
                user_message_reference=umrs[index] if index < len(umrs) else None,
            ),
            dc0=route.dc0,
        )
        for index, message_id in enumerate(record.message_ids)
        for place, destination in enumerate(record.destinations)
    ]
