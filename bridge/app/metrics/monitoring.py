"""The metrics of one bridge process: the series and their observers, then the endpoint that
reads the running parts.

    metrics = Metrics(config)           # first: the parts report to it from their first call
    store = await open_state(config.state, observer=metrics.state, losses=metrics.state)
    client = IsmsClient(settings, observer=metrics.isms)
    ...                                 # the pipeline, the server (observer: metrics.smpp)
    monitoring = Monitoring(config, metrics, server=..., registry=..., client=...,
                            pipeline=..., store=...)   # before the listeners open
    await monitoring.start()            # GET /metrics, /healthz, /readyz; the balance poller
    ...
    await monitoring.stop()             # after the graceful stop (/readyz said "stopping")

What feeds what: the server's `ConnectionObserver` and `SessionListener` calls feed the SMPP
series (`metrics.smpp`); the iSMS client's `UpstreamObserver` calls and the balance
poller feed the iSMS series (`metrics.isms`); the state store's commits and losses feed
`metrics.state`; mirror states, open connections and the pipeline's totals are read from the
live objects at each scrape. `bridge.app.root.Bridge` builds both in that order.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.app.metrics.endpoint import MetricsServer, bridge_readiness
from bridge.app.metrics.observers import IsmsObserver, SmppObserver
from bridge.app.metrics.policy import policy_series
from bridge.app.metrics.series import (
    BridgeMetrics,
    PipelineSnapshot,
    mirror_states,
    pipeline_series,
    smpp_connections,
)
from bridge.app.metrics.state import StateMetrics, state_series
from bridge.app.settings import isms_accounts
from bridge.config import BridgeConfig
from bridge.pipeline import MessagePipeline
from bridge.server import SessionRegistry, SmppServer
from bridge.state import StateStore
from bridge.upstream import BalancePoller, IsmsClient, SmsType


def pipeline_snapshot(pipeline: MessagePipeline) -> PipelineSnapshot:
    counters = pipeline.counters
    sizes = pipeline.sizes
    return PipelineSnapshot(
        reassembly_pending=sizes.long_messages,
        reassembly_bytes=sizes.long_message_octets,
        reassembly_expired=counters.reassembly_expired,
        long_messages=counters.long_messages,
        unicode_retries=counters.unicode_retries,
        intents_unsettled=counters.intents_unsettled,
        receipts={
            "sent": counters.receipts_sent,
            "held": counters.receipts_held,
            "retried": counters.receipts_retried,
            "refused": counters.receipts_refused,
            "dropped": counters.receipts_dropped,
        },
        receipts_held=sizes.receipts_held + sizes.receipts_sent,
        refusals=dict(counters.refusals),
    )


class Metrics:
    """Every isms_bridge_* series of one process (`series`) and the observers that feed
    them, made before the parts they observe."""

    __slots__ = ("isms", "series", "smpp", "state")

    def __init__(self, config: BridgeConfig) -> None:
        self.series = BridgeMetrics(
            accounts=[account.system_id for account in config.accounts],
            isms_accounts=[credentials.username for credentials in isms_accounts(config)],
            mirrors=config.isms.endpoints,
        )
        self.smpp = SmppObserver(self.series)
        policy = config.policy
        part_chars = {
            SmsType.ASCII: policy.credit_chars_ascii,
            SmsType.UNICODE: policy.credit_chars_unicode,
        }
        self.isms = IsmsObserver(self.series, part_chars)
        # The state store's CommitObserver and LossObserver (app/state.py opens it with them).
        self.state = StateMetrics(self.series.registry)

    def reload(self, config: BridgeConfig) -> None:
        """SIGHUP: label the reloaded accounts (their series start at 0)."""
        self.series.set_accounts(account.system_id for account in config.accounts)
        self.smpp.forget_labels()


class Monitoring:
    """/metrics, /healthz and /readyz on `[metrics]` host:port, and the balance poller,
    reading the running server, iSMS client, pipeline and store."""

    __slots__ = (
        "_client",
        "_config",
        "_draining",
        "_endpoint",
        "_metrics",
        "_pipeline",
        "_poller",
        "_server",
    )

    def __init__(
        self,
        config: BridgeConfig,
        metrics: Metrics,
        *,
        server: SmppServer,
        registry: SessionRegistry,
        client: IsmsClient,
        pipeline: MessagePipeline,
        store: StateStore,
        draining: Callable[[], bool] = lambda: False,
    ) -> None:
        """Counts the registry's sessions from here on: build it before the listeners open,
        so no bind goes uncounted. `draining`: an operator drained this instance (/readyz
        answers 503 while it is)."""
        self._draining = draining
        self._config = config
        self._metrics = metrics
        self._server = server
        self._client = client
        self._pipeline = pipeline
        self._endpoint: MetricsServer | None = None
        self._poller: BalancePoller | None = None
        registry.subscribe(metrics.smpp)
        series = metrics.series
        series.watch(smpp_connections(lambda: server.connection_count))
        series.watch(mirror_states(lambda: client.mirrors))
        series.watch(pipeline_series(lambda: pipeline_snapshot(pipeline)))
        series.watch(state_series(pipeline, store))
        series.watch(policy_series(pipeline, lambda: series.accounts))

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """Where /metrics is served (port 0 in the config is resolved here)."""
        return () if self._endpoint is None else self._endpoint.addresses

    async def start(self) -> None:
        """Serve /metrics, /healthz and /readyz on [metrics] host:port; poll balances."""
        if self._endpoint is not None:
            raise RuntimeError("this Monitoring was already started")
        config, client, pipeline = self._config, self._client, self._pipeline
        endpoint = MetricsServer(
            self._metrics.series.registry,
            host=config.metrics.host,
            port=config.metrics.port,
            readiness=bridge_readiness(
                self._server,
                # SIGHUP re-reads the same file: the path is the one loaded at start.
                config_path=lambda: config.path,
                mirrors=lambda: client.mirrors,
                store_writable=lambda: pipeline.store_writable,
                store_intact=self._store_intact,
                draining=self._draining,
            ),
        )
        await endpoint.start()
        self._endpoint = endpoint
        interval = config.isms.balance_poll_interval_s
        if interval > 0:
            # The poller's account list is the one at start; a reload's new iSMS accounts
            # are polled after a restart (like every [isms] change).
            self._poller = BalancePoller(
                client,
                isms_accounts(config),
                interval_s=interval,
                on_reading=self._metrics.isms.balance_read,
            )
            self._poller.start()

    async def stop(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.stop()
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            await endpoint.stop()

    def _store_intact(self) -> bool | None:
        """Only a shared store can lose its data under a running bridge (Redis restarted)."""
        return self._metrics.state.intact() if self._config.state.backend == "redis" else None
