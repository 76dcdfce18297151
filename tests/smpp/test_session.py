"""Whole conversations between an in-memory ESME and a Session (no sockets, no clock)."""

from __future__ import annotations

import pytest

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CommandId,
    CommandStatus,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    Unbind,
    encode,
)
from bridge.smpp import (
    BindRequested,
    BindType,
    CloseReason,
    LocalProtocolError,
    PduRejected,
    RequestReceived,
    ResponseDropped,
    ResponseMismatch,
    ResponseReceived,
    SendNotAllowed,
    SessionConfig,
    SessionState,
    Throttled,
    UnknownSequenceNumber,
    WindowFull,
)

from .session_doubles import Esme

ROK = CommandStatus.ESME_ROK


def header(pdu: Pdu) -> tuple[int, int, int]:
    return (pdu.command_id, pdu.command_status, pdu.sequence_number)


def raw_pdu(command_id: int, sequence_number: int, body: bytes = b"", status: int = 0) -> bytes:
    length = 16 + len(body)
    fields = (length, command_id, status, sequence_number)
    return b"".join(f.to_bytes(4, "big") for f in fields) + body


# --- binding -------------------------------------------------------------------------------


def test_accepted_transceiver_bind_is_answered_with_our_system_id_and_sc_interface_version() -> (
    None
):
    esme = Esme(SessionConfig(our_system_id="isms-bridge"))
    (event,) = esme.send(BindTransceiver(system_id="esme1", password="secret1"))
    assert event == BindRequested(pdu=event.pdu, bind_type=BindType.TRANSCEIVER)  # type: ignore[union-attr]
    assert isinstance(event, BindRequested) and event.system_id == "esme1"
    assert esme.take() == []  # nothing goes out before the application decides
    esme.session.accept_bind(event, esme.now)
    assert esme.take() == [
        BindTransceiverResp(
            sequence_number=2,
            system_id="isms-bridge",
            tlvs=(Tlv(Tag.SC_INTERFACE_VERSION, 0x34),),
        )
    ]
    assert esme.session.state is SessionState.BOUND_TRX
    assert esme.session.bind_type is BindType.TRANSCEIVER
    assert esme.session.bound_system_id == "esme1"


def test_an_smpp_33_esme_gets_no_sc_interface_version_tlv() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransmitter(system_id="old", password="pw", interface_version=0x33))
    assert isinstance(event, BindRequested)
    esme.session.accept_bind(event, esme.now)
    assert esme.take() == [BindTransmitterResp(sequence_number=2, system_id="isms-bridge")]


def test_a_refused_bind_gets_the_status_and_the_session_must_close() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransmitter(system_id="esme1", password="wrong"))
    assert isinstance(event, BindRequested)
    esme.session.refuse_bind(event, CommandStatus.ESME_RINVPASWD, esme.now)
    (answer,) = esme.take()
    assert header(answer) == (CommandId.BIND_TRANSMITTER_RESP, 0x0E, 2)
    assert esme.session.must_close
    assert esme.session.close_reason is CloseReason.BIND_REFUSED
    assert esme.session.bind_type is None


def test_bytes_after_a_refused_bind_are_ignored_so_a_retry_is_not_judged() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransmitter(system_id="esme1", password="wrong"))
    assert isinstance(event, BindRequested)
    esme.session.refuse_bind(event, CommandStatus.ESME_RINVPASWD, esme.now)
    esme.take()
    assert esme.send(BindTransmitter(system_id="esme1", password="guess2")) == []
    assert esme.take() == []
    assert esme.session.buffered_bytes == 0


def test_refusing_a_bind_with_status_zero_is_a_local_error() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransmitter(system_id="esme1"))
    assert isinstance(event, BindRequested)
    with pytest.raises(LocalProtocolError):
        esme.session.refuse_bind(event, ROK, esme.now)


def test_a_second_bind_while_the_first_is_judged_gets_ralybnd() -> None:
    esme = Esme()
    (first,) = esme.send(BindTransceiver(system_id="esme1"))
    (second,) = esme.send(BindReceiver(system_id="esme1"))
    assert isinstance(second, PduRejected) and second.command_status == 0x05
    assert [header(p) for p in esme.take()] == [(CommandId.BIND_RECEIVER_RESP, 0x05, 3)]
    assert isinstance(first, BindRequested)
    esme.session.accept_bind(first, esme.now)  # the first bind is still answerable
    assert esme.session.state is SessionState.BOUND_TRX


