"""Delivery receipts and priority over real sockets, smpplib as the ESME."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smpplib_esme import read_receipts, submit, submit_many

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e

TO = "60123456789"


@pytest.fixture
def rig(tmp_path: Path, run_server: Callable[..., object]) -> Iterator[MessagesRig]:
    with running(tmp_path, run_server, isms={"max_in_flight_per_account": 1}) as running_rig:
        yield running_rig


def test_a_transceiver_gets_the_acceptd_receipt_of_its_own_submit(rig: MessagesRig) -> None:
    client = rig.smpplib("transceiver")
    answer = submit(
        client,
        destination_addr=TO,
        short_message=b"Your OTP is 4711",
        registered_delivery=1,
        user_message_reference=77,
    )
    [receipt] = read_receipts(client, 1)
    assert receipt.esm_class == 0x04
    assert receipt.receipted_message_id.decode() == answer.message_id
    assert (receipt.message_state, receipt.user_message_reference) == (6, 77)
    text = receipt.short_message.decode()
    assert text.startswith(f"id:{answer.message_id} sub:001 dlvrd:000 submit date:")
    assert text.endswith("stat:ACCEPTD err:000 text:Your OTP is 4711")
    assert (receipt.source_addr.decode(), receipt.destination_addr.decode()) == (TO, "MyBrand")


def test_a_separate_receiver_bind_gets_the_receipt_of_a_transmitters_submit(
    rig: MessagesRig,
) -> None:
    receiver = rig.smpplib("receiver")
    transmitter = rig.smpplib("transmitter")
    answer = submit(transmitter, destination_addr=TO, short_message=b"hi", registered_delivery=1)
    [receipt] = read_receipts(receiver, 1)
    assert receipt.receipted_message_id.decode() == answer.message_id


def test_a_receipt_is_held_while_no_receiver_is_bound_and_sent_when_one_binds(
    rig: MessagesRig,
) -> None:
    transmitter = rig.smpplib("transmitter")
    answer = submit(transmitter, destination_addr=TO, short_message=b"hi", registered_delivery=1)
    deadline = time.monotonic() + 5
    while rig.server.call(rig.pipeline.outbox.held("esme1")) != 1:
        assert time.monotonic() < deadline, "the receipt was never held"
        time.sleep(0.02)
    receiver = rig.smpplib("receiver")
    [receipt] = read_receipts(receiver, 1)
    assert receipt.receipted_message_id.decode() == answer.message_id
    assert rig.server.call(rig.pipeline.outbox.held()) == 0


def test_a_refusal_receipt_says_rejectd_with_the_isms_code(rig: MessagesRig) -> None:
    client = rig.smpplib("transceiver")
    # Two parts; the sandbox refuses the whole message with -1004 (reserved number), so the
    # first part, answered ESME_ROK earlier, is reported REJECTD (registered_delivery 2:
    # on failure only).
    header = bytes([5, 0, 3, 42, 2])
    parts = [
        {
            "destination_addr": "60000001004",
            "esm_class": 0x40,
            "short_message": header + bytes([seqnum]) + text,
            "registered_delivery": 2,
        }
        for seqnum, text in ((1, b"first "), (2, b"second"))
    ]
    first, last = submit_many(client, parts)
    [receipt] = read_receipts(client, 1)
    assert last.status != 0
    assert receipt.receipted_message_id.decode() == first.message_id
    assert receipt.message_state == 8 and "stat:REJECTD err:004" in receipt.short_message.decode()


def test_urgent_submits_overtake_bulk_when_the_upstream_is_saturated(rig: MessagesRig) -> None:
    # One request in flight per iSMS account (max_in_flight_per_account = 1); the first
    # goes to the sandbox's delay number (60000009005: answered after 0.5 s) and holds it.
    messages = [
        {"destination_addr": "60000009005", "short_message": b"bulk 1"},
        {"destination_addr": "60111111111", "short_message": b"bulk 2"},
        {"destination_addr": "60122222222", "short_message": b"bulk 3"},
        {"destination_addr": "60133333333", "short_message": b"OTP 1234", "priority_flag": 2},
        {"destination_addr": "60144444444", "short_message": b"alert", "priority_flag": 3},
    ]
    answers = submit_many(rig.smpplib("transmitter"), messages)
    records = rig.sandbox.wait_for(5)
    assert all(a.status == 0 for a in answers)
    assert [r["text"] for r in records] == ["bulk 1", "OTP 1234", "alert", "bulk 2", "bulk 3"]
