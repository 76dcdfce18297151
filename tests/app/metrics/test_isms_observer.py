"""The iSMS observer: what each call from the iSMS client and the balance poller counts,
and the client calling it."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from prometheus_client import generate_latest

from bridge.app.metrics.observers import IsmsObserver, SmppObserver
from bridge.app.metrics.series import BridgeMetrics
from bridge.pdu import SubmitSm, SubmitSmResp
from bridge.server import Peer, SessionContext
from bridge.smpp import BindType
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
    known = "isms_bridge_isms_credit_balance_known"
    assert sample(metrics, known, isms_account="isms") == 1.0
    polls = "isms_bridge_isms_balance_polls_total"
    assert sample(metrics, polls, isms_account="isms", result="ok") == 1.0
    assert sample(metrics, polls, isms_account="isms", result="refused") == 1.0
    assert sample(metrics, polls, isms_account="isms", result="unavailable") == 1.0


def test_a_refused_first_poll_leaves_the_balance_unknown() -> None:
    metrics = new_metrics()
    IsmsObserver(metrics).balance_read(
        BalanceReading(username="isms", credits=None, code=-1001, at=1.0)
    )
    balance = sample(metrics, "isms_bridge_isms_credit_balance", isms_account="isms")
    assert balance is not None and math.isnan(balance)
    assert sample(metrics, "isms_bridge_isms_credit_balance_known", isms_account="isms") == 0.0


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