def test_a_bind_answered_twice_is_a_local_error() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransceiver(system_id="esme1"))
    assert isinstance(event, BindRequested)
    esme.session.accept_bind(event, esme.now)
    with pytest.raises(SendNotAllowed):
        esme.session.accept_bind(event, esme.now)


def test_answering_a_bind_with_send_is_a_local_error() -> None:
    esme = Esme()
    esme.send(BindTransceiver(system_id="esme1"))
    with pytest.raises(ResponseMismatch):
        esme.answer(GenericNack(sequence_number=2, command_status=0x0D))


def test_a_bind_with_a_bad_body_gets_its_own_resp_and_the_session_stays_open() -> None:
    esme = Esme()
    # password is a C-Octet String of at most 9 octets (SMPP 3.4 §4.1.1): ten is too long.
    body = b"esme1\x00" + b"0123456789\x00" + b"\x00" + b"\x34\x00\x00" + b"\x00"
    (event,) = esme.send_bytes(raw_pdu(CommandId.BIND_TRANSMITTER, 9, body))
    assert isinstance(event, PduRejected) and not event.closing
    (answer,) = esme.take()
    assert (answer.command_id, answer.sequence_number) == (CommandId.BIND_TRANSMITTER_RESP, 9)
    assert answer.command_status == event.command_status != 0
    assert esme.session.state is SessionState.OPEN


# --- requests and their answers --------------------------------------------------------------


def test_a_submit_is_handed_up_and_answered_later_echoing_its_sequence_number() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_TX)
    event = esme.submit(short_message=b"hello")
    assert esme.take() == []
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="trx-1"))
    assert esme.take() == [SubmitSmResp(sequence_number=3, message_id="trx-1")]
    assert esme.session.answers_owed == 0


def test_answers_may_go_out_in_any_order() -> None:
    esme = Esme()
    esme.bind()
    first, second = esme.submit(), esme.submit()
    esme.answer(SubmitSmResp(sequence_number=second.pdu.sequence_number, message_id="B"))
    esme.answer(SubmitSmResp(sequence_number=first.pdu.sequence_number, message_id="A"))
    assert [(p.sequence_number, p.message_id) for p in esme.take()] == [(4, "B"), (3, "A")]  # type: ignore[attr-defined]


def test_answering_a_request_twice_is_a_local_error() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    with pytest.raises(UnknownSequenceNumber):
        esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    assert len(esme.take()) == 1


def test_answering_with_the_wrong_response_type_is_a_local_error() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    with pytest.raises(ResponseMismatch):
        esme.answer(QuerySmResp(sequence_number=event.pdu.sequence_number))
    assert esme.take() == [] and esme.session.answers_owed == 1


def test_an_answer_the_codec_cannot_encode_is_a_local_error_and_the_request_stays_owed() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    with pytest.raises(LocalProtocolError):  # message_id is a C-Octet String of at most 65
        esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="x" * 99))
    assert esme.take() == [] and esme.session.answers_owed == 1


def test_a_request_over_the_window_gets_rthrottled_at_once_and_the_rest_keep_flowing() -> None:
    esme = Esme(SessionConfig(window=2))
    esme.bind()
    esme.submit()
    esme.submit()
    events = esme.send(SubmitSm(), EnquireLink(), Unbind())
    assert [type(e).__name__ for e in events] == [
        "Throttled",
        "EnquireLinkReceived",
        "UnbindRequested",
    ]
    assert events[0] == Throttled(command_id=CommandId.SUBMIT_SM, sequence_number=5)
    assert [header(p) for p in esme.take()] == [
        (CommandId.SUBMIT_SM_RESP, 0x58, 5),
        (CommandId.ENQUIRE_LINK_RESP, 0, 6),
        (CommandId.UNBIND_RESP, 0, 7),
    ]


def test_a_throttled_answer_carries_no_body() -> None:
    esme = Esme(SessionConfig(window=1))
    esme.bind()
    esme.submit()
    esme.send(SubmitSm())
    assert esme.take() == [SubmitSmResp(command_status=0x58, sequence_number=4, message_id=None)]


def test_a_second_request_under_an_unanswered_sequence_number_is_refused_not_handed_up() -> None:
    esme = Esme()
    esme.bind()
    esme.submit(sequence_number=77)
    (event,) = esme.send(SubmitSm(sequence_number=77))
    assert isinstance(event, PduRejected) and event.command_status == 0x08
    assert [header(p) for p in esme.take()] == [(CommandId.SUBMIT_SM_RESP, 0x08, 77)]
    assert esme.session.answers_owed == 1


