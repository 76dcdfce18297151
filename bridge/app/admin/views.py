"""The read routes of the admin API (scope `read`): what a running bridge and its cluster hold."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry

from bridge import __version__
from bridge.app.admin.audit import AuditLog
from bridge.app.admin.openapi import document
from bridge.app.admin.records import JsonObject
from bridge.app.admin.steering import Steering
from bridge.config import AccountConfig, BridgeConfig
from bridge.pipeline import MessagePipeline
from bridge.server import AccountAuthority, SharedLimits, SmppServer
from bridge.state import StateStore, StateUnavailable
from bridge.upstream import IsmsClient


class ApiError(Exception):
    """Answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminParts:
    """What the routes read and steer: the running bridge's parts."""

    config: Callable[[], BridgeConfig]  # the config after the latest SIGHUP
    steering: Steering
    audit: AuditLog
    store: StateStore
    pipeline: MessagePipeline
    client: IsmsClient
    server: SmppServer
    authority: AccountAuthority
    metrics: CollectorRegistry | None
    admin_addresses: Callable[[], tuple[tuple[str, int], ...]]
    # The limits shared with other instances (a Redis store); None: this process alone.
    limits: SharedLimits | None = None


def answer(value: object, status: int = 200) -> web.Response:
    return web.json_response(value, status=status)


def positive_int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ApiError(400, f"{name} must be a whole number of at least 1")
    return value


def duration(request: web.Request, name: str) -> float | None:
    # Imported here: the sub-commands import the composition root, which imports this.
    from bridge.app.commands.messages import since_seconds

    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return since_seconds(raw)
    except ValueError as exc:
        raise ApiError(400, f"{name}: {exc}") from None


