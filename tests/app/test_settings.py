"""bridge.app.settings: the typed config -> each layer's settings, every key carried over."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from types import MappingProxyType

import pytest

from bridge.app.settings import (
    RESERVED_DESCRIPTORS,
    account_route,
    isms_accounts,
    isms_settings,
    number_rules,
    pipeline_settings,
    proxy_settings,
    reassembly_limits,
    receipt_settings,
    server_settings,
    session_config,
    status_mapping,
    tls_settings,
)
from bridge.config import IsmsConfig, MessagesConfig, SmppConfig, TlsConfig, load_config
from bridge.pdu import CommandStatus
from bridge.pipeline import (
    NumberRules,
    ReassemblyLimits,
    ReceiptSettings,
    StatusMapping,
)
from bridge.server import ProxySettings, TlsSettings
from bridge.upstream import Api, HttpClientKind, HttpMethod, IsmsSettings

ISMS = '[isms]\napi = "http"\nendpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]\n'


def account(system_id: str, isms_username: str = "isms") -> str:
    return (
        f'[[accounts]]\nsystem_id = "{system_id}"\npassword = "pw"\n'
        f'isms_username = "{isms_username}"\nisms_password = "isms123"\n'
    )


def write(path: Path, *accounts: str, smpp: str = "port = 0", extra: str = "") -> Path:
    path.write_text(f"[smpp]\n{smpp}\n{ISMS}{extra}" + "".join(accounts))
    return path


def test_session_settings_come_from_the_smpp_section(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "b.toml", account("esme1"), smpp='port = 0\nwindow = 7\nsystem_id = "gw"')
    )
    session = session_config(config.smpp)
    assert (session.window, session.our_system_id) == (7, "gw")
    settings = server_settings(config.smpp)
    assert (settings.port, settings.session, settings.tls, settings.proxy) == (
        0,
        session,
        None,
        None,
    )


def test_max_connections_left_out_is_what_the_open_file_limit_leaves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(write(tmp_path / "b.toml", account("esme1"), smpp="port = 0"))
    with caplog.at_level(logging.INFO, logger="bridge.app.settings"):
        settings = server_settings(config.smpp, files_limit=20_000, http_pool=100)
    assert settings.max_connections == 20_000 - RESERVED_DESCRIPTORS - 100
    assert (settings.max_connections_per_address, settings.max_unbound_connections) == (64, 256)
    assert "event=max_connections_derived max_connections=19644 rlimit_nofile=20000" in caplog.text


def test_a_configured_max_connections_above_the_open_file_limit_is_kept_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(
        write(tmp_path / "b.toml", account("esme1"), smpp="port = 0\nmax_connections = 5000")
    )
    with caplog.at_level(logging.WARNING, logger="bridge.app.settings"):
        settings = server_settings(config.smpp, files_limit=1024, http_pool=100)
    assert settings.max_connections == 5000
    assert "event=max_connections_above_fd_limit" in caplog.text


def test_the_tls_listener_and_the_proxy_protocol_reach_the_server_settings() -> None:
    tls = TlsConfig(hosts=("::",), port=3551, cert_file=Path("c.pem"), key_file=Path("k.pem"))
    assert tls_settings(tls) == TlsSettings(
        hosts=("::",), port=3551, cert_file=Path("c.pem"), key_file=Path("k.pem")
    )
    trusted = (ipaddress.ip_network("10.0.0.5/32"),)
    assert proxy_settings(SmppConfig(proxy_protocol=True, proxy_trusted=trusted)) == (
        ProxySettings(trusted=trusted)
    )
    assert proxy_settings(SmppConfig()) is None


def test_the_config_defaults_are_the_layers_own_defaults() -> None:
    isms, messages = IsmsConfig(), MessagesConfig()
    assert isms_settings(isms) == IsmsSettings()
    assert status_mapping(isms) == StatusMapping()
    assert number_rules(isms) == NumberRules()
    assert reassembly_limits(messages) == ReassemblyLimits()
    assert receipt_settings(messages) == ReceiptSettings()


def test_every_isms_key_reaches_the_client_and_the_pipeline() -> None:
    isms = IsmsConfig(
        api=Api.REST,
        endpoints=("http://127.0.0.1:8080/RESTAPI.php",),
        method=HttpMethod.POST,
        http_client=HttpClientKind.HTTPX,
        timeout_s=3.0,
        connect_timeout_s=1.5,
        pool_size=20,
        keepalive_s=2.0,
        max_destinations_per_request=10,
        mirror_cooldown_s=5.0,
        breaker_failures=3,
        status_overrides=MappingProxyType({-1004: CommandStatus.ESME_RMSGQFUL}),
        unknown_outcome_status=CommandStatus.ESME_RSUBMITFAIL,
        default_country_code="65",
    )
    assert isms_settings(isms) == IsmsSettings(
        api=Api.REST,
        endpoints=("http://127.0.0.1:8080/RESTAPI.php",),
        method=HttpMethod.POST,
        http_client=HttpClientKind.HTTPX,
        timeout_s=3.0,
        connect_timeout_s=1.5,
        pool_size=20,
        keepalive_s=2.0,
        max_destinations_per_request=10,
        mirror_cooldown_s=5.0,
        breaker_failures=3,
    )
    statuses = status_mapping(isms)
    assert dict(statuses.overrides) == {-1004: CommandStatus.ESME_RMSGQFUL}
    assert statuses.unknown_outcome_status is CommandStatus.ESME_RSUBMITFAIL
    assert number_rules(isms).default_country_code == "65"


def test_every_messages_key_reaches_the_pipeline() -> None:
    messages = MessagesConfig(
        reassembly_timeout_s=30.0,
        max_pending_long_messages=5,
        max_reassembly_bytes=65536,
        receipt_hold_max=50,
        receipt_hold_s=600.0,
        receipt_attempts=2,
        receipt_retry_delay_s=0.5,
    )
    assert reassembly_limits(messages) == ReassemblyLimits(
        timeout=30.0, max_pending_per_account=5, max_buffered_bytes=65536
    )
    assert receipt_settings(messages) == ReceiptSettings(
        max_held_per_account=50, max_held_age_s=600.0, attempts=2, retry_delay_s=0.5
    )


def test_the_pipeline_settings_gather_isms_messages_and_state_keys(tmp_path: Path) -> None:
    extra = (
        "max_text_length = 612\nmax_in_flight_per_account = 8\n"
        "[messages]\nquery_store_max = 1000\nquery_store_age_s = 3600\n"
        "[state]\nrecord_text = true\n"
    )
    config = load_config(write(tmp_path / "b.toml", account("esme1"), extra=extra))
    settings = pipeline_settings(config)
    assert (settings.max_text_length, settings.upstream_concurrency) == (612, 8)
    assert (settings.store_max_messages, settings.store_max_age_s) == (1000, 3600.0)
    assert settings.record_text
    assert settings.reassembly == reassembly_limits(config.messages)
    assert settings.statuses == status_mapping(config.isms)


def test_an_account_routes_to_its_isms_login_with_its_readings(tmp_path: Path) -> None:
    text = account("esme1") + 'dc0 = "latin1"\nreport_delivered = true\ndefault_sender = "Shop"\n'
    config = load_config(write(tmp_path / "b.toml", text))
    route = account_route(config.accounts[0])
    assert (route.system_id, route.credentials.username, route.credentials.password) == (
        "esme1",
        "isms",
        "isms123",
    )
    assert (route.dc0, route.dc1, route.report_delivered, route.default_sender) == (
        "latin1",
        "ascii",
        True,
        "Shop",
    )


def test_a_shared_isms_account_is_listed_once(tmp_path: Path) -> None:
    accounts = account("esme1", "shared"), account("esme2", "shared"), account("esme3", "own")
    config = load_config(write(tmp_path / "b.toml", *accounts))
    assert [c.username for c in isms_accounts(config)] == ["shared", "own"]
