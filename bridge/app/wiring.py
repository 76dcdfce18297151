"""Builds the running bridge from a `BridgeConfig` and a SubmitHandler, and reloads accounts.

The message pipeline plugs in here as a `HandlerFactory`: given the config and
the server's `SessionRegistry` (its way to push deliver_sm receipts to RX/TRX binds), it
returns the `SubmitHandler` every bound session's requests go to. What else the handler
implements is picked up too:
- `session_bound(context)` / `session_closed(context)` (a `SessionListener`): subscribed to
  the registry, so held receipts can go out when a receiver binds;
- `async start()` / `async aclose()`: called before the listeners open and after the
  graceful stop has answered every request (so in-flight submits finish first);
- `reload_config(config)`: called after a SIGHUP reload adopted the new accounts.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bridge.config import BridgeConfig, SmppConfig, load_config
from bridge.server import (
    AccountAuthority,
    ClusterObserver,
    ConnectionObserver,
    ProxySettings,
    ServerSettings,
    SessionContext,
    SessionRegistry,
    SharedLimits,
    SharedStore,
    SmppServer,
    SubmitHandler,
    TlsSettings,
)
from bridge.smpp import AccountThrottles, Authenticator, SessionConfig

log = logging.getLogger(__name__)

HandlerFactory = Callable[[BridgeConfig, SessionRegistry], SubmitHandler]


@runtime_checkable
class ReloadableHandler(Protocol):
    def reload_config(self, config: BridgeConfig) -> None: ...


@runtime_checkable
class HandlerLifecycle(Protocol):
    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ListeningHandler(Protocol):
    def session_bound(self, context: SessionContext) -> None: ...

    def session_closed(self, context: SessionContext) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadResult:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    sessions_unbound: int
    # Settings outside [[accounts]] that changed in the file and need a restart to apply.
    needs_restart: tuple[str, ...]


def session_config(smpp: SmppConfig) -> SessionConfig:
    return SessionConfig(
        our_system_id=smpp.system_id,
        window=smpp.window,
        max_pdu_size=smpp.max_pdu_size,
        session_init_s=smpp.session_init_s,
        inactivity_s=smpp.inactivity_s,
        enquire_link_interval_s=smpp.enquire_link_interval_s,
        response_timeout_s=smpp.response_timeout_s,
        max_unknown_commands=smpp.max_unknown_commands,
    )


# File descriptors kept back from SMPP connections when max_connections is derived: the
# listeners, the metrics server, log and state files, and what libraries open (plus the iSMS
# HTTP pool, added separately).
RESERVED_DESCRIPTORS = 256
# An unlimited open-file limit is counted as this many.
UNLIMITED_DESCRIPTORS = 1_048_576


def open_files_limit() -> int:
    """The process's soft RLIMIT_NOFILE (the file descriptors it may hold)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return UNLIMITED_DESCRIPTORS if soft == resource.RLIM_INFINITY else int(soft)


def derived_max_connections(files_limit: int, http_pool: int) -> int:
    """What the open-file limit leaves for SMPP connections once the others are reserved."""
    return max(1, min(files_limit, UNLIMITED_DESCRIPTORS) - RESERVED_DESCRIPTORS - http_pool)


def connection_caps(smpp: SmppConfig, *, files_limit: int, http_pool: int) -> tuple[int, int, int]:
    """(max_connections, per address, unbound): the configured values, max_connections
    derived from the open-file limit when not configured (logged either way)."""
    room = derived_max_connections(files_limit, http_pool)
    if smpp.max_connections is None:
        total = room
        log.info(
            "event=max_connections_derived max_connections=%d rlimit_nofile=%d reserved=%d",
            total,
            files_limit,
            files_limit - total,
        )
    else:
        total = smpp.max_connections
        if total > room:
            log.warning(
                "event=max_connections_above_fd_limit max_connections=%d rlimit_nofile=%d "
                "room=%d (connections past it fail with 'too many open files')",
                total,
                files_limit,
                room,
            )
    return (
        total,
        min(smpp.max_connections_per_address, total),
        min(smpp.max_unbound_connections, total),
    )


