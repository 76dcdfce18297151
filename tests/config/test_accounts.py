"""`[[accounts]]`: who may bind, from where, how fast, with which iSMS credentials."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import AccountConfig, BridgeConfig, ConfigError, load_config
from bridge.pdu import CommandStatus
from bridge.smpp import AccountThrottles, Authenticator

LoadConfig = Callable[..., BridgeConfig]
ConfigFailure = Callable[..., ConfigError]
WriteConfig = Callable[..., Path]


def account(*lines: str, system_id: str = "esme1", password: str = 'password = "secret1"') -> str:
    return "\n".join(
        [
            "[[accounts]]",
            f'system_id = "{system_id}"',
            password,
            'isms_username = "isms"',
            'isms_password = "isms123"',
            *lines,
        ]
    )


def test_an_account_with_only_the_required_keys_gets_the_documented_defaults(
    load: LoadConfig,
) -> None:
    (esme1,) = load().accounts
    assert esme1 == AccountConfig(
        system_id="esme1",
        password="secret1",
        isms_username="isms",
        isms_password="isms123",
        bind_types=frozenset({"transmitter", "receiver", "transceiver"}),
        allowed_ips=(),
        max_binds=10,
        throughput_per_s=None,
        throughput_burst=None,
        default_sender=None,
        allowed_sender_ids=(),
    )


def test_every_optional_account_key_is_read(load: LoadConfig) -> None:
    (esme1,) = load(
        accounts=account(
            'bind_types = ["transmitter"]',
            'allowed_ips = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]',
            "max_binds = 3",
            "throughput_per_s = 50",
            "throughput_burst = 80",
            'default_sender = "MyBrand"',
            'allowed_sender_ids = ["MyBrand", "61000"]',
        )
    ).accounts
    assert esme1.bind_types == frozenset({"transmitter"})
    assert esme1.allowed_ips == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("192.0.2.7/32"),
    )
    assert (esme1.max_binds, esme1.throughput_per_s, esme1.throughput_burst) == (3, 50.0, 80.0)
    assert esme1.default_sender == "MyBrand"
    assert esme1.allowed_sender_ids == ("MyBrand", "61000")


def test_the_account_repr_shows_neither_password(load: LoadConfig) -> None:
    (esme1,) = load().accounts
    assert "secret1" not in repr(esme1)
    assert "isms123" not in repr(esme1)


def test_a_config_without_accounts_is_refused_since_nobody_could_bind(
    failure: ConfigFailure,
) -> None:
    assert failure(accounts="").key == "accounts"


def test_a_duplicate_system_id_names_the_second_entry_and_the_first(
    failure: ConfigFailure,
) -> None:
    error = failure(accounts=account() + "\n" + account(password='password = "other1"'))
    assert error.key == "accounts[1] (esme1).system_id"
    assert "accounts[0]" in error.expected


def test_a_system_id_over_15_characters_is_refused_citing_smpp(failure: ConfigFailure) -> None:
    error = failure(accounts=account(system_id="a" * 16))
    assert error.key == "accounts[0].system_id"
    assert "15" in error.expected


def test_an_empty_system_id_is_refused(failure: ConfigFailure) -> None:
    assert failure(accounts=account(system_id="")).key == "accounts[0].system_id"


def test_a_password_over_8_characters_is_refused_with_the_reason(failure: ConfigFailure) -> None:
    error = failure(accounts=account(password='password = "123456789"'))
    assert error.key == "accounts[0] (esme1).password"
    assert "at most 8 characters" in error.expected
    assert "smpplib" in error.expected and "SMPP 3.4" in error.expected


def test_a_password_of_exactly_8_characters_is_accepted(load: LoadConfig) -> None:
    (esme1,) = load(accounts=account(password='password = "12345678"')).accounts
    assert esme1.password == "12345678"


def test_an_empty_password_is_refused(failure: ConfigFailure) -> None:
    assert failure(accounts=account(password='password = ""')).key == "accounts[0] (esme1).password"


def test_a_missing_password_asks_for_one_of_the_three_ways_to_give_it(
    failure: ConfigFailure,
) -> None:
    error = failure(accounts=account(password=""))
    assert error.key == "accounts[0] (esme1).password"
    assert "password_env" in error.expected and "password_file" in error.expected


def test_a_password_can_come_from_an_environment_variable(
    load: LoadConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESME1_PASSWORD", "fromenv")
    (esme1,) = load(accounts=account(password='password_env = "ESME1_PASSWORD"')).accounts
    assert esme1.password == "fromenv"


def test_an_unset_password_environment_variable_names_it(
    failure: ConfigFailure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ESME1_PASSWORD", raising=False)
    error = failure(accounts=account(password='password_env = "ESME1_PASSWORD"'))
    assert error.key == "accounts[0] (esme1).password_env"
    assert "ESME1_PASSWORD" in error.expected


def test_a_password_file_is_read_relative_to_the_config_without_its_newline(
    load: LoadConfig, tmp_path: Path
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "esme1").write_text("fromfile\n", encoding="utf-8")
    (esme1,) = load(accounts=account(password='password_file = "secrets/esme1"')).accounts
    assert esme1.password == "fromfile"


def test_a_password_from_a_file_is_held_to_8_characters_too(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    (tmp_path / "esme1.password").write_text("much-too-long\n", encoding="utf-8")
    error = failure(accounts=account(password='password_file = "esme1.password"'))
    assert error.key == "accounts[0] (esme1).password_file"
    assert "at most 8" in error.expected


def test_a_missing_password_file_is_refused_naming_the_key(failure: ConfigFailure) -> None:
    error = failure(accounts=account(password='password_file = "nowhere"'))
    assert error.key == "accounts[0] (esme1).password_file"


def test_a_password_given_two_ways_is_refused(failure: ConfigFailure) -> None:
    error = failure(accounts=account(password='password = "a"\npassword_env = "B"'))
    assert error.key == "accounts[0] (esme1).password"
    assert "only one" in error.expected


def test_the_isms_password_can_come_from_a_file(load: LoadConfig, tmp_path: Path) -> None:
    (tmp_path / "isms.password").write_text("a-long-isms-password\n", encoding="utf-8")
    text = account().replace('isms_password = "isms123"', 'isms_password_file = "isms.password"')
    (esme1,) = load(accounts=text).accounts
    # The 8-character cap is SMPP's; the iSMS password is not bound by it.
    assert esme1.isms_password == "a-long-isms-password"


def test_a_missing_isms_username_is_refused(failure: ConfigFailure) -> None:
    text = account().replace('isms_username = "isms"', "")
    assert failure(accounts=text).key == "accounts[0] (esme1).isms_username"


def test_a_bind_type_outside_the_three_names_the_entry(failure: ConfigFailure) -> None:
    error = failure(accounts=account('bind_types = ["transmitter", "tx"]'))
    assert error.key == "accounts[0] (esme1).bind_types[1]"
    assert "'transceiver'" in error.expected


def test_an_empty_bind_types_list_is_refused(failure: ConfigFailure) -> None:
    assert failure(accounts=account("bind_types = []")).key == "accounts[0] (esme1).bind_types"


def test_an_allowed_ip_that_does_not_parse_names_the_entry(failure: ConfigFailure) -> None:
    error = failure(accounts=account('allowed_ips = ["10.0.0.0/8", "10.0.0.300"]'))
    assert error.key == "accounts[0] (esme1).allowed_ips[1]"


def test_a_network_with_host_bits_set_suggests_the_network_meant(failure: ConfigFailure) -> None:
    error = failure(accounts=account('allowed_ips = ["10.1.2.3/8"]'))
    assert "did you mean 10.0.0.0/8" in error.expected


def test_an_explicitly_empty_allowed_ips_is_refused_rather_than_guessed(
    failure: ConfigFailure,
) -> None:
    error = failure(accounts=account("allowed_ips = []"))
    assert error.key == "accounts[0] (esme1).allowed_ips"


def test_throughput_burst_without_throughput_per_s_is_refused(failure: ConfigFailure) -> None:
    error = failure(accounts=account("throughput_burst = 10"))
    assert error.key == "accounts[0] (esme1).throughput_burst"
    assert "throughput_per_s" in error.expected


def test_a_zero_throughput_is_refused(failure: ConfigFailure) -> None:
    assert (
        failure(accounts=account("throughput_per_s = 0")).key
        == "accounts[0] (esme1).throughput_per_s"
    )


def test_throughput_without_a_burst_gets_one_seconds_worth(load: LoadConfig) -> None:
    (esme1,) = load(accounts=account("throughput_per_s = 25")).accounts
    assert esme1.throughput_burst == 25.0


def test_max_binds_below_one_is_refused(failure: ConfigFailure) -> None:
    assert failure(accounts=account("max_binds = 0")).key == "accounts[0] (esme1).max_binds"


def test_a_default_sender_outside_allowed_sender_ids_is_refused(failure: ConfigFailure) -> None:
    error = failure(
        accounts=account('default_sender = "Other"', 'allowed_sender_ids = ["MyBrand"]')
    )
    assert error.key == "accounts[0] (esme1).default_sender"


def test_a_sender_id_isms_would_not_take_names_the_entry(failure: ConfigFailure) -> None:
    error = failure(accounts=account('allowed_sender_ids = ["MyBrand", "My Brand!"]'))
    assert error.key == "accounts[0] (esme1).allowed_sender_ids[1]"
    assert "11" in error.expected


def test_a_misspelt_account_key_is_refused_by_its_full_name(failure: ConfigFailure) -> None:
    assert failure(accounts=account("max_bind = 3")).key == "accounts[0] (esme1).max_bind"


def test_an_error_in_a_later_account_names_its_index_and_system_id(failure: ConfigFailure) -> None:
    text = account() + "\n" + account("max_binds = -1", system_id="esme2")
    assert failure(accounts=text).key == "accounts[1] (esme2).max_binds"


def test_loaded_accounts_drive_the_authenticator_and_the_throttles(
    write_config: WriteConfig,
) -> None:
    config = load_config(
        write_config(accounts=account('allowed_ips = ["127.0.0.0/8"]', "throughput_per_s = 1"))
    )
    auth = Authenticator(config.accounts)
    decision = auth.authenticate(
        system_id="esme1",
        password="secret1",
        bind_type="transceiver",
        peer_ip="127.0.0.1",
        binds_held=0,
        now=0.0,
    )
    assert decision.status == CommandStatus.ESME_ROK
    throttles = AccountThrottles(config.accounts)
    assert throttles.try_take("esme1", 1, now=0.0)
    assert not throttles.try_take("esme1", 1, now=0.0)


def test_a_password_of_the_wrong_type_is_refused_without_echoing_it(
    failure: ConfigFailure,
) -> None:
    error = failure(accounts=account(password="password = 12345678"))
    assert error.key == "accounts[0] (esme1).password"
    assert "12345678" not in str(error)
    assert "expected a string" in error.expected
