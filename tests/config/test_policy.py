"""`[policy]` and the policy keys of `[[accounts]]` (docs/policy.md): all off by default,
every bad value named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import AccountPolicyConfig, ConfigError, PolicyConfig, load_config

BASE = """
[isms]
api = "http"
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]
{policy}
[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
{account}
"""


def load(tmp_path: Path, *, policy: str = "", account: str = ""):  # type: ignore[no-untyped-def]
    path = tmp_path / "bridge.toml"
    path.write_text(BASE.format(policy=policy, account=account), encoding="utf-8")
    return load_config(path)


def test_without_policy_keys_everything_is_off(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.policy == PolicyConfig()
    assert config.policy.time_zone == "Asia/Kuala_Lumpur"
    assert (config.policy.credit_chars_ascii, config.policy.credit_chars_unicode) == (153, 63)
    assert config.accounts[0].policy == AccountPolicyConfig()
    assert not config.accounts[0].policy.capped


def test_every_account_policy_key_is_read(tmp_path: Path) -> None:
    account = """
duplicates = "suppress"
duplicates_window_s = 120
duplicates_key = "user_message_reference"
after_unknown = "assume_sent"
daily_messages = 100
monthly_credits = 5000
messages_cap_status = "ESME_RTHROTTLED"
rm0 = "insert"
allow_prefixes = ["60"]
deny_prefixes = ["6015"]
opt_out_file = "optout.txt"
"""
    policy = load(tmp_path, account=account).accounts[0].policy
    assert policy.duplicates == "suppress" and policy.duplicates_window_s == 120.0
    assert policy.duplicates_key == "user_message_reference"
    assert policy.after_unknown == "assume_sent"
    assert (policy.daily_messages, policy.monthly_credits) == (100, 5000)
    assert policy.messages_cap_status == "ESME_RTHROTTLED"
    assert policy.credits_cap_status == "ESME_RSUBMITFAIL"
    assert policy.rm0 == "insert" and policy.capped
    assert (policy.allow_prefixes, policy.deny_prefixes) == (("60",), ("6015",))
    assert policy.opt_out_file == tmp_path / "optout.txt"


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('duplicates = "yes"', "duplicates", "expected one of 'off', 'flag', 'suppress'"),
        ('rm0 = "on"', "rm0", "expected one of 'off', 'insert', 'require'"),
        ("daily_messages = -1", "daily_messages", "expected at least 0"),
        (
            'messages_cap_status = "ESME_RSYSERR"',
            "messages_cap_status",
            "expected one of 'ESME_RMSGQFUL'",
        ),
        ('allow_prefixes = ["+60"]', "allow_prefixes[0]", "expected the leading digits"),
        ("duplicates_window_s = 0", "duplicates_window_s", "expected more than 0"),
    ],
)
def test_a_bad_account_policy_value_is_named_by_its_key(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, account=line)
    assert f"accounts[0] (esme1).{key}: {expected}" in str(caught.value)


def test_the_policy_section_is_read_and_checked(tmp_path: Path) -> None:
    policy = """
[policy]
time_zone = "UTC"
credit_chars_ascii = 160
credit_chars_unicode = 70
opt_out_file = "/etc/isms-bridge/opt-out.txt"
"""
    config = load(tmp_path, policy=policy)
    assert config.policy == PolicyConfig(
        time_zone="UTC",
        credit_chars_ascii=160,
        credit_chars_unicode=70,
        opt_out_file=Path("/etc/isms-bridge/opt-out.txt"),
    )
    with pytest.raises(ConfigError, match=r"policy\.time_zone: expected an IANA time zone"):
        load(tmp_path, policy='[policy]\ntime_zone = "Mars/Olympus"')
