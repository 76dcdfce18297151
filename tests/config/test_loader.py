"""`load_config`: one file in, one `BridgeConfig` out, or a `ConfigError` naming file and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, ConfigError, load_config

ConfigFailure = Callable[..., ConfigError]
WriteConfig = Callable[..., Path]


def test_a_valid_file_loads_and_remembers_its_path(write_config: WriteConfig) -> None:
    path = write_config()
    config = load_config(path)
    assert isinstance(config, BridgeConfig)
    assert config.path == path
    assert [account.system_id for account in config.accounts] == ["esme1"]


def test_a_path_may_be_given_as_a_string(write_config: WriteConfig) -> None:
    path = write_config()
    assert load_config(str(path)).path == path


def test_a_missing_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: cannot read the file: No such file or directory"


def test_a_directory_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path)


def test_a_toml_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[smpp]\nport = 2775\nhost = "127.0.0.1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == ""
    assert str(caught.value).startswith(f"{path}: expected valid TOML: ")
    assert "line 3" in str(caught.value) and "column" in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[smpp]\nsystem_id = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"UTF-8.*line 2"):
        load_config(path)


def test_an_unknown_top_level_table_is_refused_by_name_with_the_section_meant(
    failure: ConfigFailure,
) -> None:
    error = failure(metrics="[metric]\nport = 1")
    assert error.key == "metric"
    assert error.expected == "unknown section (did you mean metrics?)"


def test_a_section_given_as_a_value_is_refused(failure: ConfigFailure) -> None:
    assert failure('smpp = "yes"').key == "smpp"


def test_accounts_given_as_one_table_instead_of_an_array_is_refused(
    failure: ConfigFailure,
) -> None:
    error = failure(accounts='[accounts]\nsystem_id = "esme1"')
    assert error.key == "accounts"
    assert "array of tables" in error.expected


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"smpp": "[smpp]\nwindow = -1"}, "smpp.window"),
        ({"smpp": "[smpp.tls]\ncert_file = 1"}, "smpp.tls.cert_file"),
        ({"metrics": "[metrics]\nhots = 1"}, "metrics.hots"),
        ({"accounts": '[[accounts]]\nsystem_id = "e"\npassword = 1'}, "accounts[0] (e).password"),
    ],
)
def test_every_error_message_reads_file_then_full_key_then_what_was_expected(
    failure: ConfigFailure, write_config: WriteConfig, sections: dict[str, str], key: str
) -> None:
    error = failure(**sections)
    assert error.key == key
    # The first line: a section may hold more than the one problem (a TLS table without key).
    assert str(error).splitlines()[0] == f"{write_config()}: {key}: {error.expected}"
    assert error.expected.startswith(("expected", "unknown key"))


def test_every_problem_of_a_file_is_reported_in_one_run(failure: ConfigFailure) -> None:
    accounts = """
[[accounts]]
system_id = "esme1"
isms_username = "isms"
isms_password_env = "ISMS_BRIDGE_TEST_UNSET_VARIABLE"

[[accounts]]
system_id = "esme2"
password = "secret2"
isms_username = "isms"
"""
    error = failure("[smpp]\nwindw = 5", accounts=accounts)
    lines = str(error).splitlines()
    path = lines[0].split(": ")[0]
    assert lines == [
        f"{path}: smpp.windw: unknown key (did you mean window?)",
        f"{path}: accounts[0] (esme1).password: is required (or password_env / password_file)",
        f"{path}: accounts[0] (esme1).isms_password_env: environment variable "
        "'ISMS_BRIDGE_TEST_UNSET_VARIABLE' is not set",
        f"{path}: accounts[1] (esme2).isms_password: is required "
        "(or isms_password_env / isms_password_file)",
    ]
    assert error.key == "smpp.windw"  # the first problem's, as for a single one


def test_a_single_problem_reads_as_one_line_with_its_suggestion(
    failure: ConfigFailure, write_config: WriteConfig
) -> None:
    smpp = "[smpp]\nwindw = 5"
    error = failure(smpp)
    assert str(error) == f"{write_config(smpp)}: smpp.windw: unknown key (did you mean window?)"
    assert error.problems == (error,)


def test_a_misspelt_sub_table_is_suggested_by_its_parent(failure: ConfigFailure) -> None:
    error = failure("[smpp.tsl]\nport = 3550")
    assert (error.key, error.expected) == ("smpp.tsl", "unknown key (did you mean tls?)")


def test_an_account_is_named_by_its_system_id_once_that_reads(failure: ConfigFailure) -> None:
    accounts = '[[accounts]]\nsystem_id = "shop"\npassword = "secret1"\nisms_username = "isms"\n'
    error = failure(accounts=accounts)
    assert error.key == "accounts[0] (shop).isms_password"


def test_an_account_whose_system_id_is_bad_is_named_by_its_index(failure: ConfigFailure) -> None:
    accounts = '[[accounts]]\nsystem_id = ""\npassword = "secret1"\nisms_username = "isms"\n'
    error = failure(accounts=accounts)
    assert [p.key for p in error.problems] == ["accounts[0].system_id", "accounts[0].isms_password"]


def test_a_listen_host_that_only_looks_like_an_address_is_refused_naming_the_key(
    failure: ConfigFailure,
) -> None:
    error = failure('[smpp]\nhost = "127.0.0.256"')
    assert error.key == "smpp.host"
    assert "got '127.0.0.256'" in error.expected
    error = failure(metrics='[metrics]\nhost = "10.1.2"')
    assert error.key == "metrics.host"
