"""The SMPP observer: what each call from the server counts."""

from __future__ import annotations

from prometheus_client import generate_latest

from bridge.app.metrics.observers import SmppObserver, pdu_headers, received_pdu
from bridge.app.metrics.series import BridgeMetrics
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
from bridge.server import (
    BindAttempt,
    BindVerdict,
    ConnectionRefusal,
    Peer,
    ProxyOutcome,
    SessionContext,
)
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

PEER = Peer(host="127.0.0.1", port=40000)
ESME1 = SessionContext(
    session_id="s1", peer=PEER, system_id="esme1", bind_type=BindType.TRANSCEIVER
)


def new_metrics() -> BridgeMetrics:
    return BridgeMetrics(accounts=["esme1"], process_metrics=False)


def sample(metrics: BridgeMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


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
    series = "isms_bridge_smpp_pdus_received_total{"
    at_start = generate_latest(metrics.registry).decode().count(series)
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
    assert exposition.count(series) == at_start + 2


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
    exposition = generate_latest(metrics.registry).decode().splitlines()
    counted = [line for line in exposition if 'command="query_sm"' in line]
    assert counted and all(
        line.startswith("isms_bridge_smpp_pdus_received_total{") for line in counted
    )


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


def test_refused_connections_count_by_the_cap_they_hit_and_start_at_zero() -> None:
    metrics = new_metrics()
    name = "isms_bridge_smpp_connections_refused_total"
    for refusal in ConnectionRefusal:
        assert sample(metrics, name, reason=refusal.value) == 0
    SmppObserver(metrics).connection_refused(ConnectionRefusal.PER_ADDRESS, PEER)
    assert sample(metrics, name, reason="max_connections_per_address") == 1


def test_loop_lag_samples_feed_the_lag_histogram() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.loop_lag_sampled(0.0004)
    observer.loop_lag_sampled(0.3)
    name = "isms_bridge_event_loop_lag_seconds"
    assert sample(metrics, f"{name}_count") == 2
    assert sample(metrics, f"{name}_bucket", le="0.001") == 1
    assert sample(metrics, f"{name}_bucket", le="0.5") == 2


# --- PROXY protocol ----------------------------------------------------------------------


def test_every_proxy_header_result_is_exported_at_zero_from_the_start() -> None:
    metrics = new_metrics()
    for outcome in ProxyOutcome:
        assert sample(metrics, "isms_bridge_smpp_proxy_headers_total", result=outcome.value) == 0


def test_a_judged_proxy_header_is_counted_by_its_result() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.proxy_header_read(ProxyOutcome.UNTRUSTED)
    observer.proxy_header_read(ProxyOutcome.UNTRUSTED)
    observer.proxy_header_read(ProxyOutcome.ACCEPTED)
    name = "isms_bridge_smpp_proxy_headers_total"
    assert sample(metrics, name, result="untrusted") == 2
    assert sample(metrics, name, result="accepted") == 1
    assert sample(metrics, name, result="missing") == 0


# --- a cluster sharing a state store ------------------------------------------------------


def test_failed_shared_store_operations_are_counted_by_operation_from_zero() -> None:
    metrics = new_metrics()
    name = "isms_bridge_cluster_state_errors_total"
    for operation in ("bind", "throughput", "probe", "heartbeat", "release", "backoff"):
        assert sample(metrics, name, operation=operation) == 0
    SmppObserver(metrics).cluster_unavailable("bind")
    assert sample(metrics, name, operation="bind") == 1


def test_the_bind_leases_held_are_a_gauge() -> None:
    metrics = new_metrics()
    observer = SmppObserver(metrics)
    observer.leases_held(3)
    observer.leases_held(2)
    assert sample(metrics, "isms_bridge_bind_leases") == 2
