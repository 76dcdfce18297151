"""The metric registry: names, units, bounded labels, series that exist from the start."""

from __future__ import annotations

import ast
import math
import platform
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bridge import __version__
from bridge.app.metrics.series import (
    REFUSAL_REASONS,
    UNKNOWN_ACCOUNT,
    BridgeMetrics,
    PipelineSnapshot,
    estimated_credits,
    isms_code_label,
    mirror_label,
    mirror_states,
    pipeline_series,
    smpp_connections,
)
from bridge.upstream import BreakerState, Mirror, SmsType, Verdict

ROOT = Path(__file__).resolve().parents[3]


def sample(metrics: BridgeMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def snapshot(**changes: object) -> PipelineSnapshot:
    values: dict[str, object] = {
        "reassembly_pending": 0,
        "reassembly_bytes": 0,
        "reassembly_expired": 0,
        "long_messages": 0,
        "unicode_retries": 0,
        "intents_unsettled": 0,
        "receipts": {},
        "receipts_held": 0,
        "refusals": {},
    }
    values.update(changes)
    return PipelineSnapshot(**values)  # type: ignore[arg-type]


def test_every_bridge_series_is_prefixed_and_counters_and_durations_use_base_unit_suffixes() -> (
    None
):
    metrics = BridgeMetrics(accounts=["esme1"], isms_accounts=["isms"], mirrors=["http://a/x"])
    metrics.watch(mirror_states(lambda: [Mirror("http://a/x")]))
    metrics.watch(smpp_connections(lambda: 0))
    metrics.watch(pipeline_series(snapshot))
    text = generate_latest(metrics.registry).decode()
    own = [
        f
        for f in text_string_to_metric_families(text)
        if not f.name.startswith(("process_", "python_"))
    ]
    assert own, "nothing exported"
    for family in own:
        assert family.name.startswith("isms_bridge_"), family.name
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
    assert "_created" not in text.replace("process_start_time", "")


def test_build_info_carries_the_package_version() -> None:
    metrics = BridgeMetrics()
    assert (
        sample(
            metrics, "isms_bridge_build_info", version=__version__, python=platform.python_version()
        )
        == 1.0
    )


def test_configured_accounts_start_with_zero_sessions_for_every_bind_type() -> None:
    metrics = BridgeMetrics(accounts=["esme1", "esme2"])
    for system_id in ("esme1", "esme2"):
        for bind_type in ("transmitter", "receiver", "transceiver"):
            assert (
                sample(
                    metrics, "isms_bridge_smpp_sessions", system_id=system_id, bind_type=bind_type
                )
                == 0.0
            )


def test_per_account_and_per_mirror_outcome_series_start_at_zero() -> None:
    metrics = BridgeMetrics(
        isms_accounts=["isms"], mirrors=["https://www.isms.com.my/isms_send_all_id.php"]
    )
    for outcome in ("accepted", "rejected", "unknown", "not_sent"):
        assert (
            sample(metrics, "isms_bridge_isms_messages_total", isms_account="isms", outcome=outcome)
            == 0.0
        )
    assert (
        sample(metrics, "isms_bridge_isms_unknown_outcomes_total", mirror="www.isms.com.my") == 0.0
    )


def test_every_bind_result_and_submit_status_of_a_configured_account_starts_at_zero() -> None:
    metrics = BridgeMetrics(accounts=["esme1"])
    binds = "isms_bridge_smpp_bind_attempts_total"
    for bind_type in ("transmitter", "receiver", "transceiver"):
        for status in ("ESME_ROK", "ESME_RINVPASWD", "ESME_RBINDFAIL"):
            labels = {"system_id": "esme1", "bind_type": bind_type, "status": status}
            assert sample(metrics, binds, **labels) == 0.0
        unknown = {"system_id": UNKNOWN_ACCOUNT, "bind_type": bind_type}
        assert sample(metrics, binds, status="ESME_RINVSYSID", **unknown) == 0.0
    submits = "isms_bridge_smpp_submits_total"
    for command in ("submit_sm", "submit_multi", "data_sm"):
        for status in ("ESME_ROK", "ESME_RSYSERR", "ESME_RSUBMITFAIL", "ESME_RTHROTTLED"):
            labels = {"system_id": "esme1", "command": command, "status": status}
            assert sample(metrics, submits, **labels) == 0.0
        duration = "isms_bridge_smpp_submit_duration_seconds_count"
        assert sample(metrics, duration, command=command) == 0.0


def test_every_listed_isms_code_of_every_mirror_starts_at_zero() -> None:
    metrics = BridgeMetrics(mirrors=["https://www.isms.com.my/isms_send_all_id.php"])
    requests = "isms_bridge_isms_requests_total"
    for code in ("2000", "-1001", "-1004", "-1013", "unlisted", "not_reached", "unknown"):
        assert sample(metrics, requests, mirror="www.isms.com.my", code=code) == 0.0
    duration = "isms_bridge_isms_request_duration_seconds_count"
    assert sample(metrics, duration, mirror="www.isms.com.my") == 0.0


def test_the_pdus_of_a_working_session_start_at_zero_both_ways() -> None:
    metrics = BridgeMetrics()
    for command in ("bind_transceiver", "submit_sm", "enquire_link", "deliver_sm_resp"):
        received = "isms_bridge_smpp_pdus_received_total"
        assert sample(metrics, received, command=command, status="ESME_ROK") == 0.0
    for command in ("bind_transceiver_resp", "submit_sm_resp", "deliver_sm", "unbind"):
        sent = "isms_bridge_smpp_pdus_sent_total"
        assert sample(metrics, sent, command=command, status="ESME_ROK") == 0.0


def test_a_balance_never_read_is_nan_and_marked_unknown_never_a_number() -> None:
    metrics = BridgeMetrics(isms_accounts=["isms"])
    balance = sample(metrics, "isms_bridge_isms_credit_balance", isms_account="isms")
    assert balance is not None and math.isnan(balance)
    assert sample(metrics, "isms_bridge_isms_credit_balance_known", isms_account="isms") == 0.0
    for result in ("ok", "refused", "unavailable"):
        polls = "isms_bridge_isms_balance_polls_total"
        assert sample(metrics, polls, isms_account="isms", result=result) == 0.0


def test_a_system_id_that_is_not_configured_gets_one_shared_label() -> None:
    metrics = BridgeMetrics(accounts=["esme1"])
    assert metrics.account_label("esme1") == "esme1"
    assert metrics.account_label("guess1") == UNKNOWN_ACCOUNT
    assert metrics.account_label("guess2") == UNKNOWN_ACCOUNT


def test_a_reload_adds_the_new_accounts_series_and_stops_labelling_removed_ones() -> None:
    metrics = BridgeMetrics(accounts=["esme1"])
    metrics.set_accounts(["esme2"])
    assert (
        sample(metrics, "isms_bridge_smpp_sessions", system_id="esme2", bind_type="receiver") == 0.0
    )
    assert metrics.account_label("esme1") == UNKNOWN_ACCOUNT


def test_two_bridges_in_one_process_keep_separate_registries() -> None:
    first, second = BridgeMetrics(accounts=["a"]), BridgeMetrics(accounts=["a"])
    first.sessions.labels("a", "receiver").inc()
    assert sample(first, "isms_bridge_smpp_sessions", system_id="a", bind_type="receiver") == 1
    assert sample(second, "isms_bridge_smpp_sessions", system_id="a", bind_type="receiver") == 0


def test_isms_code_label_names_listed_codes_and_bounds_everything_else() -> None:
    assert isms_code_label(2000, Verdict.ANSWERED) == "2000"
    assert isms_code_label(-1004, Verdict.ANSWERED) == "-1004"
    assert isms_code_label(-4242, Verdict.ANSWERED) == "unlisted"
    assert isms_code_label(None, Verdict.NOT_REACHED) == "not_reached"
    assert isms_code_label(None, Verdict.UNKNOWN) == "unknown"


def test_estimated_credits_follow_the_153_and_63_character_parts_per_destination() -> None:
    assert estimated_credits("hi", SmsType.ASCII, 1) == 1
    assert estimated_credits("x" * 153, SmsType.ASCII, 1) == 1
    assert estimated_credits("x" * 154, SmsType.ASCII, 1) == 2
    assert estimated_credits("字" * 63, SmsType.UNICODE, 1) == 1
    assert estimated_credits("字" * 64, SmsType.UNICODE, 3) == 6


def test_mirror_label_is_host_and_port_without_scheme_path_or_credentials() -> None:
    assert mirror_label("https://www.isms.com.my/isms_send_all_id.php") == "www.isms.com.my"
    assert mirror_label("http://127.0.0.1:8480/isms_send_all_id.php") == "127.0.0.1:8480"
    assert mirror_label("http://user:pw@[::1]:80/x") == "[::1]:80"


def test_mirror_state_series_mark_each_mirrors_current_breaker_state() -> None:
    healthy, failed = Mirror("http://a:1/x"), Mirror("http://b:2/x")
    failed.state = BreakerState.OPEN
    metrics = BridgeMetrics(process_metrics=False)
    metrics.watch(mirror_states(lambda: [healthy, failed]))
    expected = {
        ("a:1", "closed"): 1.0,
        ("a:1", "open"): 0.0,
        ("a:1", "half_open"): 0.0,
        ("b:2", "closed"): 0.0,
        ("b:2", "open"): 1.0,
        ("b:2", "half_open"): 0.0,
    }
    for (mirror, state), value in expected.items():
        assert sample(metrics, "isms_bridge_isms_mirror_state", mirror=mirror, state=state) == value


def test_pipeline_series_are_read_from_its_totals_at_each_scrape() -> None:
    current = {"now": snapshot()}
    metrics = BridgeMetrics(process_metrics=False)
    metrics.watch(pipeline_series(lambda: current["now"]))
    assert sample(metrics, "isms_bridge_reassembly_expired_total") == 0.0
    current["now"] = snapshot(
        reassembly_pending=3,
        reassembly_expired=2,
        receipts={"sent": 5, "dropped": 1},
        receipts_held=4,
        refusals={"binary": 7},
        intents_unsettled=2,
    )
    assert sample(metrics, "isms_bridge_reassembly_pending") == 3.0
    assert sample(metrics, "isms_bridge_intents_unsettled_total") == 2.0
    assert sample(metrics, "isms_bridge_reassembly_expired_total") == 2.0
    assert sample(metrics, "isms_bridge_receipts_total", result="sent") == 5.0
    assert sample(metrics, "isms_bridge_receipts_total", result="held") == 0.0
    assert sample(metrics, "isms_bridge_receipts_total", result="dropped") == 1.0
    assert sample(metrics, "isms_bridge_receipts_held") == 4.0
    assert sample(metrics, "isms_bridge_pipeline_refusals_total", reason="binary") == 7.0
    assert sample(metrics, "isms_bridge_pipeline_refusals_total", reason="length") == 0.0


def test_every_refusal_reason_starts_at_zero_before_any_refusal() -> None:
    metrics = BridgeMetrics(process_metrics=False)
    metrics.watch(pipeline_series(snapshot))
    for reason in REFUSAL_REASONS:
        assert sample(metrics, "isms_bridge_pipeline_refusals_total", reason=reason) == 0.0


def test_the_refusal_reasons_are_exactly_the_kinds_the_pipeline_refuses_with() -> None:
    assert set(REFUSAL_REASONS) == pipeline_refusal_kinds()


def pipeline_refusal_kinds() -> set[str]:
    """Every `kind="..."` the pipeline passes, and the values of its RefusalKind Literal."""
    kinds: set[str] = set()
    for path in (ROOT / "bridge" / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            passed = isinstance(node, ast.keyword) and node.arg == "kind"
            if passed and isinstance(node.value, ast.Constant):
                kinds.add(str(node.value.value))
            is_alias = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "RefusalKind" for t in node.targets
            )
            if is_alias:
                assert isinstance(node, ast.Assign)
                kinds.update(
                    c.value
                    for c in ast.walk(node.value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                )
    return kinds


def test_open_connections_are_read_at_each_scrape() -> None:
    count = {"open": 2}
    metrics = BridgeMetrics(process_metrics=False)
    metrics.watch(smpp_connections(lambda: count["open"]))
    assert sample(metrics, "isms_bridge_smpp_connections") == 2.0
    count["open"] = 0
    assert sample(metrics, "isms_bridge_smpp_connections") == 0.0