def test_a_submit_with_a_bad_body_gets_submit_sm_resp_with_the_codec_status() -> None:
    esme = Esme()
    esme.bind()
    good = encode(SubmitSm(sequence_number=9, short_message=b"hello"))
    # sm_length says 200, but 5 octets follow: the codec refuses the body.
    bad = bytearray(good)
    bad[len(good) - 6] = 200
    (event,) = esme.send_bytes(bytes(bad))
    assert isinstance(event, PduRejected) and not event.closing
    (answer,) = esme.take()
    assert header(answer) == (CommandId.SUBMIT_SM_RESP, event.command_status, 9)
    assert answer.command_status != 0
    assert esme.submit().pdu.sequence_number > 0  # the session goes on


def test_a_bad_body_of_a_request_not_allowed_now_gets_rinvbndsts() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_RX)
    (event,) = esme.send_bytes(raw_pdu(CommandId.SUBMIT_SM, 9, b"\x01\x02"))
    assert isinstance(event, PduRejected) and event.command_status == 0x04
    assert [header(p) for p in esme.take()] == [(CommandId.SUBMIT_SM_RESP, 0x04, 9)]


def test_a_receiver_may_not_submit() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_RX)
    (event,) = esme.send(SubmitSm(destination_addr="60123456789"))
    assert isinstance(event, PduRejected) and event.command_status == 0x04
    assert esme.take() == [SubmitSmResp(command_status=0x04, sequence_number=3, message_id=None)]
    assert esme.session.state is SessionState.BOUND_RX


def test_a_request_before_bind_gets_its_own_resp_with_rinvbndsts() -> None:
    esme = Esme()
    esme.send(SubmitSm())
    assert [header(p) for p in esme.take()] == [(CommandId.SUBMIT_SM_RESP, 0x04, 2)]
    assert esme.session.state is SessionState.OPEN


# --- unknown, wrong-direction and unusable PDUs ----------------------------------------------


def test_an_unknown_command_id_gets_generic_nack_rinvcmdid_and_the_session_stays_up() -> None:
    esme = Esme()
    esme.bind()
    (event,) = esme.send_bytes(raw_pdu(0x00000099, 41))
    assert event == PduRejected(
        command_id=0x99,
        sequence_number=41,
        command_status=0x03,
        reason=event.reason,  # type: ignore[union-attr]
    )
    assert esme.take() == [GenericNack(command_status=0x03, sequence_number=41)]
    assert not esme.session.must_close
    esme.submit()


def test_unknown_commands_past_the_budget_close_the_session() -> None:
    esme = Esme(SessionConfig(max_unknown_commands=2))
    esme.bind()
    events = esme.send_bytes(b"".join(raw_pdu(0x99, n) for n in (1, 2, 3, 4)))
    assert [e.closing for e in events] == [False, False, True]  # type: ignore[union-attr]
    assert [p.sequence_number for p in esme.take()] == [1, 2, 3]  # nothing after the close
    assert esme.session.close_reason is CloseReason.UNKNOWN_COMMANDS


@pytest.mark.parametrize("command_id", [CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION])
def test_an_smsc_only_pdu_from_a_client_gets_generic_nack_rinvcmdid(command_id: int) -> None:
    esme = Esme()
    esme.bind()
    body = b"esme1\x00\x00" if command_id == CommandId.OUTBIND else b"\x00\x00\x00\x00\x00\x00"
    (event,) = esme.send_bytes(raw_pdu(command_id, 12, body))
    assert isinstance(event, PduRejected) and event.command_status == 0x03
    assert esme.take() == [GenericNack(command_status=0x03, sequence_number=12)]
    assert not esme.session.must_close


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\x00\x00\x00\x08" + b"\x00" * 4, "command_length below the header"),
        ((70_000).to_bytes(4, "big") + b"\x00\x00\x00\x04", "command_length over max_pdu_size"),
        (b"GET / HTTP/1.1\r\n\r\n", "not SMPP at all"),
    ],
)
def test_an_unusable_command_length_gets_generic_nack_rinvcmdlen_and_closes(
    raw: bytes, why: str
) -> None:
    esme = Esme()
    esme.bind()
    (event,) = esme.send_bytes(raw)
    assert isinstance(event, PduRejected) and event.closing, why
    assert esme.take() == [GenericNack(command_status=0x02, sequence_number=0)]
    assert esme.session.must_close
    assert esme.session.close_reason is CloseReason.FRAMING_LOST
    assert esme.send(EnquireLink()) == []  # nothing is read after framing is lost


