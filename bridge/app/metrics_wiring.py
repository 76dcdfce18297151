"""`Monitoring`: the metrics of one bridge process, wired to the running layers.

    monitoring = Monitoring(config)
    make_handler = functools.partial(forward_to_isms, observer=monitoring.isms)
    bridge = Bridge(config, make_handler, observer=monitoring.smpp)
    monitoring.attach(bridge)        # before the listeners open: no bind goes uncounted
    await bridge.start()
    await monitoring.start()         # GET /metrics, /healthz, /readyz; the balance poller
    ...
    await bridge.shutdown()          # /readyz says "listening fail stopping" meanwhile
    await monitoring.stop()

What feeds what: the server's `ConnectionObserver` and `SessionListener` calls feed the SMPP
series (`monitoring.smpp`); the iSMS client's `UpstreamObserver` calls and the balance
poller feed the iSMS series (`monitoring.isms`); mirror states, open connections and the
pipeline's totals are read from the live objects at each scrape.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bridge.app.forwarding import isms_accounts
from bridge.app.metrics import (
    BridgeMetrics,
    PipelineSnapshot,
    mirror_states,
    pipeline_series,
    smpp_connections,
)
from bridge.app.metrics_http import MetricsServer, bridge_readiness
from bridge.app.metrics_observers import IsmsObserver, SmppObserver
from bridge.app.metrics_state import StateMetrics, state_series
from bridge.app.wiring import Bridge
from bridge.config import BridgeConfig
from bridge.pipeline import MessagePipeline
from bridge.upstream import BalancePoller, IsmsClient, Mirror


@runtime_checkable
class ForwardsToIsms(Protocol):
    """A handler that sends through an `IsmsClient` and a `MessagePipeline` (IsmsForwarding)."""

    @property
    def client(self) -> IsmsClient: ...

    @property
    def pipeline(self) -> MessagePipeline: ...


def pipeline_snapshot(pipeline: MessagePipeline) -> PipelineSnapshot:
    counters = pipeline.counters
    sizes = pipeline.sizes
    return PipelineSnapshot(
        reassembly_pending=sizes.long_messages,
        reassembly_bytes=sizes.long_message_octets,
        reassembly_expired=counters.reassembly_expired,
        long_messages=counters.long_messages,
        unicode_retries=counters.unicode_retries,
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


class Monitoring:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.metrics = BridgeMetrics(
            accounts=[account.system_id for account in config.accounts],
            isms_accounts=[credentials.username for credentials in isms_accounts(config)],
            mirrors=config.isms.client.endpoints,
        )
        self.smpp = SmppObserver(self.metrics)
        self.isms = IsmsObserver(self.metrics)
        # The state store's CommitObserver and LossObserver: pass it to open_state (app/state.py).
        self.state = StateMetrics(self.metrics.registry)
        self._bridge: Bridge | None = None
        self._client: IsmsClient | None = None
        self._server: MetricsServer | None = None
        self._poller: BalancePoller | None = None
        self._pipeline: MessagePipeline | None = None

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """Where /metrics is served (port 0 in the config is resolved here)."""
        return () if self._server is None else self._server.addresses

    def attach(self, bridge: Bridge) -> None:
        """Count `bridge`'s sessions and read its live objects at each scrape."""
        if self._bridge is not None:
            raise RuntimeError("this Monitoring is already attached to a bridge")
        self._bridge = bridge
        metrics = self.metrics
        bridge.registry.subscribe(self.smpp)
        server = bridge.server
        metrics.watch(smpp_connections(lambda: server.connection_count))
        handler = bridge.handler
        if isinstance(handler, ForwardsToIsms):
            client, pipeline = handler.client, handler.pipeline
            self._client = client
            metrics.watch(mirror_states(lambda: client.mirrors))
            metrics.watch(pipeline_series(lambda: pipeline_snapshot(pipeline)))
            metrics.watch(state_series(pipeline, pipeline.state))
            self._pipeline = pipeline

    async def start(self) -> None:
        """Serve /metrics, /healthz and /readyz on [metrics] host:port; poll balances."""
        bridge = self._bridge
        if bridge is None:
            raise RuntimeError("attach(bridge) before start()")
        if self._server is not None:
            raise RuntimeError("this Monitoring was already started")
        config = self.config
        server = MetricsServer(
            self.metrics.registry,
            host=config.metrics.host,
            port=config.metrics.port,
            readiness=bridge_readiness(
                bridge.server,
                config_path=lambda: bridge.config.path,
                mirrors=self._mirrors,
                store_writable=self._store_writable,
                store_intact=self._store_intact,
            ),
        )
        await server.start()
        self._server = server
        interval = config.isms.balance_poll_interval_s
        if self._client is not None and interval > 0:
            # The poller's account list is the one at start; a reload's new iSMS accounts
            # are polled after a restart (like every [isms] change).
            self._poller = BalancePoller(
                self._client,
                isms_accounts(config),
                interval_s=interval,
                on_reading=self.isms.balance_read,
            )
            self._poller.start()

    def reload(self, config: BridgeConfig) -> None:
        """SIGHUP: label the reloaded accounts (their series start at 0)."""
        self.metrics.set_accounts(account.system_id for account in config.accounts)
        self.smpp.forget_labels()

    async def stop(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.stop()
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    def _store_writable(self) -> bool | None:
        return None if self._pipeline is None else self._pipeline.store_writable

    def _store_intact(self) -> bool | None:
        """Only a shared store can lose its data under a running bridge (Redis restarted)."""
        return self.state.intact() if self.config.state.backend == "redis" else None

    def _mirrors(self) -> tuple[Mirror, ...]:
        return () if self._client is None else self._client.mirrors
