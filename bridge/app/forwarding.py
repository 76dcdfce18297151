"""The handler `serve` and `demo` plug into the server: the message pipeline and its iSMS client.

`forward_to_isms` is a `HandlerFactory` (wiring.py): from the config and the server's
`SessionRegistry` it builds one `IsmsClient` and one `MessagePipeline`. `Bridge` then calls
`start()` before the listeners open, subscribes it to binds and closes (held receipts go out
when a receiver binds), hands it SIGHUP reloads, and calls `aclose()` after the graceful stop
answered everything, which closes the client's connection pool last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

from bridge.config import AccountConfig, BridgeConfig
from bridge.pdu import Pdu
from bridge.pipeline import (
    AccountRoute,
    MessagePipeline,
    PipelineRequest,
    PipelineSettings,
    SessionInfo,
)
from bridge.server import SessionRegistry, SubmitHandler
from bridge.state import StateStore
from bridge.upstream import IsmsClient, IsmsCredentials, UpstreamObserver


def isms_credentials(account: AccountConfig) -> IsmsCredentials:
    return IsmsCredentials(username=account.isms_username, password=account.isms_password)


def isms_accounts(config: BridgeConfig) -> tuple[IsmsCredentials, ...]:
    """Each iSMS account of the config once, in config order (ESME accounts may share one)."""
    found: dict[str, IsmsCredentials] = {}
    for account in config.accounts:
        found.setdefault(account.isms_username, isms_credentials(account))
    return tuple(found.values())


def account_route(account: AccountConfig) -> AccountRoute:
    return AccountRoute(
        system_id=account.system_id,
        credentials=isms_credentials(account),
        dc0=account.dc0,
        dc1=account.dc1,
        report_delivered=account.report_delivered,
        default_sender=account.default_sender,
        allowed_sender_ids=account.allowed_sender_ids,
    )


def pipeline_settings(config: BridgeConfig) -> PipelineSettings:
    isms, messages = config.isms, config.messages
    return PipelineSettings(
        max_text_length=isms.max_text_length,
        max_destinations_per_request=isms.client.max_destinations_per_request,
        numbers=isms.numbers,
        statuses=isms.statuses,
        reassembly=messages.reassembly,
        receipts=messages.receipts,
        upstream_concurrency=isms.max_in_flight_per_account,
        store_max_messages=messages.query_store_max,
        store_max_age_s=messages.query_store_age_s,
        record_text=config.state.record_text,
    )


class IsmsForwarding:
    """A `SubmitHandler` (and `SessionListener`) that owns the pipeline's iSMS client."""

    __slots__ = ("client", "pipeline")

    def __init__(
        self,
        config: BridgeConfig,
        registry: SessionRegistry,
        *,
        observer: UpstreamObserver | None = None,
        state: StateStore | None = None,
        instance: str = "bridge",
    ) -> None:
        self.client = IsmsClient(config.isms.client, observer=observer)
        self.pipeline = MessagePipeline(
            sender=self.client,
            registry=registry,
            routes=[account_route(account) for account in config.accounts],
            settings=pipeline_settings(config),
            state=state,
            instance=instance,
        )

    def parts(self, request: PipelineRequest) -> int:
        return self.pipeline.parts(request)

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return self.pipeline.must_finish(task)

    def answer_written(self, context: SessionInfo, response: Pdu) -> None:
        self.pipeline.answer_written(context, response)

    # The pipeline's coroutine itself, not one awaiting it: a coroutine frame less per request.
    def handle(self, context: SessionInfo, request: PipelineRequest) -> Coroutine[None, None, Pdu]:
        return self.pipeline.handle(context, request)

    def session_bound(self, context: SessionInfo) -> None:
        self.pipeline.session_bound(context)

    def session_closed(self, context: SessionInfo) -> None:
        self.pipeline.session_closed(context)

    async def start(self) -> None:
        self.client.open()
        await self.pipeline.start()

    async def aclose(self) -> None:
        try:
            await self.pipeline.aclose()
        finally:
            await self.client.aclose()

    def reload_config(self, config: BridgeConfig) -> None:
        # SIGHUP re-reads [[accounts]] only (wiring.py); new routes apply to the next submit.
        self.pipeline.update_routes(account_route(account) for account in config.accounts)


def forward_to_isms(
    config: BridgeConfig,
    registry: SessionRegistry,
    *,
    observer: UpstreamObserver | None = None,
    state: StateStore | None = None,
    instance: str = "bridge",
) -> SubmitHandler:
    """`observer` hears of every iSMS request and message (the metrics; metrics_wiring.py);
    `state` is the opened store (app/state.py; None: in memory), `instance` this process's
    name in it."""
    return IsmsForwarding(config, registry, observer=observer, state=state, instance=instance)