class ReadViews:
    def __init__(self, parts: AdminParts) -> None:
        self._parts = parts

    async def status(self, request: web.Request) -> web.Response:
        parts = self._parts
        steering, server, pipeline = parts.steering, parts.server, parts.pipeline
        config = parts.config()
        instances = await steering.instances()
        return answer(
            {
                "version": __version__,
                "instance": steering.instance,
                "started_at": steering.started_at,
                "uptime_s": round(time.time() - steering.started_at, 3),
                "server": server.state.value,
                "draining": steering.draining,
                "listeners": {
                    "smpp": [f"{h}:{p}" for h, p in server.addresses],
                    "smpp_tls": [f"{h}:{p}" for h, p in server.tls_addresses],
                    "admin": [f"{h}:{p}" for h, p in parts.admin_addresses()],
                },
                "state": {
                    "backend": parts.store.backend,
                    "writable": await parts.store.writable(),
                    "file_bytes": parts.store.file_size(),
                },
                "mirrors": self._mirrors(),
                "balances": self._balances(config),
                "totals": {
                    "accounts": len(config.accounts),
                    "connections": server.connection_count,
                    "bound_here": len(server.sessions()),
                    "bound_cluster": sum(_bind_count(i) for i in instances),
                    "requests_in_flight": server.requests_in_flight,
                    "receipts_held": await pipeline.outbox.held(),
                    "suspended_accounts": len(steering.suspensions),
                },
                "instances": [
                    {key: value for key, value in snapshot.items() if key != "binds"}
                    | {"bound": _bind_count(snapshot)}
                    for snapshot in instances
                ],
            }
        )

    async def binds(self, request: web.Request) -> web.Response:
        account = request.query.get("account")
        instance = request.query.get("instance")
        found = [
            bind
            for snapshot in await self._parts.steering.instances()
            for bind in _binds(snapshot)
            if (account is None or bind.get("system_id") == account)
            and (instance is None or bind.get("instance") == instance)
        ]
        return answer({"binds": found})

    async def accounts(self, request: web.Request) -> web.Response:
        instances = await self._parts.steering.instances()
        accounts = [await self._account(a, instances) for a in self._parts.config().accounts]
        return answer({"accounts": accounts})

    async def account(self, request: web.Request) -> web.Response:
        system_id = request.match_info["system_id"]
        found = self.known(system_id)
        return answer(await self._account(found, await self._parts.steering.instances()))

    async def opt_outs(self, request: web.Request) -> web.Response:
        """The numbers opted out through the API (the opt-out files are not listed)."""
        scope = request.query.get("account")
        number = request.query.get("number")
        limit = positive_int(request, "limit", 1000)
        entries = [
            entry
            for entry in await self._parts.steering.opt_out_entries()
            if (scope is None or entry["scope"] == scope)
            and (number is None or entry["number"] == number)
        ]
        return answer({"count": len(entries), "opt_outs": entries[:limit]})

    def known(self, system_id: str) -> AccountConfig:
        for account in self._parts.config().accounts:
            if account.system_id == system_id:
                return account
        raise ApiError(404, f"no account {system_id!r} in the config")

    async def _account(self, account: AccountConfig, instances: list[JsonObject]) -> JsonObject:
        system_id = account.system_id
        suspension = self._parts.steering.suspensions.get(system_id)
        by_instance: dict[str, int] = {}
        for snapshot in instances:
            for bind in _binds(snapshot):
                if bind.get("system_id") == system_id:
                    name = str(bind.get("instance"))
                    by_instance[name] = by_instance.get(name, 0) + 1
        throughput = self._parts.authority.throughput(system_id)
        outbox = self._parts.pipeline.outbox
        oldest = await outbox.oldest_held_at(system_id)
        return {
            "system_id": system_id,
            "max_binds": account.max_binds,
            "allowed_ips": [str(network) for network in account.allowed_ips],
            "throughput": None
            if throughput is None
            else {
                "per_s": throughput.rate,
                "burst": throughput.burst,
                **await self._bucket_level(system_id),
            },
            "suspended": None if suspension is None else suspension.to_json(),
            "binds": sum(by_instance.values()),
            "binds_by_instance": by_instance,
            "receipts_held": await outbox.held(system_id),
            # When the oldest of them was made, and how long ago (None: none is held).
            "oldest_receipt_at": oldest,
            "oldest_receipt_age_s": None if oldest is None else round(time.time() - oldest, 3),
        }

    async def _bucket_level(self, system_id: str) -> JsonObject:
        """The tokens left in the account's bucket, and whose bucket that is: the cluster's
        (in the store, the same whichever instance is asked; None when the store cannot
        answer now) or this instance's own (one process: the only one)."""
        limits = self._parts.limits
        left: float | None
        if limits is None:
            now = asyncio.get_running_loop().time()  # the clock the buckets are charged by
            left = self._parts.authority.tokens_left(system_id, now)
        else:
            try:
                left = await limits.tokens_left(system_id)
            except StateUnavailable:
                left = None
        return {
            "tokens_left": None if left is None else round(left, 3),
            "bucket": "instance" if limits is None else "cluster",
        }

    async def messages(self, request: web.Request) -> web.Response:
        # Imported here: the sub-commands import the composition root, which imports this.
        from bridge.app.commands.messages import Query, as_json, select

        query = Query(
            message_id=request.query.get("id"),
            to=request.query.get("to"),
            account=request.query.get("account"),
            since_s=duration(request, "since"),
            limit=positive_int(request, "limit", 50),
        )
        rows = await select(self._parts.store, query, now=time.time())
        return answer({"messages": [as_json(row) for row in rows]})

    async def mirrors(self, request: web.Request) -> web.Response:
        return answer({"mirrors": self._mirrors()})

    def _mirrors(self) -> list[JsonObject]:
        now = time.monotonic()  # the client's clock: cool-downs are monotonic times
        return [
            {
                "index": index,
                "name": mirror.name,
                "in_service": mirror.in_service,
                "breaker": mirror.state.value,
                "failures": mirror.failures,
                "cooldown_left_s": max(0.0, round(mirror.reopen_at - now, 3))
                if mirror.state.value == "open"
                else 0.0,
            }
            for index, mirror in enumerate(self._parts.client.mirrors)
        ]

    def _balances(self, config: BridgeConfig) -> dict[str, float | None]:
        """The latest balance read by the poller, per iSMS username (None: not read)."""
        registry = self._parts.metrics
        found: dict[str, float | None] = {}
        for account in config.accounts:
            value = (
                None
                if registry is None
                else registry.get_sample_value(
                    "isms_bridge_isms_credit_balance", {"isms_account": account.isms_username}
                )
            )
            found[account.isms_username] = None if value is None or math.isnan(value) else value
        return found

    async def drain(self, request: web.Request) -> web.Response:
        return answer(self._parts.steering.drain_report())

    async def audit(self, request: web.Request) -> web.Response:
        since = duration(request, "since")
        entries = await self._parts.audit.entries(
            limit=positive_int(request, "limit", 100),
            since=None if since is None else time.time() - since,
        )
        return answer({"entries": entries})

    async def openapi(self, request: web.Request) -> web.Response:
        return answer(document())


def _binds(snapshot: JsonObject) -> list[JsonObject]:
    binds = snapshot.get("binds")
    return [b for b in binds if isinstance(b, dict)] if isinstance(binds, list) else []


def _bind_count(snapshot: JsonObject) -> int:
    return len(_binds(snapshot))
