"""The bridge's Prometheus metrics: one dedicated registry, every series declared here.

Rules (after the Prometheus naming guide):
1. Every name starts `isms_bridge_`, counters end `_total`, durations are `_seconds`
   histograms, everything is in base units.
2. Label values are bounded, whoever sends what: configured system_ids and iSMS usernames
   (a system_id that is not configured is counted as `_unknown`), bind types, command and
   status names from SMPP 3.4's tables (`unknown` / `UNDEFINED` / `VENDOR_SPECIFIC`
   otherwise), iSMS codes from the API page (`unlisted` otherwise), mirror hosts from the
   config. Never a phone number, a message id, a text or a password.
3. Every series a dashboard panel or an alert rule reads exists from the start: each label
   child whose values are known from the config and the code (accounts, bind types, bind
   results, submit statuses, mirrors, iSMS codes, refusal reasons, receipt results) starts
   at 0, so a panel shows 0 instead of "No data", and `increase()` counts the first event
   (Prometheus extrapolates from a series' first sample, so a child born at 1 never counts
   its first increment). Values a peer makes up appear when they happen.
4. A credit balance that has not been read is `NaN` in `isms_bridge_isms_credit_balance`
   and 0 in `isms_bridge_isms_credit_balance_known`: never a number that could be mistaken
   for a balance (a comparison with NaN is false, so `< 1000` cannot fire on it).

Nothing here is fed by itself: `observers.py` turns the layers' observer calls and
running totals into these series, and `endpoint.py` serves them.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bridge import __version__
from bridge.app.metrics.histograms import HistogramSeries
from bridge.app.metrics.tally import Tallies
from bridge.server import ConnectionRefusal, ProxyOutcome
from bridge.smpp import BindType
from bridge.upstream import BreakerState, IsmsCode, Mirror, Outcome, SmsType, Verdict

NAMESPACE = "isms_bridge"
# A system_id that is not a configured account (a failed bind's guess): one label for all.
UNKNOWN_ACCOUNT = "_unknown"
# The requests that carry a message (SMPP 3.4 §4.4-§4.7); others are counted as PDUs only.
SUBMIT_COMMANDS = ("submit_sm", "submit_multi", "data_sm")
# Seconds: from a loopback sandbox (well under 1 ms) to iSMS over the internet (100-300 ms)
# and up to the default iSMS read timeout (10 s) and beyond.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
# Seconds the event loop ran a due timer late: a millisecond is normal, 100 ms is felt by
# every session, seconds make iSMS deadlines pass while iSMS itself was quick.
LOOP_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The iSMS API page bills one credit per "153 characters" of type 1 (ASCII) and per
# "63 Characters" of type 2 (Unicode), per destination: what is left of 160 / 70 characters
# after the 7-character "RM0.00 " price tag Malaysian bulk SMS must start with.
CREDIT_PART_CHARS = {SmsType.ASCII: 153, SmsType.UNICODE: 63}
# What becomes of a delivery receipt: every one is sent, or held and sent later (no receiver
# bound), retried after a lost deliver_sm_resp, refused by the ESME, or dropped (too many or
# too old while held, or out of attempts).
RECEIPT_RESULTS = ("sent", "held", "retried", "refused", "dropped")
# What SharedLimits asks the shared store (bridge.server.shared_limits).
# "backoff": refused without asking, the store having failed a moment ago.
CLUSTER_OPERATIONS = ("bind", "throughput", "probe", "heartbeat", "release", "backoff")
# Why the pipeline refuses a message before iSMS (its Refusal kinds; a test holds this list
# equal to the kinds bridge/pipeline raises).
REFUSAL_REASONS = (
    "account",
    "binary",
    "cap",
    "destination",
    "length",
    "malformed",
    "not_allowed",
    "opted_out",
    "reassembly",
    "rm0",
    "unsupported",
    "user_data",
)
# Answers to a bind (SMPP 3.4 §5.1.3): accepted, wrong password, refused (address, bind type,
# max_binds); an unknown system_id is counted under UNKNOWN_ACCOUNT with ESME_RINVSYSID.
BIND_RESULTS = ("ESME_ROK", "ESME_RINVPASWD", "ESME_RBINDFAIL")
UNKNOWN_BIND_RESULT = "ESME_RINVSYSID"
# The statuses a submit gets from the iSMS status mapping and the throughput limit.
SUBMIT_STATUSES = (
    "ESME_ROK",
    "ESME_RINVMSGLEN",
    "ESME_RSYSERR",
    "ESME_RINVDSTADR",
    "ESME_RSUBMITFAIL",
    "ESME_RTHROTTLED",
)
# The PDUs every working session exchanges, with their usual status (SMPP 3.4 §4): requests
# an ESME sends and the responses it sends to ours; what the bridge sends back.
PDUS_RECEIVED = (
    "bind_transmitter",
    "bind_receiver",
    "bind_transceiver",
    *SUBMIT_COMMANDS,
    "query_sm",
    "enquire_link",
    "enquire_link_resp",
    "unbind",
    "unbind_resp",
    "deliver_sm_resp",
)
PDUS_SENT = (
    "bind_transmitter_resp",
    "bind_receiver_resp",
    "bind_transceiver_resp",
    "submit_sm_resp",
    "submit_multi_resp",
    "data_sm_resp",
    "query_sm_resp",
    "enquire_link",
    "enquire_link_resp",
    "unbind",
    "unbind_resp",
    "deliver_sm",
)
# Results of a balance poll: a balance, an iSMS refusal code, or no answer.
BALANCE_RESULTS = ("ok", "refused", "unavailable")


def mirror_label(name: str) -> str:
    """A mirror's host[:port] (its URL without scheme, path or credentials)."""
    parts = urlsplit(name)
    return parts.netloc.rpartition("@")[2] or name


