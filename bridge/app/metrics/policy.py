"""The account policy's series (pipeline/policy/), read from the pipeline at each scrape:

    isms_bridge_account_credits_total{account}              estimated credits iSMS accepted
    isms_bridge_duplicates_total{account,action}            resends within the window
    isms_bridge_account_cap_used{account,period,unit}       a cap's use in its period
    isms_bridge_account_cap_limit{account,period,unit}      the cap

Every configured account's credits and duplicate series start at 0 (series.py rule 3); a
cap's gauges exist for every account with one, from the start (the pipeline reads them when
it starts, then each sweep at most every 10 s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bridge.app.metrics.series import NAMESPACE
from bridge.pipeline import MessagePipeline

# What duplicate suppression did with a resend (pipeline/policy/duplicates.py).
DUPLICATE_ACTIONS = ("flagged", "suppressed", "sent_again", "assumed_sent")


def policy_series(
    pipeline: MessagePipeline, accounts: Callable[[], Iterable[str]]
) -> Callable[[], Iterator[Metric]]:
    def collect() -> Iterator[Metric]:
        counters = pipeline.counters
        names = sorted({*accounts(), *counters.credits})
        credits = CounterMetricFamily(
            f"{NAMESPACE}_account_credits",
            "Estimated iSMS credits of the messages iSMS accepted, per SMPP account",
            labels=("account",),
        )
        for name in names:
            credits.add_metric((name,), float(counters.credits.get(name, 0)))
        yield credits
        duplicates = CounterMetricFamily(
            f"{NAMESPACE}_duplicates",
            "Resends of a message within its account's duplicate window, by what was done",
            labels=("account", "action"),
        )
        seen = {account for account, _action in counters.duplicates}
        for name in sorted({*names, *seen}):
            for action in DUPLICATE_ACTIONS:
                duplicates.add_metric(
                    (name, action), float(counters.duplicates.get((name, action), 0))
                )
        yield duplicates
        used = GaugeMetricFamily(
            f"{NAMESPACE}_account_cap_used",
            "Messages or estimated credits counted against an account's cap this period",
            labels=("account", "period", "unit"),
        )
        limit = GaugeMetricFamily(
            f"{NAMESPACE}_account_cap_limit",
            "An account's daily or monthly cap, in messages or estimated credits",
            labels=("account", "period", "unit"),
        )
        for key, use in sorted(pipeline.gate.caps.uses.items()):
            used.add_metric(key, float(use.used))
            limit.add_metric(key, float(use.limit))
        yield used
        yield limit

    return collect
