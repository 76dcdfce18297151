"""The account policy's series (app/metrics/policy.py), read from a pipeline at each scrape."""

from __future__ import annotations

from bridge.app.metrics.policy import policy_series
from bridge.app.metrics.series import BridgeMetrics
from bridge.pipeline import AccountPolicy, AccountRoute, Caps, MessagePipeline
from bridge.pipeline.policy.caps import CapUse
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult

from .test_series import sample

CREDENTIALS = IsmsCredentials(username="isms", password="isms123")


class NoIsms:
    async def send(self, message: IsmsMessage) -> SendResult:
        return SendResult(
            outcome=Outcome.ACCEPTED, code=2000, trx_id="1", mirror="m", elapsed_s=0, attempts=1
        )


class NoReceivers:
    def delivery_window(self, system_id: str) -> int:
        return 0

    async def deliver(self, system_id: str, pdu: object) -> object:
        raise LookupError(system_id)


def test_credits_and_duplicates_start_at_zero_and_caps_show_use_and_limit() -> None:
    route = AccountRoute(
        system_id="esme1",
        credentials=CREDENTIALS,
        policy=AccountPolicy(caps=Caps(daily_messages=10)),
    )
    pipeline = MessagePipeline(sender=NoIsms(), registry=NoReceivers(), routes=[route])  # type: ignore[arg-type]
    metrics = BridgeMetrics(accounts=["esme1", "esme2"], process_metrics=False)
    metrics.watch(policy_series(pipeline, lambda: metrics.accounts))
    assert sample(metrics, "isms_bridge_account_credits_total", account="esme2") == 0.0
    assert (
        sample(metrics, "isms_bridge_duplicates_total", account="esme1", action="suppressed") == 0.0
    )
    pipeline.counters.credits["esme1"] += 3
    pipeline.gate.caps.uses[("esme1", "day", "messages")] = CapUse(
        account="esme1", period="day", unit="messages", used=8, limit=10
    )
    assert sample(metrics, "isms_bridge_account_credits_total", account="esme1") == 3.0
    labels = {"account": "esme1", "period": "day", "unit": "messages"}
    assert sample(metrics, "isms_bridge_account_cap_used", **labels) == 8.0
    assert sample(metrics, "isms_bridge_account_cap_limit", **labels) == 10.0
