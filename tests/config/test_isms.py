"""`[isms]`: defaults, every key, and an error naming file and key for each bad value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bridge.config import ConfigError, TableReader, is_loopback_host
from bridge.config.isms import IsmsConfig, parse_isms_section
from bridge.pdu import CommandStatus
from bridge.upstream import Api, HttpClientKind, HttpMethod

CONFIG = Path("/etc/isms-bridge/bridge.toml")


def parse(text: str) -> IsmsConfig:
    return parse_isms_section(TableReader(CONFIG, "isms", tomllib.loads(text)))


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return caught.value


def test_empty_section_gives_the_documented_defaults() -> None:
    config = parse("")
    assert config.api is Api.HTTP and config.method is HttpMethod.POST
    assert config.endpoints == (
        "https://www.isms.com.my/isms_send_all_id.php",
        "https://ww3.isms.com.my/isms_send_all_id.php",
        "https://smtpapi.vocotext.com/isms_send_all_id.php",
    )
    assert config.http_client is HttpClientKind.HTTP11
    assert (config.timeout_s, config.connect_timeout_s, config.pool_size) == (10.0, 5.0, 100)
    assert (config.max_destinations_per_request, config.mirror_cooldown_s) == (30, 30.0)
    assert config.breaker_failures == 5
    assert dict(config.status_overrides) == {}
    assert config.unknown_outcome_status is CommandStatus.ESME_RSYSERR
    assert config.default_country_code == "60"
    assert (config.max_text_length, config.balance_poll_interval_s) == (700, 300.0)
    assert config.max_in_flight_per_account == 100
    assert config == IsmsConfig()  # the dataclass's defaults are the file's


def test_rest_api_defaults_to_the_restapi_script_on_the_same_hosts() -> None:
    assert parse('api = "rest"').endpoints[0] == "https://www.isms.com.my/RESTAPI.php"


def test_every_key_is_read() -> None:
    config = parse(
        """
        api = "http"
        endpoints = ["http://127.0.0.1:8080/isms_send_all_id.php"]
        method = "GET"
        http_client = "httpx"
        timeout_s = 3
        connect_timeout_s = 1.5
        pool_size = 20
        keepalive_s = 2
        max_destinations_per_request = 10
        unknown_outcome_status = "ESME_RSUBMITFAIL"
        mirror_cooldown_s = 5
        breaker_failures = 3
        balance_poll_interval_s = 60
        default_country_code = "65"
        max_text_length = 612
        [status_overrides]
        "-1004" = "ESME_RMSGQFUL"
        """
    )
    assert config.endpoints == ("http://127.0.0.1:8080/isms_send_all_id.php",)
    assert (config.method, config.http_client, config.timeout_s) == (
        HttpMethod.GET,
        HttpClientKind.HTTPX,
        3.0,
    )
    assert (config.connect_timeout_s, config.pool_size, config.keepalive_s) == (1.5, 20, 2.0)
    assert (config.max_destinations_per_request, config.mirror_cooldown_s) == (10, 5.0)
    assert config.breaker_failures == 3
    assert config.unknown_outcome_status is CommandStatus.ESME_RSUBMITFAIL
    assert dict(config.status_overrides) == {-1004: CommandStatus.ESME_RMSGQFUL}
    assert (config.default_country_code, config.max_text_length) == ("65", 612)
    assert config.max_in_flight_per_account == 20  # the pool size, when not given
    assert config.balance_poll_interval_s == 60.0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("::", False),
        ("www.isms.com.my", False),
        ("", False),
    ],
)
def test_only_localhost_and_loopback_addresses_are_loopback_hosts(
    host: str, loopback: bool
) -> None:
    assert is_loopback_host(host) is loopback


def test_balance_polling_is_off_by_default_against_a_loopback_sandbox() -> None:
    config = parse('endpoints = ["http://127.0.0.1:8080/isms_send_all_id.php"]')
    assert config.balance_poll_interval_s == 0.0


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('api = "soap"', "isms.api", "one of 'http', 'rest'"),
        ('method = "PUT"', "isms.method", "one of 'POST', 'GET'"),
        ('api = "rest"\nmethod = "GET"', "isms.method", "JSON body"),
        ('http_client = "requests"', "isms.http_client", "one of 'aiohttp', 'httpx'"),
        ("endpoints = []", "isms.endpoints", "at least one"),
        ('endpoints = ["ftp://h/isms_send_all_id.php"]', "isms.endpoints[0]", "http://"),
        ('endpoints = ["https://u:p@h/isms_send_all_id.php"]', "isms.endpoints[0]", "user"),
        ('endpoints = ["https://h/isms_send_all_id.php?un=x"]', "isms.endpoints[0]", "query"),
        ('endpoints = ["https://www.isms.com.my"]', "isms.endpoints[0]", "script"),
        ('endpoints = ["https://h:port/x.php"]', "isms.endpoints[0]", "a URL"),
        (
            'endpoints = ["https://h/a.php", "https://h/a.php"]',
            "isms.endpoints[1]",
            "repeats",
        ),
        ("timeout_s = 0", "isms.timeout_s", "at least 0.1"),
        ("pool_size = 0", "isms.pool_size", "at least 1"),
        ("max_destinations_per_request = 500", "isms.max_destinations_per_request", "at most"),
        ('unknown_outcome_status = "ESME_ROK"', "isms.unknown_outcome_status", "one of"),
        ("breaker_failures = 0", "isms.breaker_failures", "at least 1"),
        ("breaker_failures = 1001", "isms.breaker_failures", "at most 1000"),
        ("breaker_failures = 2.5", "isms.breaker_failures", "an integer"),
        ("balance_poll_interval_s = 5", "isms.balance_poll_interval_s", "0 (off)"),
        ("default_country_code = 60", "isms.default_country_code", "a string"),
        ('default_country_code = "060"', "isms.default_country_code", "1 to 3 digits"),
        ("max_text_length = 1000", "isms.max_text_length", "at most 900"),
        ("[status_overrides]\n-1004 = 1", "isms.status_overrides.-1004", "a string"),
        (
            '[status_overrides]\n"-1004" = "RSUBMITFAIL"',
            "isms.status_overrides.-1004",
            "SMPP status name",
        ),
        ('[status_overrides]\n"-1009" = "ESME_ROK"', "isms.status_overrides.-1009", "lie"),
        ('[status_overrides]\n"2000" = "ESME_RSYSERR"', "isms.status_overrides.2000", "ESME_ROK"),
        ('[status_overrides]\n"-5" = "ESME_RSYSERR"', "isms.status_overrides.-5", "unknown key"),
        ("timout_s = 3", "isms.timout_s", "unknown key"),
    ],
)
def test_bad_value_names_file_and_key(text: str, key: str, expected: str) -> None:
    error = error_of(text)
    assert error.path == str(CONFIG) and error.key == key
    assert expected in error.expected
