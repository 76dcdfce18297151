"""The composition root: one bridge process, built from its config part by part, in order.

    bridge = await Bridge.open(config, instance=instance_name())   # StateFileError
    await bridge.start()               # the iSMS client, the pipeline (it recovers), listeners
    await bridge.monitoring.start()    # /metrics, /healthz, /readyz (a bridge with metrics)
    ...
    bridge.reload()                    # SIGHUP: the file's [[accounts]] adopted
    await bridge.shutdown()            # graceful stop, then the pipeline, then the client
    await bridge.aclose()              # the metrics endpoint, then the state store

Each part is made from the config (through settings.py) and the parts before it, and held
as a typed attribute, so every step below knows the concrete type of what it is given:

    config -> metrics       the series and their observers: every part reports from its start
           -> store         the [state] backend (state.py opens it)
           -> client        the iSMS client: mirrors, breakers, the HTTP pool
           -> pipeline      requests -> iSMS messages -> answers and receipts; the sessions
                            registry is made with it (it delivers receipts through it)
           -> smpp          sessions and the SMPP server (`SmppFront`): the account authority,
                            the limits shared with other instances, the listeners, with the
                            pipeline as their handler
           -> monitoring    the metrics endpoint and the balance poller, reading the above
           -> admin         with [admin]: the control plane's API (`steering`, made with the
                            registry, is the operator's decisions every instance applies)
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.app.admin import (
    AdminMetrics,
    AdminParts,
    AdminServer,
    AuditLog,
    SteeredAuthority,
    SteeredHandler,
    Steering,
    steering_series,
)
from bridge.app.bind_advice import BindAdvice
from bridge.app.metrics import Metrics, Monitoring
from bridge.app.policy import account_policies, with_opt_outs
from bridge.app.settings import (
    account_routes,
    isms_settings,
    pipeline_settings,
    server_settings,
)
from bridge.app.state import open_state
from bridge.config import BridgeConfig, load_config
from bridge.pipeline import AccountRoute, MessagePipeline
from bridge.server import (
    AccountAuthority,
    ClusterObserver,
    ConnectionObserver,
    SessionRegistry,
    SharedLimits,
    SharedStore,
    SmppServer,
    SubmitHandler,
)
from bridge.smpp import AccountThrottles, Authenticator
from bridge.state import StateStore
from bridge.upstream import IsmsClient

# The config sections a SIGHUP does not apply (it re-reads [[accounts]] only).
_RESTART_SECTIONS = ("smpp", "isms", "metrics", "messages", "state", "admin")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadResult:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    sessions_unbound: int
    # Settings outside [[accounts]] that changed in the file and need a restart to apply.
    needs_restart: tuple[str, ...]


def account_authority(config: BridgeConfig) -> AccountAuthority:
    """Who may bind, how fast failed binds slow down, and each account's throughput."""
    smpp = config.smpp
    authenticator = Authenticator(
        config.accounts,
        base_delay_s=smpp.auth_slowdown_s,
        max_delay_s=smpp.auth_slowdown_max_s,
        halflife_s=smpp.auth_slowdown_halflife_s,
        max_addresses=smpp.auth_slowdown_max_addresses,
    )
    return AccountAuthority(authenticator, AccountThrottles(config.accounts))


class SmppFront:
    """The SMPP side of a bridge, around one `SubmitHandler`: the sessions registry, the
    account authority, the limits shared with other instances and the SMPP server.

    `Bridge` builds it around its pipeline; the server's end-to-end tests around a scripted
    handler. `cluster`: the state store shared with other instances (Redis), which then
    counts max_binds and throughput for all of them; None: this process alone does.
    """

    __slots__ = ("authority", "handler", "limits", "registry", "server")

    def __init__(
        self,
        config: BridgeConfig,
        handler: SubmitHandler,
        *,
        registry: SessionRegistry | None = None,
        observer: ConnectionObserver | None = None,
        cluster: SharedStore | None = None,
        cluster_observer: ClusterObserver | None = None,
        steering: Steering | None = None,
    ) -> None:
        """`steering`: an operator's suspensions and drain, consulted for every bind."""
        self.handler = handler
        self.registry = SessionRegistry() if registry is None else registry
        self.authority = account_authority(config)
        self.limits = (
            None
            if cluster is None
            else SharedLimits(
                cluster,
                self.authority,
                lease_s=config.smpp.bind_lease_s,
                observer=cluster_observer,
            )
        )
        self.server = SmppServer(
            server_settings(config.smpp, http_pool=config.isms.pool_size),
            authority=self.authority
            if steering is None
            else SteeredAuthority(self.authority, steering),
            handler=handler,
            registry=self.registry,
            observer=observer,
            limits=self.limits,
        )