def test_pdus_before_a_lost_frame_are_still_answered() -> None:
    esme = Esme()
    esme.bind()
    events = esme.send_bytes(encode(EnquireLink(sequence_number=5)) + b"\x00\x00\x00\x01")
    assert [type(e).__name__ for e in events] == ["EnquireLinkReceived", "PduRejected"]
    assert [header(p) for p in esme.take()] == [
        (CommandId.ENQUIRE_LINK_RESP, 0, 5),
        (CommandId.GENERIC_NACK, 0x02, 0),
    ]


# --- responses from the peer -----------------------------------------------------------------


def test_a_response_matching_nothing_is_dropped_unanswered() -> None:
    esme = Esme()
    esme.bind()
    (event,) = esme.send(SubmitSmResp(sequence_number=500, message_id="x"))
    assert isinstance(event, ResponseDropped) and event.sequence_number == 500
    (nack_event,) = esme.send(GenericNack(sequence_number=501, command_status=3))
    assert isinstance(nack_event, ResponseDropped)
    assert esme.take() == []  # SMPP 3.4 §4.3: never answer a response


def test_an_undecodable_response_is_dropped_unanswered() -> None:
    esme = Esme()
    esme.bind()
    (event,) = esme.send_bytes(raw_pdu(CommandId.DELIVER_SM_RESP, 7, b"no-nul-here"))
    assert isinstance(event, ResponseDropped) and event.sequence_number == 7
    (unknown,) = esme.send_bytes(raw_pdu(0x80000099, 8))
    assert isinstance(unknown, ResponseDropped)
    assert esme.take() == []


def test_deliver_sm_to_a_receiver_is_matched_with_its_deliver_sm_resp() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_RX)
    receipt = DeliverSm(esm_class=0x04, short_message=b"id:1 stat:DELIVRD")
    number = esme.answer(receipt)
    (sent,) = esme.take()
    assert sent == DeliverSm(
        sequence_number=number, esm_class=0x04, short_message=receipt.short_message
    )
    (event,) = esme.send(DeliverSmResp(sequence_number=number))
    assert event == ResponseReceived(pdu=DeliverSmResp(sequence_number=number), request=sent)
    assert esme.session.unanswered_requests() == ()


def test_a_generic_nack_answering_our_deliver_sm_is_matched_to_it() -> None:
    esme = Esme()
    esme.bind()
    number = esme.answer(DeliverSm(short_message=b"x"))
    (event,) = esme.send(GenericNack(sequence_number=number, command_status=0x03))
    assert isinstance(event, ResponseReceived) and event.request.sequence_number == number


def test_a_response_of_the_wrong_type_is_dropped_and_our_request_still_waits() -> None:
    esme = Esme()
    esme.bind()
    number = esme.answer(DeliverSm(short_message=b"x"))
    (event,) = esme.send(DataSmResp(sequence_number=number))
    assert isinstance(event, ResponseDropped) and "deliver_sm" in event.reason
    assert [r.sequence_number for r in esme.session.unanswered_requests()] == [number]


def test_deliver_sm_to_a_transmitter_is_a_local_error() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_TX)
    with pytest.raises(SendNotAllowed):
        esme.answer(DeliverSm(short_message=b"x"))
    assert esme.take() == []


def test_our_requests_past_the_window_are_a_local_error_but_pings_still_go() -> None:
    esme = Esme(SessionConfig(window=1))
    esme.bind()
    esme.answer(DeliverSm(short_message=b"1"))
    assert not esme.session.may_send(CommandId.DELIVER_SM)
    with pytest.raises(WindowFull):
        esme.answer(DeliverSm(short_message=b"2"))
    assert esme.session.may_send(CommandId.ENQUIRE_LINK)
    esme.answer(EnquireLink())
    assert [p.command_id for p in esme.take()] == [CommandId.DELIVER_SM, CommandId.ENQUIRE_LINK]


def test_our_sequence_numbers_run_from_one() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_RX)
    assert [esme.answer(DeliverSm()) for _ in range(3)] == [1, 2, 3]


def test_an_enquire_link_from_the_esme_is_answered_at_once_even_before_bind() -> None:
    esme = Esme()
    esme.send(EnquireLink(sequence_number=9))
    assert esme.take() == [EnquireLinkResp(sequence_number=9)]


def test_a_request_handed_up_carries_the_decoded_pdu() -> None:
    esme = Esme()
    esme.bind()
    submit = SubmitSm(source_addr="MyBrand", destination_addr="60123456789", short_message=b"hi")
    (event,) = esme.send(submit)
    assert event == RequestReceived(
        pdu=SubmitSm(
            sequence_number=3,
            source_addr="MyBrand",
            destination_addr="60123456789",
            short_message=b"hi",
        )
    )
