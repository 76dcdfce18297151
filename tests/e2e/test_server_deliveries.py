"""deliver_sm pushed by the application through the SessionRegistry, to smpplib receivers."""

from __future__ import annotations

import asyncio

import pytest

from bridge.pdu import DeliverSm, DeliverSmResp, Tag, Tlv
from bridge.server import NoReceiverBound

pytestmark = pytest.mark.e2e

RECEIPT = DeliverSm(
    source_addr="60123456789",
    destination_addr="MyBrand",
    esm_class=0x04,
    short_message=b"id:abc123 sub:001 dlvrd:001 stat:ACCEPTD err:000 text:",
    tlvs=(Tlv(Tag.RECEIPTED_MESSAGE_ID, "abc123"), Tlv(Tag.MESSAGE_STATE, 6)),
)


def test_a_receipt_reaches_an_smpplib_receiver_and_its_resp_comes_back(
    server, smpplib_esme
) -> None:
    client = smpplib_esme(server)
    client.bind_receiver(system_id="esme1", password="secret1")
    got = []
    client.set_message_received_handler(lambda pdu: got.append(pdu))
    pending = asyncio.run_coroutine_threadsafe(
        server.bridge.registry.deliver("esme1", RECEIPT), server.loop
    )
    client.read_once()
    resp = pending.result(5)
    assert isinstance(resp, DeliverSmResp) and resp.command_status == 0
    [pdu] = got
    assert (pdu.esm_class, pdu.receipted_message_id, pdu.message_state) == (4, b"abc123", 6)


def test_the_oldest_receiver_gets_the_receipt(server, smpplib_esme) -> None:
    transmitter, older, newer = smpplib_esme(server), smpplib_esme(server), smpplib_esme(server)
    transmitter.bind_transmitter(system_id="esme1", password="secret1")
    older.bind_transceiver(system_id="esme1", password="secret1")
    newer.bind_receiver(system_id="esme1", password="secret1")
    got = []
    older.set_message_received_handler(lambda pdu: got.append(pdu))
    pending = asyncio.run_coroutine_threadsafe(
        server.bridge.registry.deliver("esme1", RECEIPT), server.loop
    )
    older.read_once()
    assert pending.result(5).command_status == 0
    assert len(got) == 1


def test_with_no_receiver_bound_the_delivery_is_refused_for_the_caller_to_hold(
    server, smpplib_esme
) -> None:
    client = smpplib_esme(server)
    client.bind_transmitter(system_id="esme1", password="secret1")
    with pytest.raises(NoReceiverBound):
        server.call(server.bridge.registry.deliver("esme1", RECEIPT))