class Bridge:
    """Every part of one bridge process, built from `config` in order (module docstring)."""

    __slots__ = (
        "_policies",
        "admin",
        "advice",
        "client",
        "config",
        "metrics",
        "monitoring",
        "pipeline",
        "smpp",
        "steering",
        "store",
    )

    def __init__(
        self,
        config: BridgeConfig,
        store: StateStore,
        *,
        metrics: Metrics | None = None,
        instance: str = "bridge",
    ) -> None:
        """`store`: the opened [state] store, the bridge's from here on (`aclose` closes it).
        `metrics`: made before the store, whose observers they are (`open` does both); None
        builds no metrics and no endpoint. `instance`: this process's name in the store (the
        owner of the receipts it is delivering)."""
        self.config = config
        self.metrics = metrics
        self.store = store
        self.client = IsmsClient(
            isms_settings(config.isms), observer=None if metrics is None else metrics.isms
        )
        registry = SessionRegistry()
        self.steering = Steering(store, registry, self.client, instance=instance)
        # The files' policies; the admin API's opt-outs are added to them (_routes).
        self._policies = account_policies(config)
        self.pipeline = MessagePipeline(
            sender=self.client,
            registry=registry,
            routes=self._routes(),
            settings=pipeline_settings(config),
            state=store,
            instance=instance,
        )
        # Held receipts go out as soon as a receiver binds.
        registry.subscribe(self.pipeline)
        smpp_observer = None if metrics is None else metrics.smpp
        self.advice = BindAdvice(config.accounts, smpp_observer)
        self.smpp = SmppFront(
            config,
            SteeredHandler(self.pipeline, self.steering),
            registry=registry,
            observer=self.advice,
            # A store other instances share counts max_binds and throughput for all of them.
            cluster=store if store.backend == "redis" else None,
            cluster_observer=smpp_observer,
            steering=self.steering,
        )
        self.steering.on_opt_outs(lambda _opt_outs: self.pipeline.update_routes(self._routes()))
        self.steering.attach(
            self.smpp.server,
            receipts_in_flight=lambda: self.pipeline.outbox.in_flight,
            shutdown_timeout_s=config.smpp.shutdown_timeout_s,
        )
        self.monitoring = (
            None
            if metrics is None
            else Monitoring(
                config,
                metrics,
                server=self.smpp.server,
                registry=registry,
                client=self.client,
                pipeline=self.pipeline,
                store=store,
                draining=lambda: self.steering.draining,
            )
        )
        admin_series = None
        if metrics is not None:
            steering_series(metrics.series.registry, self.steering)
            admin_series = AdminMetrics(metrics.series.registry)
        self.admin = None if config.admin is None else self._admin_server(instance, admin_series)

    @classmethod
    async def open(cls, config: BridgeConfig, *, instance: str) -> Bridge:
        """The bridge `serve` and `demo` run: with metrics, on the store `[state]` names
        (StateFileError, naming the path and the reason, when it cannot be opened)."""
        metrics = Metrics(config)
        store = await open_state(config.state, observer=metrics.state, losses=metrics.state)
        try:
            return cls(config, store, metrics=metrics, instance=instance)
        except BaseException:
            await store.aclose()
            raise

    def _admin_server(self, instance: str, series: AdminMetrics | None) -> AdminServer:
        admin = self.config.admin
        assert admin is not None
        parts = AdminParts(
            config=lambda: self.config,
            steering=self.steering,
            audit=AuditLog(
                self.store,
                instance=instance,
                max_entries=admin.audit_max_entries,
                max_age_s=admin.audit_max_age_s,
            ),
            store=self.store,
            pipeline=self.pipeline,
            client=self.client,
            server=self.smpp.server,
            authority=self.smpp.authority,
            metrics=None if self.metrics is None else self.metrics.series.registry,
            admin_addresses=lambda: () if self.admin is None else self.admin.addresses,
            limits=self.smpp.limits,
        )
        return AdminServer(admin, parts, series)

    async def start(self) -> None:
        """The iSMS client, the pipeline (it recovers what the store holds), the operator's
        decisions (before any bind), then the listeners, the admin API's last; when they
        cannot open, what was started is stopped again."""
        self.client.open()
        await self.pipeline.start()
        try:
            await self.steering.start()
            await self.smpp.server.start()
        except BaseException:
            await self.steering.aclose()
            await self._stop_pipeline()
            raise
        if self.admin is not None:
            try:
                await self.admin.start()
            except BaseException:
                await self.shutdown(0.0)
                raise

    async def shutdown(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """The server's graceful stop (at most `timeout`, default [smpp] shutdown_timeout_s),
        then the pipeline once every request has its answer, the client's pool last."""
        try:
            await self.smpp.server.shutdown(timeout)
        finally:
            try:
                await self.steering.aclose()
            finally:
                await self._stop_pipeline()

    def abort(self) -> None:
        self.smpp.server.abort()

    async def aclose(self) -> None:
        """After `shutdown`: the metrics endpoint, then the state store."""
        try:
            if self.admin is not None:
                await self.admin.stop()
            if self.monitoring is not None:
                await self.monitoring.stop()
        finally:
            await self.store.aclose()

    def reload(self) -> ReloadResult:
        """Re-read the config file and adopt its accounts (SIGHUP).

        Binds of kept accounts stay up; sessions of removed accounts are unbound; new routes
        apply to the next submit. Raises ConfigError (nothing changes) when the file no
        longer loads.
        """
        new = load_config(self.config.path)
        # The opt-out files are read again too; one that cannot be read changes nothing.
        policies = account_policies(new)
        changes = self.smpp.authority.reload(new.accounts)
        removed = frozenset(changes.removed)
        unbound = self.smpp.registry.unbind_where(lambda system_id: system_id in removed)
        needs_restart = tuple(
            name for name in _RESTART_SECTIONS if getattr(new, name) != getattr(self.config, name)
        )
        self.config = new
        self._policies = policies
        self.pipeline.update_routes(self._routes())
        self.advice.reload(new.accounts)
        if self.metrics is not None:
            self.metrics.reload(new)
        return ReloadResult(
            added=changes.added,
            removed=changes.removed,
            kept=changes.kept,
            sessions_unbound=unbound,
            needs_restart=needs_restart,
        )

    def _routes(self) -> list[AccountRoute]:
        """Each account's route: its policy from the config and opt-out files, with the
        numbers opted out through the admin API."""
        policies = with_opt_outs(self.config.accounts, self._policies, self.steering.opt_outs)
        return account_routes(self.config.accounts, policies)

    async def _stop_pipeline(self) -> None:
        try:
            await self.pipeline.aclose()
        finally:
            await self.client.aclose()
