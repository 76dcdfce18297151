"""SmppConnection: the asyncio shell around one Session, driven through a fake transport."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.pdu import (
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    encode,
)
from bridge.server import (
    BindVerdict,
    ConnectionRefusal,
    DeliveryNotConfirmed,
    NoConnectionObserver,
    Peer,
    ReadBudget,
    ReceiverBusy,
    SessionContext,
)
from bridge.server.connection import SmppConnection
from bridge.server.handlers import SubmitRequest
from bridge.smpp import BindType, Session

from .server_doubles import (
    FakeAuthority,
    FakeHandler,
    Harness,
    settings,
    submit,
    until,
)

ROK = CommandStatus.ESME_ROK


# --- binds ---------------------------------------------------------------------------------


async def test_accepted_bind_is_answered_rok_and_the_session_is_registered() -> None:
    h = Harness()
    [resp] = h.bind()
    assert isinstance(resp, BindTransceiverResp)
    assert (resp.command_status, resp.sequence_number) == (ROK, 2)
    assert h.registry.count("esme1") == 1
    assert h.connection.context == SessionContext(
        session_id="s1",
        peer=Peer(host="10.0.0.5", port=40112),
        system_id="esme1",
        bind_type=BindType.TRANSCEIVER,
    )


async def test_the_authority_sees_peer_bind_type_password_and_the_binds_already_held() -> None:
    h = Harness()
    h.bind()
    second, _transport = h.connect(peer=("10.0.0.6", 5000))
    second.data_received(encode(BindTransmitter(system_id="esme1", password="secret1")))
    attempt, bound = h.authority.attempts[1]
    assert (attempt.peer, attempt.bind_type, attempt.password, bound) == (
        Peer(host="10.0.0.6", port=5000),
        BindType.TRANSMITTER,
        "secret1",
        1,
    )


async def test_refused_bind_is_answered_at_once_and_closed_after_the_delay() -> None:
    h = Harness(
        authority=FakeAuthority(BindVerdict(command_status=CommandStatus.ESME_RINVPASWD)),
        server_settings=settings(bind_failure_delay_s=0.05),
    )
    [resp] = h.bind()
    assert resp.command_status == CommandStatus.ESME_RINVPASWD
    assert not h.transport.closing and not h.transport.reading
    await until(lambda: h.transport.lost)
    assert not h.transport.aborted  # closed, so the refusal was flushed first
    assert h.registry.count("esme1") == 0


async def test_refusal_with_an_answer_delay_is_held_back_then_sent() -> None:
    verdict = BindVerdict(
        command_status=CommandStatus.ESME_RINVSYSID, reason="unknown", answer_delay_s=0.05
    )
    h = Harness(authority=FakeAuthority(verdict), server_settings=settings(bind_failure_delay_s=0))
    assert h.bind() == []
    await until(lambda: h.transport.lost)
    [resp] = h.received()
    assert resp.command_status == CommandStatus.ESME_RINVSYSID


async def test_a_failing_authority_answers_rsyserr_and_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(FakeAuthority):
        def decide(self, attempt: object, bound_sessions: int, now: float) -> BindVerdict:
            raise RuntimeError("database gone")

    h = Harness(authority=Broken(), server_settings=settings(bind_failure_delay_s=0))
    [resp] = h.bind()
    assert resp.command_status == CommandStatus.ESME_RSYSERR
    await until(lambda: h.transport.lost)
    assert "event=bind_authority_failed session=s1" in caplog.text


async def test_no_log_line_ever_shows_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness(authority=FakeAuthority(BindVerdict(command_status=CommandStatus.ESME_RINVPASWD)))
    h.bind()
    ok = Harness()
    ok.bind()
    assert "secret1" not in caplog.text


async def test_a_peer_controlled_system_id_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness(authority=FakeAuthority(BindVerdict(command_status=CommandStatus.ESME_RINVSYSID)))
    h.bind(BindTransmitter(system_id="x\nevent=ok \x1b", password="p"))
    line = next(r.getMessage() for r in caplog.records if "bind_refused" in r.getMessage())
    assert "\n" not in line and "\x1b" not in line
    assert 'system_id="x\\x0aevent\\x3dok \\x1b"' in line


# --- flow control and timers ---------------------------------------------------------------


async def test_when_the_esme_stops_reading_answers_the_bridge_stops_reading_requests() -> None:
    h = Harness()
    h.connection.pause_writing()
    assert not h.transport.reading
    h.connection.resume_writing()
    assert h.transport.reading


async def test_reading_stays_paused_while_another_reason_still_holds() -> None:
    h = Harness(
        authority=FakeAuthority(BindVerdict(command_status=CommandStatus.ESME_RBINDFAIL)),
        server_settings=settings(bind_failure_delay_s=5),
    )
    h.connection.pause_writing()
    h.bind()
    h.connection.resume_writing()
    assert not h.transport.reading  # the refused bind still holds reading off


async def test_a_connection_that_never_binds_is_closed_by_the_session_init_timer() -> None:
    h = Harness(server_settings=settings(session_init_s=0.05))
    await until(lambda: h.transport.lost)
    assert h.received() == []


async def test_many_pdus_reuse_one_timer_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    calls: list[float] = []
    real_call_at = loop.call_at

    def counting_call_at(when: float, callback: object, *args: object) -> asyncio.TimerHandle:
        calls.append(when)
        return real_call_at(when, callback, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    h = Harness()
    h.bind()
    for _ in range(50):
        h.send(EnquireLink())
        await asyncio.sleep(0)  # one loop turn each: within every turn's read budget
    assert len(h.received()) == 50
    assert len(calls) == 1


async def test_an_idle_session_is_pinged_and_closed_when_the_ping_goes_unanswered() -> None:
    h = Harness(server_settings=settings(enquire_link_interval_s=0.05, response_timeout_s=0.05))
    h.bind()
    await until(lambda: h.transport.lost)
    [ping] = h.received()
    assert isinstance(ping, EnquireLink)


async def test_an_answered_ping_keeps_the_session_bound() -> None:
    # The response timer (0.03 s) is shorter than the ping interval (0.05 s): the second
    # ping only comes if the session outlived the first ping's deadline.
    h = Harness(server_settings=settings(enquire_link_interval_s=0.05, response_timeout_s=0.03))
    h.bind()
    for _ in range(2):
        await until(lambda: h.transport.written or h.transport.closing)
        [ping] = h.received()
        assert isinstance(ping, EnquireLink) and not h.transport.closing
        h.send(EnquireLinkResp(sequence_number=ping.sequence_number))


async def test_a_bug_raised_from_a_timer_is_logged_once_and_aborts_the_connection(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Unguarded, the exception ends the timer callback before it re-arms: no timer is left
    # and the session would never time out.
    def broken(self: Session, now: float) -> None:
        raise RuntimeError("a bug in the session's timers")

    monkeypatch.setattr(Session, "deadline_passed", broken)
    caplog.set_level(logging.ERROR, logger="bridge.server")
    h = Harness(server_settings=settings(session_init_s=0.05))
    await until(lambda: h.transport.lost)
    assert h.transport.aborted
    assert [r.getMessage().split()[0] for r in caplog.records] == ["event=session_failed"]


async def test_a_bug_raised_on_the_peers_eof_is_logged_once_and_aborts_the_connection(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    receive_data = Session.receive_data

    def broken_on_eof(self: Session, data: bytes, now: float) -> None:
        if not data:
            raise RuntimeError("a bug in the session's end of input")
        receive_data(self, data, now)

    monkeypatch.setattr(Session, "receive_data", broken_on_eof)
    caplog.set_level(logging.ERROR, logger="bridge.server")
    h = Harness()
    h.bind()
    h.connection.eof_received()
    assert h.transport.aborted
    assert [r.getMessage().split()[0] for r in caplog.records] == ["event=session_failed"]


# --- requests the bridge sends --------------------------------------------------------------


async def test_send_request_returns_the_esme_response() -> None:
    h = Harness()
    h.bind()
    pending = asyncio.ensure_future(h.connection.send_request(DeliverSm(short_message=b"r")))
    await until(lambda: h.transport.written)
    [deliver] = h.received()
    h.send(DeliverSmResp(sequence_number=deliver.sequence_number))
    assert await pending == DeliverSmResp(sequence_number=deliver.sequence_number)


async def test_send_request_fails_when_the_response_timer_expires() -> None:
    h = Harness(server_settings=settings(response_timeout_s=0.05))
    h.bind()
    with pytest.raises(DeliveryNotConfirmed):
        await h.connection.send_request(DeliverSm(short_message=b"r"))
    assert not h.transport.closing  # a deliver_sm timeout does not cost the session


async def test_send_request_fails_when_the_connection_closes() -> None:
    h = Harness()
    h.bind()
    pending = asyncio.ensure_future(h.connection.send_request(DeliverSm(short_message=b"r")))
    await until(lambda: h.transport.written)
    h.transport.close()
    with pytest.raises(DeliveryNotConfirmed):
        await pending


async def test_a_transmitter_session_takes_no_deliveries() -> None:
    h = Harness()
    h.bind_transmitter()
    assert not h.connection.takes_deliveries
    with pytest.raises(ReceiverBusy):
        await h.connection.send_request(DeliverSm(short_message=b"r"))


# --- unbind and graceful stop ---------------------------------------------------------------


async def test_unbind_sends_unbind_and_closes_when_unbind_resp_arrives() -> None:
    h = Harness()
    h.bind()
    h.connection.unbind()
    [unbind] = h.received()
    assert isinstance(unbind, Unbind)
    h.send(UnbindResp(sequence_number=unbind.sequence_number))
    await until(lambda: h.transport.lost)
    assert h.registry.count("esme1") == 0


async def test_shutdown_answers_the_request_in_flight_before_it_unbinds() -> None:
    may_finish = asyncio.Event()

    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        await may_finish.wait()
        return SubmitSmResp(message_id="late")

    h = Harness(handler=FakeHandler(answer), server_settings=settings(response_timeout_s=0.05))
    h.bind()
    [seq] = h.send(submit())
    loop = asyncio.get_running_loop()
    stopping = asyncio.ensure_future(h.connection.shutdown(loop.time() + 5))
    await until(lambda: not h.transport.reading)
    assert h.received() == []  # no unbind while the answer is still owed
    may_finish.set()
    await stopping
    answer_pdu, unbind = h.received()
    assert answer_pdu == SubmitSmResp(sequence_number=seq, message_id="late")
    assert isinstance(unbind, Unbind)
    assert h.transport.lost and not h.transport.aborted


async def test_shutdown_aborts_what_is_still_open_at_the_deadline() -> None:
    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        await asyncio.sleep(3600)
        raise AssertionError("never reached")

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    h.send(submit())
    loop = asyncio.get_running_loop()
    await h.connection.shutdown(loop.time() + 0.05)
    assert h.transport.aborted


async def test_shutdown_closes_a_connection_that_never_bound_at_once() -> None:
    h = Harness()
    loop = asyncio.get_running_loop()
    await h.connection.shutdown(loop.time() + 5)
    assert h.transport.lost and not h.transport.aborted
    assert h.received() == []


async def test_a_bind_during_shutdown_is_refused() -> None:
    h = Harness(server_settings=settings(bind_failure_delay_s=0))
    h.connection._stopping = True
    [resp] = h.bind()
    assert resp.command_status == CommandStatus.ESME_RBINDFAIL
    assert h.authority.attempts == []


# --- limits and logs -----------------------------------------------------------------------


async def test_a_connection_over_max_connections_is_dropped_at_once_when_all_are_bound() -> None:
    h = Harness(server_settings=settings(max_connections=1))
    h.bind()
    _second, transport = h.connect()
    assert transport.aborted
    assert len(h.services.seats.connections) == 1
    assert not h.transport.aborted


async def test_over_max_connections_the_oldest_unbound_connection_makes_room() -> None:
    h = Harness(server_settings=settings(max_connections=1))
    _second, transport = h.connect()
    assert h.transport.aborted and not transport.aborted


async def test_message_bodies_are_logged_only_when_log_bodies_is_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet = Harness()
    quiet.bind()
    quiet.send(submit(b"secret text"))
    await until(lambda: quiet.transport.written)
    assert "secret text" not in caplog.text
    loud = Harness(server_settings=settings(log_bodies=True))
    loud.bind()
    loud.send(submit(b"debug text"))
    await until(lambda: loud.transport.written)
    assert 'body="debug text"' in caplog.text


# --- fair reading: one read budget per loop turn -------------------------------------------


async def test_a_large_batch_is_handled_one_read_budget_per_loop_turn() -> None:
    h = Harness(server_settings=settings(read_budget=ReadBudget(pdus=8)))
    h.bind()
    await asyncio.sleep(0)  # the bind's turn ends
    h.send(*(EnquireLink() for _ in range(20)))
    assert len(h.received()) == 8
    assert not h.transport.reading  # the rest waits for the next turn, unread
    await asyncio.sleep(0)
    assert len(h.received()) == 8
    await asyncio.sleep(0)
    assert len(h.received()) == 4
    assert h.transport.reading  # everything handled: reading goes on


async def test_input_left_over_waits_while_the_esme_does_not_read_its_answers() -> None:
    h = Harness(server_settings=settings(read_budget=ReadBudget(pdus=4)))
    h.bind()
    await asyncio.sleep(0)
    h.send(*(EnquireLink() for _ in range(10)))
    h.connection.pause_writing()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(h.received()) == 4
    h.connection.resume_writing()
    await until(lambda: len(h.transport.written) >= 6 * 16)
    assert len(h.received()) == 6


async def test_window_full_refusals_are_logged_once_then_summed_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def never(context: SessionContext, request: SubmitRequest) -> Pdu:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    h = Harness(
        handler=FakeHandler(never),
        server_settings=settings(window=1, log_summary_interval_s=0.05),
    )
    h.bind()
    await asyncio.sleep(0)
    with caplog.at_level(logging.INFO, logger="bridge.server.connection"):
        h.send(*(submit() for _ in range(6)))
        answers = h.received()
        assert [a.command_status for a in answers] == [CommandStatus.ESME_RTHROTTLED] * 5
        await until(lambda: "event=window_full_summary" in caplog.text)
    assert caplog.text.count("event=window_full ") == 1
    assert "event=window_full_summary" in caplog.text and "count=4" in caplog.text


# --- caps per address and on unbound connections -------------------------------------------


class RefusalRecorder(NoConnectionObserver):
    def __init__(self) -> None:
        self.refused: list[tuple[ConnectionRefusal, Peer]] = []

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        self.refused.append((reason, peer))


def bind_over(connection: SmppConnection) -> None:
    """Send a bind_transceiver on a connection other than the harness's own."""
    bind = BindTransceiver(system_id="esme1", password="secret1", sequence_number=1)
    connection.data_received(encode(bind))


