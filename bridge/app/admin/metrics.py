"""The control plane's series: on the bridge's registry, so /metrics shows them.

`steering_series`: accounts suspended by mode, and whether this instance drains.
`AdminMetrics`: requests by route, method and status, and refused calls by reason. Both are
on every bridge with metrics, [admin] or not, so dashboards and alerts always find them.
Route labels are the route templates (`/v1/accounts/{system_id}`), so a caller cannot grow
the label set; an unknown path is `unmatched`.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from bridge.app.admin.records import SuspendMode
from bridge.app.admin.steering import Steering
from bridge.app.admin.tokens import Refusal


def steering_series(registry: CollectorRegistry, steering: Steering) -> None:
    suspended = Gauge(
        "isms_bridge_accounts_suspended",
        "Accounts an operator suspended, by mode (refuse_binds, throttle_submits)",
        ["mode"],
        registry=registry,
    )
    for mode in SuspendMode:
        suspended.labels(mode.value).set_function(_counting(steering, mode))
    draining = Gauge(
        "isms_bridge_draining",
        "1 while an operator has this instance drained (new binds refused, /readyz 503)",
        registry=registry,
    )
    draining.set_function(lambda: 1 if steering.draining else 0)


class AdminMetrics:
    __slots__ = ("auth_failures", "requests")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "isms_bridge_admin_requests",
            "Admin API requests by route template, method and HTTP status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.auth_failures = Counter(
            "isms_bridge_admin_auth_failures",
            "Admin API calls refused: missing, invalid, scope, query_string",
            ["reason"],
            registry=registry,
        )
        # Every reason from 0, so rate() and the alert see the first refusal.
        for refusal in Refusal:
            self.auth_failures.labels(refusal.value)


def _counting(steering: Steering, mode: SuspendMode) -> Callable[[], float]:
    return lambda: sum(1 for s in steering.suspensions.values() if s.mode is mode)
