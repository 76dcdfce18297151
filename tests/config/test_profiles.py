"""`profile` on `[[accounts]]`: the SMPP client that binds there gives dc0, dc1 and
report_delivered their defaults; a key the table sets itself wins."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.config import PROFILES, AccountConfig, BridgeConfig, ConfigError

LoadConfig = Callable[..., BridgeConfig]
ConfigFailure = Callable[..., ConfigError]

ACCOUNT = """
[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
"""


def account_with(load: LoadConfig, *lines: str) -> AccountConfig:
    (account,) = load(accounts=ACCOUNT + "\n".join(lines) + "\n").accounts
    return account


def settings(account: AccountConfig) -> tuple[str, str, str, bool]:
    return (account.profile, account.dc0, account.dc1, account.report_delivered)


def test_without_a_profile_an_account_is_generic_with_the_smpp_defaults(load: LoadConfig) -> None:
    assert settings(account_with(load)) == ("generic", "gsm7", "ascii", False)


def test_the_kannel_profile_makes_receipts_say_delivrd(load: LoadConfig) -> None:
    # Kannel takes ACCEPTD for an intermediate state; only DELIVRD is a final success.
    account = account_with(load, 'profile = "kannel"')
    assert settings(account) == ("kannel", "gsm7", "ascii", True)


def test_the_node_smpp_profile_reads_data_coding_1_as_gsm7(load: LoadConfig) -> None:
    # node-smpp encodes with its GSM 03.38 table and labels the octets data_coding 1.
    account = account_with(load, 'profile = "node-smpp"')
    assert settings(account) == ("node-smpp", "gsm7", "gsm7", False)


@pytest.mark.parametrize("name", ["smpplib", "cloudhopper", "jsmpp"])
def test_clients_that_fit_the_defaults_keep_them(load: LoadConfig, name: str) -> None:
    assert settings(account_with(load, f'profile = "{name}"')) == (name, "gsm7", "ascii", False)


def test_a_key_the_account_sets_wins_over_its_profile(load: LoadConfig) -> None:
    kannel = account_with(load, 'profile = "kannel"', "report_delivered = false")
    assert settings(kannel) == ("kannel", "gsm7", "ascii", False)
    node = account_with(load, 'profile = "node-smpp"', 'dc1 = "ascii"', 'dc0 = "latin1"')
    assert settings(node) == ("node-smpp", "latin1", "ascii", False)


def test_an_unknown_profile_is_refused_naming_every_choice(failure: ConfigFailure) -> None:
    error = failure(accounts=ACCOUNT + 'profile = "kanel"\n')
    assert error.key == "accounts[0] (esme1).profile"
    for name in ("generic", "kannel", "smpplib", "node-smpp", "cloudhopper", "jsmpp"):
        assert repr(name) in error.expected
    assert "'kanel'" in error.expected


def test_every_profile_says_why_for_check_config() -> None:
    assert set(PROFILES) == {"generic", "kannel", "smpplib", "node-smpp", "cloudhopper", "jsmpp"}
    assert all(profile.why and profile.name == name for name, profile in PROFILES.items())