def isms_code_label(code: int | None, verdict: Verdict) -> str:
    """`2000`, `-1004`, ... for a code the API page lists; `unlisted` for any other code;
    `not_reached` / `unknown` when no iSMS reply came (the verdict says which)."""
    if verdict is Verdict.NOT_REACHED:
        return "not_reached"
    if code is None or verdict is Verdict.UNKNOWN:
        return "unknown"
    try:
        return str(IsmsCode(code).value)
    except ValueError:
        return "unlisted"


def estimated_credits(
    text: str,
    sms_type: SmsType,
    destinations: int,
    part_chars: Mapping[SmsType, int] = CREDIT_PART_CHARS,
) -> int:
    """Credits one accepted iSMS request costs: parts of `part_chars[sms_type]` characters
    (by default the 153 / 63 rule; `[policy] credit_chars_*`), times numbers."""
    size = part_chars[sms_type]
    return max(1, -(-len(text) // size)) * destinations


class BridgeMetrics:
    """Every isms_bridge_* series, in a registry of its own (nothing leaks into the default
    one, and two bridges in one test process do not collide)."""

    def __init__(
        self,
        *,
        accounts: Iterable[str] = (),
        isms_accounts: Iterable[str] = (),
        mirrors: Iterable[str] = (),
        process_metrics: bool = True,
    ) -> None:
        # Counters and histograms would each export a `_created` gauge too, doubling the
        # series count for a timestamp Prometheus does not use (a process-wide switch).
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in 0.2x
        self.registry = CollectorRegistry()
        registry = self.registry
        # First in the registry: every collection adds what the per-message tallies hold to
        # their series before any series is read.
        self.tallies = Tallies()
        registry.register(self.tallies)
        if process_metrics:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
        self._accounts: frozenset[str] = frozenset()

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(f"{NAMESPACE}_{name}", doc, labels, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"{NAMESPACE}_{name}", doc, labels, registry=registry)

        def histogram(name: str, doc: str, labels: tuple[str, ...]) -> HistogramSeries:
            return HistogramSeries(
                f"{NAMESPACE}_{name}", doc, labels, buckets=LATENCY_BUCKETS, registry=registry
            )

        self.build_info = Info(f"{NAMESPACE}_build", "Version of the bridge", registry=registry)
        self.build_info.info({"version": __version__, "python": platform.python_version()})

        # --- SMPP side (bridge.server) ---
        self.sessions = gauge("smpp_sessions", "Bound SMPP sessions", ("system_id", "bind_type"))
        self.bind_attempts = counter(
            "smpp_bind_attempts",
            "Bind requests by result (status ESME_ROK = accepted)",
            ("system_id", "bind_type", "status"),
        )
        self.pdus_received = counter(
            "smpp_pdus_received", "PDUs received from ESMEs", ("command", "status")
        )
        self.pdus_sent = counter("smpp_pdus_sent", "PDUs sent to ESMEs", ("command", "status"))
        self.submits = counter(
            "smpp_submits",
            "submit_sm / submit_multi / data_sm answered, by the status answered",
            ("system_id", "command", "status"),
        )
        self.submit_duration = histogram(
            "smpp_submit_duration_seconds",
            "From a submit's arrival to its response being queued (handled requests only)",
            ("command",),
        )
        self.throttled = counter(
            "smpp_throttled",
            "Submits refused ESME_RTHROTTLED by the account's throughput limit",
            ("system_id",),
        )
        self.window_full = counter(
            "smpp_window_full",
            "Requests refused ESME_RTHROTTLED because the session's window was full",
            ("system_id",),
        )

        self.proxy_headers = counter(
            "smpp_proxy_headers",
            "PROXY protocol headers by result (accepted / local; the rest closed the connection)",
            ("result",),
        )
        for outcome_seen in ProxyOutcome:
            self.proxy_headers.labels(outcome_seen.value)
        # --- a cluster sharing a state store (bridge.server.shared_limits) ---
        self.cluster_state_errors = counter(
            "cluster_state_errors",
            "Shared-store operations for max_binds, throughput and the submit probe that "
            "failed (store unreachable): new binds and submits were answered ESME_RSYSERR",
            ("operation",),
        )
        for operation in CLUSTER_OPERATIONS:
            self.cluster_state_errors.labels(operation)
        self.bind_leases = gauge(
            "bind_leases", "max_binds leases this instance holds in the shared store"
        )
        self.connections_refused = counter(
            "smpp_connections_refused",
            "Connections closed as soon as accepted, by the cap they hit",
            ("reason",),
        )
        for refusal in ConnectionRefusal:
            self.connections_refused.labels(refusal.value)
        self.event_loop_lag = HistogramSeries(
            f"{NAMESPACE}_event_loop_lag_seconds",
            "How late the event loop ran a due timer (sampled a few times a second)",
            buckets=LOOP_LAG_BUCKETS,
            registry=registry,
        )

        # --- iSMS side (bridge.upstream) ---
        self.isms_requests = counter(
            "isms_requests",
            "HTTP send requests to iSMS by mirror and result code",
            ("mirror", "code"),
        )
        self.isms_request_duration = histogram(
            "isms_request_duration_seconds",
            "Duration of one HTTP send request to one iSMS mirror",
            ("mirror",),
        )
        self.isms_messages = counter(
            "isms_messages",
            "iSMS messages by outcome (accepted / rejected / unknown / not_sent)",
            ("isms_account", "outcome"),
        )
        self.isms_failovers = counter(
            "isms_failovers", "Messages moved on to the next mirror (certainly not sent before)"
        )
        self.isms_unknown_outcomes = counter(
            "isms_unknown_outcomes",
            "Requests that may have reached iSMS but whose answer was lost (never resent)",
            ("mirror",),
        )
        self.isms_credits_spent = counter(
            "isms_credits_spent",
            "Estimated credits spent on accepted messages (per [policy] credit_chars_*)",
            ("isms_account",),
        )
        self.isms_credit_balance = gauge(
            "isms_credit_balance",
            "Credit balance from the last good balance poll (NaN: no reading yet)",
            ("isms_account",),
        )
        self.isms_credit_balance_known = gauge(
            "isms_credit_balance_known",
            "1 once a balance poll of the iSMS account succeeded, 0 before (balance unknown)",
            ("isms_account",),
        )
        self.isms_balance_polls = counter(
            "isms_balance_polls",
            "Balance polls by result (ok / refused / unavailable)",
            ("isms_account", "result"),
        )

        for command in SUBMIT_COMMANDS:
            self.submit_duration.labels(command)
        for command in PDUS_RECEIVED:
            self.pdus_received.labels(command, "ESME_ROK")
        for command in PDUS_SENT:
            self.pdus_sent.labels(command, "ESME_ROK")
        for bind_type in BindType:
            self.bind_attempts.labels(UNKNOWN_ACCOUNT, bind_type.value, UNKNOWN_BIND_RESULT)
        self.set_accounts(accounts)
        for isms_account in isms_accounts:
            for outcome in Outcome:
                self.isms_messages.labels(isms_account, outcome.value)
            self.isms_credits_spent.labels(isms_account)
            for result in BALANCE_RESULTS:
                self.isms_balance_polls.labels(isms_account, result)
            self.isms_credit_balance.labels(isms_account).set(math.nan)
            self.isms_credit_balance_known.labels(isms_account).set(0)
        codes = (
            *(str(code.value) for code in IsmsCode),
            "unlisted",
            "not_reached",
            "unknown",
        )
        for mirror in mirrors:
            host = mirror_label(mirror)
            self.isms_unknown_outcomes.labels(host)
            self.isms_request_duration.labels(host)
            for code in codes:
                self.isms_requests.labels(host, code)

    def set_accounts(self, system_ids: Iterable[str]) -> None:
        """The configured system_ids (again after a reload): their series start at 0."""
        self._accounts = frozenset(system_ids)
        for system_id in self._accounts:
            for bind_type in BindType:
                self.sessions.labels(system_id, bind_type.value)
                for status in BIND_RESULTS:
                    self.bind_attempts.labels(system_id, bind_type.value, status)
            for command in SUBMIT_COMMANDS:
                for status in SUBMIT_STATUSES:
                    self.submits.labels(system_id, command, status)
            self.throttled.labels(system_id)
            self.window_full.labels(system_id)

    @property
    def accounts(self) -> frozenset[str]:
        """The configured system_ids (as of the last reload)."""
        return self._accounts

    def account_label(self, system_id: str) -> str:
        """system_id when it is a configured account, else `_unknown` (labels stay bounded)."""
        return system_id if system_id in self._accounts else UNKNOWN_ACCOUNT

    def watch(self, collector: Callable[[], Iterator[Metric]]) -> None:
        """Add series computed at scrape time (gauges read from live objects)."""
        self.registry.register(_ScrapeTimeCollector(collector))


class _ScrapeTimeCollector:
    __slots__ = ("_collect",)

    def __init__(self, collect: Callable[[], Iterator[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        return self._collect()


def mirror_states(mirrors: Callable[[], Iterable[Mirror]]) -> Callable[[], Iterator[Metric]]:
    """`isms_bridge_isms_mirror_state{mirror, state}`: 1 for the breaker's current state."""

    def collect() -> Iterator[Metric]:
        family = GaugeMetricFamily(
            f"{NAMESPACE}_isms_mirror_state",
            "Circuit breaker state of each iSMS mirror (1 = current state)",
            labels=("mirror", "state"),
        )
        for mirror in mirrors():
            for state in BreakerState:
                family.add_metric(
                    (mirror_label(mirror.name), state.value), 1.0 if mirror.state is state else 0.0
                )
        yield family

    return collect


def smpp_connections(count: Callable[[], int]) -> Callable[[], Iterator[Metric]]:
    """`isms_bridge_smpp_connections`: open SMPP connections, bound or not."""

    def collect() -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{NAMESPACE}_smpp_connections",
            "Open SMPP connections (TCP, TLS, awaiting a PROXY header), bound or not",
            value=float(count()),
        )

    return collect


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineSnapshot:
    """The message pipeline's running totals and current sizes, read at each scrape.

    receipts: totals by result (sent, held, retried, refused, dropped); refusals: messages
    refused before iSMS by reason kind; the others are what their names say.
    """

    reassembly_pending: int
    reassembly_bytes: int
    reassembly_expired: int
    long_messages: int
    unicode_retries: int
    intents_unsettled: int
    receipts: Mapping[str, int]
    receipts_held: int
    refusals: Mapping[str, int]


def pipeline_series(snapshot: Callable[[], PipelineSnapshot]) -> Callable[[], Iterator[Metric]]:
    """The pipeline's series, from its own totals (the pipeline counts; nothing is copied)."""

    def collect() -> Iterator[Metric]:
        now = snapshot()
        yield GaugeMetricFamily(
            f"{NAMESPACE}_reassembly_pending",
            "Long messages waiting for their remaining parts",
            value=float(now.reassembly_pending),
        )
        yield GaugeMetricFamily(
            f"{NAMESPACE}_reassembly_buffered_bytes",
            "Bytes of long-message parts held for reassembly",
            value=float(now.reassembly_bytes),
        )
        yield CounterMetricFamily(
            f"{NAMESPACE}_reassembly_expired",
            "Long messages dropped because their parts stopped coming",
            value=float(now.reassembly_expired),
        )
        yield CounterMetricFamily(
            f"{NAMESPACE}_long_messages",
            "Long messages reassembled and handed on as one iSMS request",
            value=float(now.long_messages),
        )
        yield CounterMetricFamily(
            f"{NAMESPACE}_isms_unicode_retries",
            "Messages resent as type 2 after iSMS answered -1012 (nothing was charged)",
            value=float(now.unicode_retries),
        )
        yield CounterMetricFamily(
            f"{NAMESPACE}_intents_unsettled",
            "Messages a crash left at iSMS (their intent committed, no answer recorded), "
            "settled as unknown outcomes",
            value=float(now.intents_unsettled),
        )
        receipts = CounterMetricFamily(
            f"{NAMESPACE}_receipts",
            "Delivery receipts by what became of them",
            labels=("result",),
        )
        for result in RECEIPT_RESULTS:
            receipts.add_metric((result,), float(now.receipts.get(result, 0)))
        yield receipts
        yield GaugeMetricFamily(
            f"{NAMESPACE}_receipts_held",
            "Receipts held now because no receiver of their account is bound",
            value=float(now.receipts_held),
        )
        refusals = CounterMetricFamily(
            f"{NAMESPACE}_pipeline_refusals",
            "Messages the bridge refused before iSMS, by reason",
            labels=("reason",),
        )
        for reason in sorted({*REFUSAL_REASONS, *now.refusals}):
            refusals.add_metric((reason,), float(now.refusals.get(reason, 0)))
        yield refusals

    return collect
