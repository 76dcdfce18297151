"""Which PDU is answered how in which state, over real sockets (SMPP 3.4 §2.2, §4.3).

Raw sockets carry what smpplib cannot send (bad lengths, unknown ids, stray responses);
smpplib carries the everyday conversation (pipelined submits, out-of-order answers).
"""

from __future__ import annotations

import struct

import pytest

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    BindTransmitterResp,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)

pytestmark = pytest.mark.e2e

S = CommandStatus


def submit(text: bytes = b"hello") -> SubmitSm:
    return SubmitSm(source_addr="MyBrand", destination_addr="60123456789", short_message=text)


def bound(raw_esme, server, bind=BindTransceiver):
    esme = raw_esme(server)
    esme.send(bind(system_id="esme1", password="secret1"))
    assert esme.read().command_status == 0
    return esme


def test_a_submit_before_bind_gets_its_own_resp_with_rinvbndsts(server, raw_esme) -> None:
    esme = raw_esme(server)
    [seq] = esme.send(submit())
    assert esme.read() == SubmitSmResp(
        command_status=S.ESME_RINVBNDSTS, sequence_number=seq, message_id=None
    )


def test_enquire_link_before_bind_is_answered(server, raw_esme) -> None:
    esme = raw_esme(server)
    [seq] = esme.send(EnquireLink())
    assert esme.read() == EnquireLinkResp(sequence_number=seq)


def test_a_second_bind_gets_ralybnd_and_the_first_bind_holds(server, raw_esme) -> None:
    esme = bound(raw_esme, server)
    [seq] = esme.send(BindTransmitter(system_id="esme1", password="secret1"))
    resp = esme.read()
    assert isinstance(resp, BindTransmitterResp)
    assert (resp.command_status, resp.sequence_number) == (S.ESME_RALYBND, seq)
    [seq] = esme.send(submit())
    assert esme.read().command_status == 0


def test_a_submit_on_a_receiver_bind_gets_rinvbndsts(server, raw_esme) -> None:
    esme = bound(raw_esme, server, BindReceiver)
    [seq] = esme.send(submit())
    resp = esme.read()
    assert (resp.command_status, resp.sequence_number) == (S.ESME_RINVBNDSTS, seq)


def test_a_deliver_sm_from_the_esme_gets_rinvbndsts(server, raw_esme) -> None:
    esme = bound(raw_esme, server)
    [seq] = esme.send(DeliverSm(short_message=b"x"))
    assert esme.read() == DeliverSmResp(
        command_status=S.ESME_RINVBNDSTS, sequence_number=seq, message_id=None
    )


def test_an_unknown_command_id_gets_generic_nack_rinvcmdid_and_the_session_stays_up(
    server, raw_esme
) -> None:
    esme = bound(raw_esme, server)
    esme.send_bytes(struct.pack(">IIII", 16, 0x00000077, 0, 41))
    assert esme.read() == GenericNack(command_status=S.ESME_RINVCMDID, sequence_number=41)
    [seq] = esme.send(EnquireLink())
    assert esme.read() == EnquireLinkResp(sequence_number=seq)


def test_outbind_from_an_esme_gets_generic_nack_rinvcmdid(server, raw_esme) -> None:
    esme = raw_esme(server)
    [seq] = esme.send(Outbind(system_id="esme1", password="secret1"))
    assert esme.read() == GenericNack(command_status=S.ESME_RINVCMDID, sequence_number=seq)


@pytest.mark.parametrize("command_length", [8, 15, 0x7FFFFFFF])
def test_an_unusable_command_length_gets_generic_nack_rinvcmdlen_and_a_close(
    server, raw_esme, command_length: int
) -> None:
    esme = bound(raw_esme, server)
    esme.send_bytes(struct.pack(">IIII", command_length, 0x00000015, 0, 9))
    nack = esme.read()
    assert isinstance(nack, GenericNack) and nack.command_status == S.ESME_RINVCMDLEN
    assert esme.closed_by_peer()