async def test_unbound_connections_past_the_per_address_cap_are_refused_and_counted() -> None:
    observer = RefusalRecorder()
    h = Harness(server_settings=settings(max_connections_per_address=2), observer=observer)
    _second, second = h.connect()
    _third, third = h.connect()
    assert (second.aborted, third.aborted) == (False, True)
    assert observer.refused == [(ConnectionRefusal.PER_ADDRESS, Peer(host="10.0.0.5", port=40112))]


async def test_a_bound_connection_leaves_the_count_of_its_address() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=1))
    h.bind()
    assert h.services.seats.limits.unbound_from("10.0.0.5") == 0
    _second, transport = h.connect()
    assert not transport.aborted


async def test_binds_from_one_address_go_past_its_cap() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=2))
    h.bind()
    for _ in range(20):
        connection, transport = h.connect()
        bind_over(connection)
        assert not transport.aborted
    assert h.registry.count("esme1") == 21
    assert h.services.seats.limits.total == 21


async def test_binds_from_one_address_still_stop_at_max_connections() -> None:
    h = Harness(server_settings=settings(max_connections=3, max_connections_per_address=1))
    h.bind()
    for _ in range(2):
        connection, _transport = h.connect()
        bind_over(connection)
    _fourth, transport = h.connect()
    assert transport.aborted
    assert (h.services.seats.limits.total, h.registry.count("esme1")) == (3, 3)