def server_settings(
    smpp: SmppConfig, *, files_limit: int | None = None, http_pool: int = 0
) -> ServerSettings:
    tls = smpp.tls
    total, per_address, unbound = connection_caps(
        smpp,
        files_limit=open_files_limit() if files_limit is None else files_limit,
        http_pool=http_pool,
    )
    return ServerSettings(
        hosts=smpp.hosts,
        port=smpp.port,
        session=session_config(smpp),
        tls=None
        if tls is None
        else TlsSettings(
            hosts=tls.hosts, port=tls.port, cert_file=tls.cert_file, key_file=tls.key_file
        ),
        bind_failure_delay_s=smpp.bind_failure_delay_s,
        shutdown_timeout_s=smpp.shutdown_timeout_s,
        max_connections=total,
        max_connections_per_address=per_address,
        max_unbound_connections=unbound,
        log_bodies=smpp.log_bodies,
        proxy=ProxySettings(trusted=smpp.proxy_trusted) if smpp.proxy_protocol else None,
    )


def account_authority(config: BridgeConfig) -> AccountAuthority:
    smpp = config.smpp
    authenticator = Authenticator(
        config.accounts,
        base_delay_s=smpp.auth_slowdown_s,
        max_delay_s=smpp.auth_slowdown_max_s,
        halflife_s=smpp.auth_slowdown_halflife_s,
        max_addresses=smpp.auth_slowdown_max_addresses,
    )
    return AccountAuthority(authenticator, AccountThrottles(config.accounts))


class Bridge:
    """The SMPP server, its account authority and the handler, built from one config."""

    __slots__ = ("authority", "config", "handler", "limits", "registry", "server")

    def __init__(
        self,
        config: BridgeConfig,
        make_handler: HandlerFactory,
        *,
        observer: ConnectionObserver | None = None,
        cluster: SharedStore | None = None,
        cluster_observer: ClusterObserver | None = None,
    ) -> None:
        """`cluster`: the state store shared with other instances (Redis), which then
        counts max_binds and throughput for all of them; None: this process alone does."""
        self.config = config
        self.registry = SessionRegistry()
        self.authority = account_authority(config)
        self.handler = make_handler(config, self.registry)
        if isinstance(self.handler, ListeningHandler):
            self.registry.subscribe(self.handler)
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
            server_settings(config.smpp, http_pool=config.isms.client.pool_size),
            authority=self.authority,
            handler=self.handler,
            registry=self.registry,
            observer=observer,
            limits=self.limits,
        )

    async def start(self) -> None:
        if isinstance(self.handler, HandlerLifecycle):
            await self.handler.start()
        try:
            await self.server.start()
        except BaseException:
            if isinstance(self.handler, HandlerLifecycle):
                await self.handler.aclose()
            raise

    async def shutdown(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await self.server.shutdown(timeout)
        finally:
            if isinstance(self.handler, HandlerLifecycle):
                await self.handler.aclose()

    def abort(self) -> None:
        self.server.abort()

    def reload(self) -> ReloadResult:
        """Re-read the config file and adopt its accounts (SIGHUP).

        Binds of kept accounts stay up; sessions of removed accounts are unbound. Raises
        ConfigError (nothing changes) when the file no longer loads.
        """
        new = load_config(self.config.path)
        changes = self.authority.reload(new.accounts)
        removed = frozenset(changes.removed)
        unbound = self.registry.unbind_where(lambda system_id: system_id in removed)
        needs_restart = tuple(
            name
            for name in ("smpp", "isms", "metrics", "messages", "state")
            if getattr(new, name) != getattr(self.config, name)
        )
        self.config = new
        if isinstance(self.handler, ReloadableHandler):
            self.handler.reload_config(new)
        return ReloadResult(
            added=changes.added,
            removed=changes.removed,
            kept=changes.kept,
            sessions_unbound=unbound,
            needs_restart=needs_restart,
        )