def test_responses_from_the_esme_are_never_answered(server, raw_esme) -> None:
    esme = bound(raw_esme, server)
    esme.send(SubmitSmResp(sequence_number=77, message_id="x"), GenericNack(sequence_number=78))
    [seq] = esme.send(EnquireLink())
    assert esme.read() == EnquireLinkResp(sequence_number=seq)  # nothing came before it


def test_a_bad_body_gets_its_own_resp_and_the_session_stays_up(server, raw_esme) -> None:
    esme = bound(raw_esme, server)
    # submit_sm whose body stops after service_type: the codec refuses it, framing holds.
    esme.send_bytes(struct.pack(">IIII", 17, 0x00000004, 0, 50) + b"\x00")
    resp = esme.read()
    assert resp.sequence_number == 50 and resp.command_status != 0
    assert isinstance(resp, SubmitSmResp)
    [seq] = esme.send(EnquireLink())
    assert esme.read() == EnquireLinkResp(sequence_number=seq)


def test_unbind_from_the_esme_is_answered_then_the_bridge_closes(server, raw_esme) -> None:
    esme = bound(raw_esme, server)
    [seq] = esme.send(Unbind())
    assert esme.read() == UnbindResp(sequence_number=seq)
    assert esme.closed_by_peer()


def test_query_sm_reaches_the_application(write_config, run_server, raw_esme) -> None:
    server = run_server(write_config())
    esme = bound(raw_esme, server)
    [seq] = esme.send(QuerySm(message_id="abc"))
    resp = esme.read()
    assert isinstance(resp, QuerySmResp) and resp.sequence_number == seq


# --- window, answers in any order, failures -------------------------------------------------


def test_past_the_window_submits_get_rthrottled_and_enquire_link_is_still_answered(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"window": 2}))
    esme = bound(raw_esme, server)
    first, second, third = esme.send(submit(b"sleep:0.5"), submit(b"sleep:0.5"), submit())
    [ping] = esme.send(EnquireLink())
    # Answered at once, while the two in the window are still being worked on:
    assert esme.read() == SubmitSmResp(
        command_status=S.ESME_RTHROTTLED, sequence_number=third, message_id=None
    )
    assert esme.read() == EnquireLinkResp(sequence_number=ping)
    assert {esme.read().sequence_number, esme.read().sequence_number} == {first, second}


def test_smpplib_gets_pipelined_answers_in_completion_order(server, smpplib_esme) -> None:
    client = smpplib_esme(server)
    client.bind_transmitter(system_id="esme1", password="secret1")
    answers: list[tuple[int, bytes]] = []
    client.set_message_sent_handler(lambda pdu: answers.append((pdu.sequence, pdu.message_id)))
    slow = client.send_message(source_addr="A", destination_addr="601", short_message=b"sleep:0.3")
    fast = client.send_message(source_addr="A", destination_addr="601", short_message=b"now")
    client.read_once()
    client.read_once()
    assert answers == [
        (fast.sequence, f"id-{fast.sequence}".encode()),
        (slow.sequence, f"id-{slow.sequence}".encode()),
    ]


def test_a_failing_handler_costs_one_rsyserr_and_the_bind_stays_up(server, smpplib_esme) -> None:
    client = smpplib_esme(server)
    client.bind_transceiver(system_id="esme1", password="secret1")
    errors: list[tuple[int, int]] = []
    answers: list[tuple[int, bytes | None]] = []
    client.set_error_pdu_handler(lambda pdu: errors.append((pdu.sequence, pdu.status)))
    client.set_message_sent_handler(lambda pdu: answers.append((pdu.sequence, pdu.message_id)))
    bad = client.send_message(source_addr="A", destination_addr="601", short_message=b"boom")
    client.read_once()
    good = client.send_message(source_addr="A", destination_addr="601", short_message=b"fine")
    client.read_once()
    assert errors == [(bad.sequence, S.ESME_RSYSERR)]
    assert answers[-1] == (good.sequence, f"id-{good.sequence}".encode())