async def test_a_full_address_does_not_hold_back_another_address() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=1))
    _other, transport = h.connect(("10.0.0.6", 5000))
    assert not transport.aborted


async def test_past_the_unbound_cap_the_oldest_unbound_connection_makes_room() -> None:
    observer = RefusalRecorder()
    h = Harness(server_settings=settings(max_unbound_connections=2), observer=observer)
    _second, second = h.connect(("10.0.0.6", 5000))
    _third, third = h.connect(("10.0.0.7", 5000))
    assert (h.transport.aborted, second.aborted, third.aborted) == (True, False, False)
    assert observer.refused == [(ConnectionRefusal.UNBOUND, Peer(host="10.0.0.5", port=40112))]


async def test_a_bound_connection_is_never_closed_to_make_room() -> None:
    h = Harness(server_settings=settings(max_unbound_connections=1))
    h.bind()
    _second, second = h.connect(("10.0.0.6", 5000))
    _third, third = h.connect(("10.0.0.7", 5000))
    assert (h.transport.aborted, second.aborted, third.aborted) == (False, True, False)


async def test_a_closed_connection_gives_its_slots_back() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=1))
    h.transport.close()
    await until(lambda: h.transport.lost)
    _again, transport = h.connect()
    assert not transport.aborted
    assert h.services.seats.limits.total == 1


