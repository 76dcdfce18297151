"""The SMPP 3.4 §7.2 timers as deadlines: the Session never reads a clock, tests move `now`."""

from __future__ import annotations

from bridge.pdu import (
    BindTransceiver,
    CommandId,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    SubmitSmResp,
    Unbind,
)
from bridge.smpp import (
    BindRequested,
    CloseReason,
    SessionConfig,
    SessionState,
    Timer,
    TimerExpired,
)

from .session_doubles import Esme

CONFIG = SessionConfig(
    session_init_s=10.0,
    enquire_link_interval_s=60.0,
    inactivity_s=300.0,
    response_timeout_s=30.0,
)


def test_a_session_that_never_binds_is_closed_by_the_session_init_timer() -> None:
    esme = Esme(CONFIG)
    assert esme.session.next_deadline() == 10.0
    assert esme.at(9.9) == []
    assert esme.at(10.0) == [TimerExpired(timer=Timer.SESSION_INIT)]
    assert esme.session.must_close
    assert esme.session.close_reason is CloseReason.SESSION_INIT_TIMEOUT


def test_session_init_still_runs_while_the_bind_is_being_judged() -> None:
    esme = Esme(CONFIG)
    esme.send(BindTransceiver(system_id="esme1"))
    assert esme.at(10.0) == [TimerExpired(timer=Timer.SESSION_INIT)]


def test_pinging_before_bind_does_not_extend_session_init() -> None:
    esme = Esme(CONFIG)
    esme.now = 8.0
    esme.send(EnquireLink())
    assert esme.session.next_deadline() == 10.0


def test_session_init_stops_once_bound() -> None:
    esme = Esme(CONFIG)
    esme.now = 5.0
    esme.bind()
    assert esme.at(10.0) == []
    assert esme.session.next_deadline() == 65.0  # the keepalive, from the bind


def test_the_bridge_pings_a_peer_silent_for_the_enquire_link_interval() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    assert esme.at(60.0) == [TimerExpired(timer=Timer.ENQUIRE_LINK)]
    (ping,) = esme.take()
    assert ping == EnquireLink(sequence_number=1)
    assert esme.session.next_deadline() == 90.0  # its response timer
    (answered,) = esme.send(EnquireLinkResp(sequence_number=1))
    assert answered.request == ping  # type: ignore[union-attr]
    assert esme.session.next_deadline() == 120.0
    assert esme.session.state is SessionState.BOUND_TRX


def test_any_pdu_from_the_peer_postpones_the_ping() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    esme.now = 50.0
    esme.send(EnquireLink())
    assert esme.at(60.0) == []
    assert esme.session.next_deadline() == 110.0


def test_an_unanswered_ping_closes_the_session() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    esme.at(60.0)
    (ping,) = esme.take()
    assert esme.at(90.0) == [TimerExpired(timer=Timer.RESPONSE, request=ping)]
    assert esme.session.must_close
    assert esme.session.close_reason is CloseReason.ENQUIRE_LINK_TIMEOUT
    assert esme.session.next_deadline() is None


def test_only_one_ping_is_outstanding_at_a_time() -> None:
    esme = Esme(SessionConfig(enquire_link_interval_s=10.0, response_timeout_s=30.0))
    esme.bind()
    esme.at(10.0)
    esme.at(25.0)
    assert len(esme.take()) == 1


def test_a_silent_peer_is_unbound_by_the_inactivity_timer() -> None:
    esme = Esme(SessionConfig(enquire_link_interval_s=0, inactivity_s=120.0))
    esme.bind()
    assert esme.session.next_deadline() == 120.0
    assert esme.at(120.0) == [TimerExpired(timer=Timer.INACTIVITY)]
    (unbind,) = esme.take()
    assert unbind == Unbind(sequence_number=1)
    assert esme.session.state is SessionState.UNBINDING


def test_a_peer_that_answers_pings_stays_bound_past_the_inactivity_timer() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    for minute in range(1, 11):
        esme.at(minute * 60.0)
        for ping in esme.take():
            esme.send(EnquireLinkResp(sequence_number=ping.sequence_number))
    assert esme.session.state is SessionState.BOUND_TRX


def test_an_unbind_without_unbind_resp_closes_after_the_response_timer() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    esme.now = 100.0
    number = esme.session.start_unbind(esme.now)
    (unbind,) = esme.take()
    assert esme.session.next_deadline() == 130.0
    assert esme.at(130.0) == [TimerExpired(timer=Timer.RESPONSE, request=unbind)]
    assert number == unbind.sequence_number
    assert esme.session.close_reason is CloseReason.UNBIND_TIMEOUT


def test_an_unanswered_deliver_sm_is_reported_and_the_session_stays_up() -> None:
    esme = Esme(CONFIG)
    esme.bind(SessionState.BOUND_RX)
    esme.now = 1.0
    esme.answer(DeliverSm(short_message=b"receipt"))
    (sent,) = esme.take()
    assert esme.at(31.0) == [TimerExpired(timer=Timer.RESPONSE, request=sent)]
    assert not esme.session.must_close
    assert esme.session.unanswered_requests() == ()
    (late,) = esme.send(DeliverSmResp(sequence_number=sent.sequence_number))
    assert type(late).__name__ == "ResponseDropped"


def test_an_unbound_session_waits_for_owed_answers_only_a_response_timer() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    esme.submit()
    esme.now = 10.0
    esme.send(Unbind())
    assert esme.session.next_deadline() == 40.0
    assert esme.at(40.0) == [TimerExpired(timer=Timer.UNBOUND_DRAIN)]
    assert esme.session.close_reason is CloseReason.UNBOUND_DRAIN_TIMEOUT


def test_a_timer_called_early_does_nothing() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    assert esme.at(59.0) == []
    assert esme.take() == []
    assert esme.session.next_deadline() == 60.0


def test_timers_with_zero_are_off() -> None:
    esme = Esme(SessionConfig(enquire_link_interval_s=0, inactivity_s=0))
    esme.bind()
    assert esme.session.next_deadline() is None
    assert esme.at(1e9) == []


def test_a_closed_session_has_no_deadline_and_ignores_late_timers() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    esme.close()
    assert esme.session.next_deadline() is None
    assert esme.at(1e9) == []


def test_the_response_timer_of_a_deliver_sm_counts_from_when_it_was_sent() -> None:
    esme = Esme(CONFIG)
    esme.bind(SessionState.BOUND_TRX)
    esme.now = 7.0
    esme.answer(DeliverSm())
    assert esme.session.next_deadline() == 37.0


def test_a_bind_accepted_late_starts_the_keepalive_from_the_acceptance() -> None:
    esme = Esme(CONFIG)
    (event,) = esme.send(BindTransceiver(system_id="esme1"))
    assert isinstance(event, BindRequested)
    esme.now = 3.0
    esme.session.accept_bind(event, esme.now)
    assert esme.session.next_deadline() == 63.0


def test_an_answer_to_a_request_does_not_count_as_hearing_from_the_peer() -> None:
    esme = Esme(CONFIG)
    esme.bind()
    event = esme.submit()
    esme.now = 59.0
    esme.answer(SubmitSmResp(sequence_number=event.pdu.sequence_number, message_id="A"))
    assert esme.session.next_deadline() == 60.0
    assert [p.command_id for p in (esme.at(60.0) and esme.take())] == [
        CommandId.SUBMIT_SM_RESP,
        CommandId.ENQUIRE_LINK,
    ]
