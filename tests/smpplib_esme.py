"""An smpplib ESME's conversations with a bridge, for tests/e2e and tests/cluster:
submit and wait for the answer, pipeline many, read receipts."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import smpplib.client


@dataclasses.dataclass
class Answer:
    status: int
    message_id: str | None


def submit(client: smpplib.client.Client, **fields: Any) -> Answer:
    """send_message and wait for its submit_sm_resp (receipts that arrive first are kept
    on the client's `receipts` list)."""
    return submit_many(client, [fields])[0]


def submit_many(client: smpplib.client.Client, messages: list[dict[str, Any]]) -> list[Answer]:
    """Send every message (pipelined), then read until each is answered; in sending order."""
    answers: dict[int, Answer] = {}
    receipts: list[Any] = getattr(client, "receipts", [])
    client.receipts = receipts
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    client.set_error_pdu_handler(lambda pdu: None)

    def sent(pdu: Any) -> None:
        message_id = pdu.message_id.decode() if pdu.message_id else None
        answers.setdefault(pdu.sequence, Answer(status=pdu.status, message_id=message_id))

    client.set_message_sent_handler(sent)
    defaults = {"source_addr": "MyBrand", "dest_addr_ton": 1, "dest_addr_npi": 1}
    sequences = [client.send_message(**{**defaults, **fields}).sequence for fields in messages]
    deadline = time.monotonic() + 15
    while not all(sequence in answers for sequence in sequences):
        assert time.monotonic() < deadline, f"answered {len(answers)} of {len(sequences)}"
        client.read_once()
    return [answers[sequence] for sequence in sequences]


def read_receipts(client: smpplib.client.Client, count: int, timeout: float = 20) -> list[Any]:
    """Read until `count` deliver_sm receipts have arrived on this client."""
    receipts: list[Any] = getattr(client, "receipts", [])
    client.receipts = receipts
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    deadline = time.monotonic() + timeout
    while len(receipts) < count:
        assert time.monotonic() < deadline, f"{len(receipts)} of {count} receipts arrived"
        client.read_once()
    return receipts