async def test_a_flood_of_refused_connections_logs_one_line_then_a_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness(
        server_settings=settings(max_connections_per_address=1, log_summary_interval_s=0.05)
    )
    with caplog.at_level(logging.WARNING, logger="bridge.server.connection"):
        for _ in range(50):
            h.connect()
        await until(lambda: "event=connection_refused_summary" in caplog.text)
    assert caplog.text.count("event=connection_refused ") == 1
    assert "reason=max_connections_per_address count=49" in caplog.text


async def test_readdress_counts_the_connection_under_the_real_address() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=1))
    assert h.connection.readdress(Peer(host="10.0.0.7", port=1234))
    assert h.connection.peer == Peer(host="10.0.0.7", port=1234)
    _behind_the_same_proxy, transport = h.connect()  # 10.0.0.5 has a free slot again
    assert not transport.aborted
    h.bind()
    [(attempt, _bound)] = h.authority.attempts
    assert attempt.peer.host == "10.0.0.7"


async def test_readdress_to_an_address_at_its_cap_closes_the_connection() -> None:
    h = Harness(server_settings=settings(max_connections_per_address=1))
    _esme, _transport = h.connect(("10.0.0.7", 1))
    assert not h.connection.readdress(Peer(host="10.0.0.7", port=2))
    assert h.transport.aborted
