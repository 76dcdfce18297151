"""The bridge's Prometheus metrics: the series, what feeds them, and the HTTP endpoint.

    series.py       every isms_bridge_* series, in one registry of its own (naming rules)
    observers.py    the observers the layers call (SMPP, iSMS), turning events into labels
    state.py        the state store's series and its commit and loss observer
    histograms.py   histograms counted in plain lists, written out at each collection
    tally.py        per-message counter increments, handed to their series when read
    endpoint.py     GET /metrics, /healthz and /readyz on [metrics] (aiohttp)
    monitoring.py   `Metrics` (the series and their observers, made before the parts they
                    observe) and `Monitoring` (the endpoint and the balance poller, reading
                    the running parts); the composition root (root.py) builds both

No layer below `bridge.app` imports prometheus_client: each declares an observer Protocol
and this package implements it.
"""

from bridge.app.metrics.monitoring import Metrics, Monitoring, pipeline_snapshot
from bridge.app.metrics.series import BridgeMetrics

__all__ = ["BridgeMetrics", "Metrics", "Monitoring", "pipeline_snapshot"]
