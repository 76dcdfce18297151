"""The one place where the typed config becomes each layer's settings.

`bridge.config` parses and validates the file into values shaped like it, and stops there.
Every settings object a layer is built with is made from those values here, by one function
per object, and nowhere else:

    [smpp]            -> SessionConfig (smpp), ServerSettings, TlsSettings, ProxySettings (server)
    [isms]            -> IsmsSettings (upstream); StatusMapping, NumberRules (pipeline)
    [messages]        -> ReassemblyLimits, ReceiptSettings (pipeline)
    [[accounts]]      -> AccountRoute (pipeline), IsmsCredentials (upstream)
    the whole config  -> PipelineSettings

A config value that a layer takes as it is, because it satisfies a Protocol the layer
declares, is not copied: an `AccountConfig` is the smpp layer's `AccountPolicy` and
`ThrottledAccount`. The `[state]` keys are arguments of the backend's `open` (state.py).
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterable, Mapping

from bridge.config import (
    AccountConfig,
    BridgeConfig,
    IsmsConfig,
    MessagesConfig,
    SmppConfig,
    TlsConfig,
)
from bridge.pipeline import (
    AccountPolicy,
    AccountRoute,
    CreditRules,
    NumberRules,
    PipelineSettings,
    ReassemblyLimits,
    ReceiptSettings,
    StatusMapping,
)
from bridge.server import ProxySettings, ServerSettings, TlsSettings
from bridge.smpp import SessionConfig
from bridge.upstream import IsmsCredentials, IsmsSettings

log = logging.getLogger(__name__)

# File descriptors kept back from SMPP connections when max_connections is derived: the
# listeners, the metrics server, log and state files, and what libraries open (plus the iSMS
# HTTP pool, added separately).
RESERVED_DESCRIPTORS = 256
# An unlimited open-file limit is counted as this many.
UNLIMITED_DESCRIPTORS = 1_048_576


# --- [smpp] ----------------------------------------------------------------------------------


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


def tls_settings(tls: TlsConfig) -> TlsSettings:
    return TlsSettings(
        hosts=tls.hosts, port=tls.port, cert_file=tls.cert_file, key_file=tls.key_file
    )


def proxy_settings(smpp: SmppConfig) -> ProxySettings | None:
    return ProxySettings(trusted=smpp.proxy_trusted) if smpp.proxy_protocol else None


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
                'room=%d note="connections past it fail with too many open files"',
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
    """`http_pool`: the iSMS client's connections, kept back from SMPP's file descriptors."""
    total, per_address, unbound = connection_caps(
        smpp,
        files_limit=open_files_limit() if files_limit is None else files_limit,
        http_pool=http_pool,
    )
    return ServerSettings(
        hosts=smpp.hosts,
        port=smpp.port,
        session=session_config(smpp),
        tls=None if smpp.tls is None else tls_settings(smpp.tls),
        bind_failure_delay_s=smpp.bind_failure_delay_s,
        shutdown_timeout_s=smpp.shutdown_timeout_s,
        max_connections=total,
        max_connections_per_address=per_address,
        max_unbound_connections=unbound,
        log_bodies=smpp.log_bodies,
        proxy=proxy_settings(smpp),
    )


# --- [isms] ----------------------------------------------------------------------------------


def isms_settings(isms: IsmsConfig) -> IsmsSettings:
    return IsmsSettings(
        api=isms.api,
        endpoints=isms.endpoints,
        method=isms.method,
        http_client=isms.http_client,
        timeout_s=isms.timeout_s,
        connect_timeout_s=isms.connect_timeout_s,
        pool_size=isms.pool_size,
        keepalive_s=isms.keepalive_s,
        max_destinations_per_request=isms.max_destinations_per_request,
        mirror_cooldown_s=isms.mirror_cooldown_s,
        breaker_failures=isms.breaker_failures,
    )


def status_mapping(isms: IsmsConfig) -> StatusMapping:
    return StatusMapping(
        overrides=isms.status_overrides, unknown_outcome_status=isms.unknown_outcome_status
    )


def number_rules(isms: IsmsConfig) -> NumberRules:
    return NumberRules(default_country_code=isms.default_country_code)


# --- [messages] ------------------------------------------------------------------------------


def reassembly_limits(messages: MessagesConfig) -> ReassemblyLimits:
    return ReassemblyLimits(
        timeout=messages.reassembly_timeout_s,
        max_pending_per_account=messages.max_pending_long_messages,
        max_buffered_bytes=messages.max_reassembly_bytes,
    )


def receipt_settings(messages: MessagesConfig) -> ReceiptSettings:
    return ReceiptSettings(
        max_held_per_account=messages.receipt_hold_max,
        max_held_age_s=messages.receipt_hold_s,
        attempts=messages.receipt_attempts,
        retry_delay_s=messages.receipt_retry_delay_s,
    )


# --- [[accounts]] ----------------------------------------------------------------------------


def isms_credentials(account: AccountConfig) -> IsmsCredentials:
    return IsmsCredentials(username=account.isms_username, password=account.isms_password)


def isms_accounts(config: BridgeConfig) -> tuple[IsmsCredentials, ...]:
    """Each iSMS account of the config once, in config order (ESME accounts may share one)."""
    found: dict[str, IsmsCredentials] = {}
    for account in config.accounts:
        found.setdefault(account.isms_username, isms_credentials(account))
    return tuple(found.values())


def account_route(account: AccountConfig, policy: AccountPolicy | None = None) -> AccountRoute:
    """`policy`: the account's (app/policy.py builds it, reading its opt-out files)."""
    return AccountRoute(
        system_id=account.system_id,
        credentials=isms_credentials(account),
        dc0=account.dc0,
        dc1=account.dc1,
        report_delivered=account.report_delivered,
        default_sender=account.default_sender,
        allowed_sender_ids=account.allowed_sender_ids,
        policy=policy,
    )


def account_routes(
    accounts: Iterable[AccountConfig], policies: Mapping[str, AccountPolicy] | None = None
) -> list[AccountRoute]:
    found = policies or {}
    return [account_route(account, found.get(account.system_id)) for account in accounts]


# --- the pipeline ----------------------------------------------------------------------------


def pipeline_settings(config: BridgeConfig) -> PipelineSettings:
    isms, messages = config.isms, config.messages
    return PipelineSettings(
        max_text_length=isms.max_text_length,
        max_destinations_per_request=isms.max_destinations_per_request,
        numbers=number_rules(isms),
        statuses=status_mapping(isms),
        reassembly=reassembly_limits(messages),
        receipts=receipt_settings(messages),
        upstream_concurrency=isms.max_in_flight_per_account,
        store_max_messages=messages.query_store_max,
        store_max_age_s=messages.query_store_age_s,
        record_text=config.state.record_text,
        credits=CreditRules(
            ascii_chars=config.policy.credit_chars_ascii,
            unicode_chars=config.policy.credit_chars_unicode,
        ),
    )
