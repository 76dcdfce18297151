"""The observers: what each call from the server, the iSMS client and the poller counts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from prometheus_client import generate_latest

from bridge.app.metrics import BridgeMetrics
from bridge.app.metrics_observers import IsmsObserver, SmppObserver, pdu_headers, received_pdu
from bridge.pdu import (
    BindTransceiver,
    CommandStatus,
    DeliverSmResp,
    EnquireLinkResp,
    GenericNack,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    encode,
)
from bridge.server import BindAttempt, BindVerdict, Peer, SessionContext
from bridge.smpp import (
    BindRequested,
    BindType,
    EnquireLinkReceived,
    PduRejected,
    PeerClosed,
    RequestReceived,
    ResponseDropped,
    ResponseReceived,
    Throttled,
)
from bridge.upstream import (
    BalanceReading,
    FakeTransport,
    HttpReply,
    IsmsClient,
    IsmsCredentials,
    IsmsMessage,
    IsmsSettings,
    NotSent,
    Outcome,
    SeenRequest,
    SendResult,
    SmsType,
    Verdict,
)

FakeHandler = Callable[[SeenRequest], HttpReply]
PEER = Peer(host="127.0.0.1", port=40000)
ESME1 = SessionContext(
    session_id="s1", peer=PEER, system_id="esme1", bind_type=BindType.TRANSCEIVER
)
MIRROR_A = "https://www.isms.com.my/isms_send_all_id.php"
MIRROR_B = "https://ww3.isms.com.my/isms_send_all_id.php"
NUMBER = "60123456789"
TEXT = "your code is 424242"


def new_metrics() -> BridgeMetrics:
    return BridgeMetrics(
        accounts=["esme1"],
        isms_accounts=["isms"],
        mirrors=[MIRROR_A, MIRROR_B],
        process_metrics=False,
    )


def sample(metrics: BridgeMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def message(text: str = TEXT, sms_type: SmsType = SmsType.ASCII, numbers: int = 1) -> IsmsMessage:
    return IsmsMessage(
        credentials=IsmsCredentials(username="isms", password="isms123"),
        destinations=tuple(f"6012345678{n}" for n in range(numbers)),
        text=text,
        sms_type=sms_type,
        reference="esme1/7",
    )


def result(outcome: Outcome, *, mirror: str = MIRROR_A, attempts: int = 1) -> SendResult:
    accepted = outcome is Outcome.ACCEPTED
    return SendResult(
        outcome=outcome,
        code=2000 if accepted else (-1004 if outcome is Outcome.REJECTED else None),
        trx_id="123" if accepted else None,
        mirror=mirror,
        elapsed_s=0.2,
        attempts=attempts,
    )


# --- SMPP ------------------------------------------------------------------------------


def test_pdu_headers_yields_command_and_status_of_each_pdu_in_a_write() -> None:
    data = encode(SubmitSmResp(sequence_number=1, message_id="a")) + encode(
        GenericNack(sequence_number=2, command_status=CommandStatus.ESME_RINVCMDID)
    )
    assert list(pdu_headers(data)) == [
        (SubmitSmResp.command_id, 0),
        (GenericNack.command_id, CommandStatus.ESME_RINVCMDID),
    ]


def test_pdu_headers_stops_at_a_length_below_the_header_instead_of_looping() -> None:
    broken = (0).to_bytes(4, "big") + (0x80000004).to_bytes(4, "big") + bytes(8)
    assert list(pdu_headers(broken * 3)) == [(0x80000004, 0)]


def test_non_pdu_events_are_not_counted_as_pdus() -> None:
    assert received_pdu(PeerClosed()) is None


def test_bound_and_closed_sessions_move_the_sessions_gauge() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.session_bound(ESME1)
    observer.session_bound(ESME1)
    observer.session_closed(ESME1)
    assert (
        sample(metrics, "isms_bridge_smpp_sessions", system_id="esme1", bind_type="transceiver")
        == 1.0
    )


def test_received_pdus_are_counted_by_command_and_their_status() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.event_received(ESME1, RequestReceived(pdu=SubmitSm(sequence_number=3)))
    observer.event_received(ESME1, EnquireLinkReceived(sequence_number=4))
    observer.event_received(
        ESME1,
        ResponseReceived(
            pdu=DeliverSmResp(sequence_number=5, command_status=CommandStatus.ESME_RX_T_APPN),
            request=EnquireLinkResp(),
        ),
    )
    observer.event_received(
        ESME1, ResponseDropped(command_id=0x80000005, sequence_number=9, reason="stale")
    )
    received = "isms_bridge_smpp_pdus_received_total"
    assert sample(metrics, received, command="submit_sm", status="ESME_ROK") == 1.0
    assert sample(metrics, received, command="enquire_link", status="ESME_ROK") == 1.0
    assert sample(metrics, received, command="deliver_sm_resp", status="ESME_RX_T_APPN") == 1.0
    assert sample(metrics, received, command="deliver_sm_resp", status="unknown") == 1.0


def test_a_peer_inventing_command_ids_adds_one_unknown_label_not_one_per_id() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    for command_id in range(0x1000, 0x1000 + 2000):
        observer.event_received(
            ESME1,
            PduRejected(
                command_id=command_id,
                sequence_number=1,
                command_status=CommandStatus.ESME_RINVCMDID,
                reason="unknown command_id",
            ),
        )
    observer.event_received(
        None,
        PduRejected(command_id=None, sequence_number=0, command_status=2, reason="bad length"),
    )
    received = "isms_bridge_smpp_pdus_received_total"
    assert sample(metrics, received, command="unknown", status="ESME_ROK") == 2000.0
    assert sample(metrics, received, command="unknown", status="unknown") == 1.0
    exposition = generate_latest(metrics.registry).decode()
    assert exposition.count("isms_bridge_smpp_pdus_received_total{") == 2


def test_window_full_submits_count_per_account_and_as_throttled_submits() -> None:
    metrics = new_metrics()
    SmppObserver(metrics).event_received(
        ESME1, Throttled(command_id=SubmitSm.command_id, sequence_number=8)
    )
    assert sample(metrics, "isms_bridge_smpp_window_full_total", system_id="esme1") == 1.0
    assert (
        sample(
            metrics,
            "isms_bridge_smpp_submits_total",
            system_id="esme1",
            command="submit_sm",
            status="ESME_RTHROTTLED",
        )
        == 1.0
    )


def test_submits_the_session_refuses_itself_count_with_the_status_it_answered() -> None:
    metrics = new_metrics()
    receiver = SessionContext(
        session_id="s9", peer=PEER, system_id="esme1", bind_type=BindType.RECEIVER
    )
    SmppObserver(metrics).event_received(
        receiver,
        PduRejected(
            command_id=SubmitSm.command_id,
            sequence_number=4,
            command_status=CommandStatus.ESME_RINVBNDSTS,
            reason="submit_sm is not allowed in BOUND_RX",
        ),
    )
    assert (
        sample(
            metrics,
            "isms_bridge_smpp_submits_total",
            system_id="esme1",
            command="submit_sm",
            status="ESME_RINVBNDSTS",
        )
        == 1.0
    )


def test_bind_decisions_count_by_account_bind_type_and_status() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    for system_id, status in (("esme1", 0), ("esme1", 0x0E), ("guess", 0x0F)):
        observer.bind_decided(
            BindAttempt(
                session_id="s2",
                peer=PEER,
                bind_type=BindType.TRANSMITTER,
                system_id=system_id,
                password="x",
            ),
            BindVerdict(command_status=status),
        )
    attempts = "isms_bridge_smpp_bind_attempts_total"
    labels = {"bind_type": "transmitter"}
    assert sample(metrics, attempts, system_id="esme1", status="ESME_ROK", **labels) == 1.0
    assert sample(metrics, attempts, system_id="esme1", status="ESME_RINVPASWD", **labels) == 1.0
    assert sample(metrics, attempts, system_id="_unknown", status="ESME_RINVSYSID", **labels) == 1


def test_answered_submits_count_by_status_and_only_handled_ones_are_timed() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    request = SubmitSm(sequence_number=1)
    observer.request_answered(ESME1, request, SubmitSmResp(message_id="1"), 0.004)
    observer.request_answered(
        ESME1, request, SubmitSmResp(command_status=CommandStatus.ESME_RTHROTTLED), None
    )
    observer.request_throttled(ESME1, request, 1)
    submits = "isms_bridge_smpp_submits_total"
    labels = {"system_id": "esme1", "command": "submit_sm"}
    assert sample(metrics, submits, status="ESME_ROK", **labels) == 1.0
    assert sample(metrics, submits, status="ESME_RTHROTTLED", **labels) == 1.0
    assert sample(metrics, "isms_bridge_smpp_throttled_total", system_id="esme1") == 1.0
    duration = "isms_bridge_smpp_submit_duration_seconds"
    assert sample(metrics, f"{duration}_count", command="submit_sm") == 1.0
    assert sample(metrics, f"{duration}_bucket", command="submit_sm", le="0.005") == 1.0
    assert sample(metrics, f"{duration}_bucket", command="submit_sm", le="0.0025") == 0.0


def test_after_a_reload_a_removed_accounts_submits_are_labelled_unknown() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.request_answered(ESME1, SubmitSm(), SubmitSmResp(message_id="1"), 0.001)
    metrics.set_accounts(["esme2"])
    observer.forget_labels()
    observer.request_answered(ESME1, SubmitSm(), SubmitSmResp(message_id="2"), 0.001)
    submits = "isms_bridge_smpp_submits_total"
    labels = {"command": "submit_sm", "status": "ESME_ROK"}
    assert sample(metrics, submits, system_id="esme1", **labels) == 1.0
    assert sample(metrics, submits, system_id="_unknown", **labels) == 1.0


def test_query_sm_answers_are_counted_as_pdus_only_not_as_submits() -> None:
    metrics = new_metrics()
    SmppObserver(metrics).request_answered(ESME1, QuerySm(), QuerySmResp(), 0.001)
    assert 'command="query_sm"' not in generate_latest(metrics.registry).decode()


def test_pdus_written_are_counted_from_their_headers() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.pdus_sent(
        encode(SubmitSmResp(sequence_number=1, message_id="a"))
        + encode(SubmitSmResp(sequence_number=2, command_status=CommandStatus.ESME_RSUBMITFAIL))
    )
    observer.pdus_sent(encode(SubmitSmResp(sequence_number=3, message_id="b")))
    sent = "isms_bridge_smpp_pdus_sent_total"
    assert sample(metrics, sent, command="submit_sm_resp", status="ESME_ROK") == 2.0
    assert sample(metrics, sent, command="submit_sm_resp", status="ESME_RSUBMITFAIL") == 1.0


def test_bind_events_count_the_bind_pdu_received() -> None:
    metrics = new_metrics()
    SmppObserver(metrics).event_received(
        None,
        BindRequested(
            pdu=BindTransceiver(system_id="esme1", password="secret1"),
            bind_type=BindType.TRANSCEIVER,
        ),
    )
    assert (
        sample(
            metrics,
            "isms_bridge_smpp_pdus_received_total",
            command="bind_transceiver",
            status="ESME_ROK",
        )
        == 1.0
    )


# --- iSMS ------------------------------------------------------------------------------


def test_each_request_is_counted_by_mirror_host_and_code_and_timed() -> None:
    metrics = new_metrics()
    observer = IsmsObserver(metrics)
    observer.request_finished(
        mirror=MIRROR_A, code=None, verdict=Verdict.NOT_REACHED, elapsed_s=0.01
    )
    observer.request_finished(mirror=MIRROR_B, code=2000, verdict=Verdict.ANSWERED, elapsed_s=0.2)
    requests = "isms_bridge_isms_requests_total"
    assert sample(metrics, requests, mirror="www.isms.com.my", code="not_reached") == 1.0
    assert sample(metrics, requests, mirror="ww3.isms.com.my", code="2000") == 1.0
    duration = "isms_bridge_isms_request_duration_seconds"
    assert sample(metrics, f"{duration}_count", mirror="ww3.isms.com.my") == 1.0
    assert sample(metrics, f"{duration}_sum", mirror="ww3.isms.com.my") == 0.2


def test_a_message_that_reached_the_third_mirror_counts_two_failovers() -> None:
    metrics = new_metrics()
    IsmsObserver(metrics).message_finished(message(), result(Outcome.ACCEPTED, attempts=3))
    assert sample(metrics, "isms_bridge_isms_failovers_total") == 2.0


def test_an_unknown_outcome_counts_against_its_mirror_and_spends_no_credits() -> None:
    metrics = new_metrics()
    IsmsObserver(metrics).message_finished(message(), result(Outcome.UNKNOWN, mirror=MIRROR_B))
    assert (
        sample(metrics, "isms_bridge_isms_unknown_outcomes_total", mirror="ww3.isms.com.my") == 1.0
    )
    assert (
        sample(metrics, "isms_bridge_isms_messages_total", isms_account="isms", outcome="unknown")
        == 1.0
    )
    assert sample(metrics, "isms_bridge_isms_credits_spent_total", isms_account="isms") == 0.0


def test_accepted_messages_spend_their_estimated_credits_and_rejected_ones_none() -> None:
    metrics = new_metrics()
    observer = IsmsObserver(metrics)
    observer.message_finished(
        message("é" * 70, SmsType.UNICODE, numbers=3), result(Outcome.ACCEPTED)
    )
    observer.message_finished(message(), result(Outcome.REJECTED))
    assert sample(metrics, "isms_bridge_isms_credits_spent_total", isms_account="isms") == 6.0


def test_balance_readings_set_the_gauge_and_a_failed_poll_keeps_the_last_value() -> None:
    metrics = new_metrics()
    observer = IsmsObserver(metrics)
    observer.balance_read(BalanceReading(username="isms", credits=Decimal("1234.5"), at=0.0))
    observer.balance_read(BalanceReading(username="isms", credits=None, code=-1001, at=1.0))
    observer.balance_read(BalanceReading(username="isms", credits=None, error="refused", at=2.0))
    assert sample(metrics, "isms_bridge_isms_credit_balance", isms_account="isms") == 1234.5
    polls = "isms_bridge_isms_balance_polls_total"
    assert sample(metrics, polls, isms_account="isms", result="ok") == 1.0
    assert sample(metrics, polls, isms_account="isms", result="refused") == 1.0
    assert sample(metrics, polls, isms_account="isms", result="unavailable") == 1.0


def test_no_label_carries_a_phone_number_a_text_a_reference_or_a_password() -> None:
    metrics = new_metrics()
    smpp, isms = SmppObserver(metrics), IsmsObserver(metrics)
    smpp.request_answered(
        ESME1, SubmitSm(short_message=TEXT.encode()), SubmitSmResp(message_id="m-77"), 0.1
    )
    isms.request_finished(mirror=MIRROR_A, code=2000, verdict=Verdict.ANSWERED, elapsed_s=0.1)
    for outcome in Outcome:
        isms.message_finished(message(), result(outcome))
    exposition = generate_latest(metrics.registry).decode()
    for secret in (NUMBER[:-1], TEXT, "esme1/7", "isms123", "m-77", "isms_send_all_id.php"):
        assert secret not in exposition


# --- the seam: IsmsClient calling the observer ----------------------------------------


def client_for(handler: FakeHandler, metrics: BridgeMetrics) -> IsmsClient:
    settings = IsmsSettings(endpoints=(MIRROR_A, MIRROR_B))
    return IsmsClient(settings, transport=FakeTransport(handler), observer=IsmsObserver(metrics))


async def test_the_client_reports_a_failover_past_a_refused_mirror_and_the_answer() -> None:
    def handler(request: SeenRequest) -> HttpReply:
        if "www." in request.url:
            raise NotSent("connection refused")
        return HttpReply(status=200, body=b"2000 = SUCCESS:777")

    metrics = new_metrics()
    async with client_for(handler, metrics) as client:
        sent = await client.send(message())
    assert sent.outcome is Outcome.ACCEPTED
    requests = "isms_bridge_isms_requests_total"
    assert sample(metrics, requests, mirror="www.isms.com.my", code="not_reached") == 1.0
    assert sample(metrics, requests, mirror="ww3.isms.com.my", code="2000") == 1.0
    assert sample(metrics, "isms_bridge_isms_failovers_total") == 1.0
    assert (
        sample(metrics, "isms_bridge_isms_messages_total", isms_account="isms", outcome="accepted")
        == 1.0
    )
    assert sample(metrics, "isms_bridge_isms_credits_spent_total", isms_account="isms") == 1.0


async def test_the_client_reports_a_garbled_reply_as_an_unknown_outcome_of_that_mirror() -> None:
    def handler(request: SeenRequest) -> HttpReply:
        return HttpReply(status=200, body=b"<html>proxy error</html>")

    metrics = new_metrics()
    async with client_for(handler, metrics) as client:
        sent = await client.send(message())
    assert sent.outcome is Outcome.UNKNOWN
    assert (
        sample(metrics, "isms_bridge_isms_requests_total", mirror="www.isms.com.my", code="unknown")
        == 1.0
    )
    assert (
        sample(metrics, "isms_bridge_isms_unknown_outcomes_total", mirror="www.isms.com.my") == 1.0
    )
    assert sample(metrics, "isms_bridge_isms_failovers_total") == 0.0
