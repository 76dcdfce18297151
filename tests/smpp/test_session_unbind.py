"""How a Session ends: unbind in both directions, and the peer going away (SMPP 3.4 §4.2)."""

from __future__ import annotations

from bridge.pdu import (
    BindTransceiver,
    CommandId,
    DeliverSm,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from bridge.smpp import (
    BindRequested,
    CloseReason,
    PduRejected,
    PeerClosed,
    ResponseReceived,
    SessionState,
)

from .session_doubles import Esme


def header(pdu: Pdu) -> tuple[int, int, int]:
    return (pdu.command_id, pdu.command_status, pdu.sequence_number)


# --- unbind, both directions -----------------------------------------------------------------


def test_the_esmes_unbind_is_answered_and_the_session_closes_at_once_when_nothing_is_owed() -> None:
    esme = Esme()
    esme.bind()
    esme.send(Unbind())
    assert esme.take() == [UnbindResp(sequence_number=3)]
    assert esme.session.state is SessionState.UNBOUND
    assert esme.session.must_close and esme.session.close_reason is CloseReason.UNBOUND


def test_after_the_esmes_unbind_owed_answers_still_go_out_then_the_session_closes() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    esme.send(Unbind())
    assert not esme.session.must_close  # the submit is still with the application
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    assert [p.command_id for p in esme.take()] == [
        CommandId.UNBIND_RESP,
        CommandId.SUBMIT_SM_RESP,
    ]
    assert esme.session.must_close


def test_requests_after_the_esmes_unbind_get_rinvbndsts() -> None:
    esme = Esme()
    esme.bind()
    esme.submit()
    esme.send(Unbind())
    esme.take()
    (event,) = esme.send(SubmitSm())
    assert isinstance(event, PduRejected) and event.command_status == 0x04


def test_start_unbind_sends_unbind_and_closes_once_unbind_resp_arrives() -> None:
    esme = Esme()
    esme.bind()
    number = esme.session.start_unbind(esme.now)
    assert esme.take() == [Unbind(sequence_number=number)]  # type: ignore[arg-type]
    assert esme.session.state is SessionState.UNBINDING
    (event,) = esme.send(UnbindResp(sequence_number=number))  # type: ignore[arg-type]
    assert isinstance(event, ResponseReceived)
    assert esme.session.state is SessionState.UNBOUND and esme.session.must_close


def test_while_unbinding_owed_answers_still_go_out_and_new_requests_are_refused() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    esme.session.start_unbind(esme.now)
    (refused,) = esme.send(SubmitSm())
    assert isinstance(refused, PduRejected) and refused.command_status == 0x04
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    assert [header(p)[:2] for p in esme.take()] == [
        (CommandId.UNBIND, 0),
        (CommandId.SUBMIT_SM_RESP, 0x04),
        (CommandId.SUBMIT_SM_RESP, 0),
    ]


def test_crossing_unbinds_are_both_answered() -> None:
    esme = Esme()
    esme.bind()
    number = esme.session.start_unbind(esme.now)
    esme.send(Unbind(sequence_number=50))
    esme.send(UnbindResp(sequence_number=number))  # type: ignore[arg-type]
    assert [header(p) for p in esme.take()] == [
        (CommandId.UNBIND, 0, number),
        (CommandId.UNBIND_RESP, 0, 50),
    ]
    assert esme.session.must_close


def test_start_unbind_of_a_session_that_never_bound_just_closes_it() -> None:
    esme = Esme()
    assert esme.session.start_unbind(esme.now) is None
    assert esme.take() == []
    assert esme.session.must_close and esme.session.close_reason is CloseReason.STOPPED


def test_start_unbind_twice_sends_one_unbind() -> None:
    esme = Esme()
    esme.bind()
    esme.session.start_unbind(esme.now)
    assert esme.session.start_unbind(esme.now) is None
    assert len(esme.take()) == 1


# --- the peer going away ---------------------------------------------------------------------


def test_the_peer_closing_ends_the_session_and_leaves_our_unanswered_requests_readable() -> None:
    esme = Esme()
    esme.bind(SessionState.BOUND_RX)
    esme.answer(DeliverSm(short_message=b"receipt"))
    assert esme.close() == [PeerClosed()]
    assert esme.session.state is SessionState.CLOSED
    assert esme.session.close_reason is CloseReason.PEER_CLOSED
    assert [p.short_message for p in esme.session.unanswered_requests()] == [b"receipt"]  # type: ignore[attr-defined]
    assert esme.close() == []  # reported once


def test_answers_after_the_peer_closed_are_dropped_quietly() -> None:
    esme = Esme()
    esme.bind()
    event = esme.submit()
    esme.close()
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    assert esme.take() == []


def test_a_bind_answer_after_the_peer_closed_is_dropped_quietly() -> None:
    esme = Esme()
    (event,) = esme.send(BindTransceiver(system_id="esme1"))
    esme.close()
    assert isinstance(event, BindRequested)
    esme.session.accept_bind(event, esme.now)
    assert esme.take() == [] and esme.session.state is SessionState.CLOSED
