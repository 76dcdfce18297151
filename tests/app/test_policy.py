"""Each account's policy built from the config, with its opt-out files read (app/policy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.app.policy import account_policies, with_opt_outs
from bridge.config import ConfigError, load_config
from bridge.pdu import CommandStatus

CONFIG = """
[isms]
api = "http"
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]
[policy]
opt_out_file = "global.txt"
[[accounts]]
system_id = "plain"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
[[accounts]]
system_id = "strict"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
opt_out_file = "strict.txt"
daily_messages = 10
duplicates = "flag"
rm0 = "require"
"""


def test_policies_carry_the_lists_caps_duplicates_and_rm0_of_each_account(tmp_path: Path) -> None:
    (tmp_path / "global.txt").write_text("+60111111111\n", encoding="utf-8")
    (tmp_path / "strict.txt").write_text("0122222222\n", encoding="utf-8")
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG, encoding="utf-8")
    policies = account_policies(load_config(path))
    plain, strict = policies["plain"], policies["strict"]
    assert plain.lists is not None and plain.lists.opted_out == {"60111111111"}
    assert plain.caps is None and plain.duplicates is None and plain.rm0 == "off"
    assert strict.lists is not None
    assert strict.lists.opted_out == {"60111111111", "60122222222"}
    assert strict.caps is not None and strict.caps.daily_messages == 10
    assert strict.caps.messages_status == CommandStatus.ESME_RMSGQFUL
    assert strict.duplicates is not None and strict.duplicates.mode == "flag"
    assert strict.rm0 == "require"


def test_an_account_with_every_policy_off_has_none(tmp_path: Path) -> None:
    plain_only = CONFIG.replace('[policy]\nopt_out_file = "global.txt"\n', "")
    plain_only = plain_only[: plain_only.index('[[accounts]]\nsystem_id = "strict"')]
    path = tmp_path / "bridge.toml"
    path.write_text(plain_only, encoding="utf-8")
    assert account_policies(load_config(path)) == {}


def test_an_opt_out_file_that_cannot_be_read_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"global\.txt: policy\.opt_out_file: cannot read"):
        account_policies(load_config(path))


def test_numbers_opted_out_through_the_api_join_each_accounts_list(tmp_path: Path) -> None:
    (tmp_path / "global.txt").write_text("+60111111111\n", encoding="utf-8")
    (tmp_path / "strict.txt").write_text("0122222222\n", encoding="utf-8")
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    policies = account_policies(config)
    merged = with_opt_outs(
        config.accounts, policies, {"*": frozenset({"60133333333"}), "strict": frozenset({"604"})}
    )
    plain, strict = merged["plain"], merged["strict"]
    assert plain.lists is not None and plain.lists.opted_out == {"60111111111", "60133333333"}
    assert strict.lists is not None
    assert strict.lists.opted_out == {"60111111111", "60122222222", "60133333333", "604"}
    assert strict.caps == policies["strict"].caps  # the rest of the policy as it was


def test_an_account_with_no_policy_gets_one_holding_the_apis_opt_outs(tmp_path: Path) -> None:
    plain_only = CONFIG.replace('[policy]\nopt_out_file = "global.txt"\n', "")
    plain_only = plain_only[: plain_only.index('[[accounts]]\nsystem_id = "strict"')]
    path = tmp_path / "bridge.toml"
    path.write_text(plain_only, encoding="utf-8")
    config = load_config(path)
    assert with_opt_outs(config.accounts, {}, {}) == {}
    [(name, policy)] = with_opt_outs(config.accounts, {}, {"*": frozenset({"60133333333"})}).items()
    assert name == "plain" and policy.lists is not None
    assert policy.lists.opted_out == {"60133333333"} and policy.caps is None
