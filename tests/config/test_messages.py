"""The message pipeline's config keys: `[messages]`, three per-account keys, and
`[isms] max_in_flight_per_account` (README "Messages")."""

from __future__ import annotations

from collections.abc import Callable

from bridge.config import BridgeConfig, ConfigError, MessagesConfig

# The same valid sections tests/config/conftest.py writes by default.
ISMS = '[isms]\napi = "http"\nendpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]\n'
ACCOUNT = (
    '[[accounts]]\nsystem_id = "esme1"\npassword = "secret1"\n'
    'isms_username = "isms"\nisms_password = "isms123"\n'
)

Load = Callable[..., BridgeConfig]
Failure = Callable[..., ConfigError]


def test_without_a_messages_table_the_documented_defaults_apply(load: Load) -> None:
    messages = load().messages
    assert messages == MessagesConfig()
    assert (
        messages.reassembly_timeout_s,
        messages.max_pending_long_messages,
        messages.max_reassembly_bytes,
    ) == (120.0, 100, 8 * 1024 * 1024)
    assert (
        messages.receipt_hold_max,
        messages.receipt_hold_s,
        messages.receipt_attempts,
        messages.receipt_retry_delay_s,
    ) == (10_000, 3_600.0, 3, 1.0)
    assert (messages.query_store_max, messages.query_store_age_s) == (100_000, 86_400.0)


def test_every_messages_key_is_read(load: Load) -> None:
    messages = load(
        metrics="\n".join(
            [
                "[messages]",
                "reassembly_timeout_s = 30",
                "max_pending_long_messages = 5",
                "max_reassembly_bytes = 65536",
                "receipt_hold_max = 50",
                "receipt_hold_s = 600",
                "receipt_attempts = 2",
                "receipt_retry_delay_s = 0.5",
                "query_store_max = 1000",
                "query_store_age_s = 3600",
            ]
        )
    ).messages
    assert messages == MessagesConfig(
        reassembly_timeout_s=30.0,
        max_pending_long_messages=5,
        max_reassembly_bytes=65536,
        receipt_hold_max=50,
        receipt_hold_s=600.0,
        receipt_attempts=2,
        receipt_retry_delay_s=0.5,
        query_store_max=1000,
        query_store_age_s=3600.0,
    )
    assert (messages.query_store_max, messages.query_store_age_s) == (1000, 3600.0)


def test_a_reassembly_timeout_of_zero_is_refused_naming_the_key(failure: Failure) -> None:
    error = failure(metrics="[messages]\nreassembly_timeout_s = 0")
    assert error.key == "messages.reassembly_timeout_s"


def test_a_misspelt_messages_key_is_refused(failure: Failure) -> None:
    error = failure(metrics="[messages]\nreceipt_attempt = 2")
    assert error.key == "messages.receipt_attempt"


def test_accounts_read_data_coding_0_as_gsm7_and_1_as_ascii_without_receipts_saying_delivrd(
    load: Load,
) -> None:
    account = load().accounts[0]
    assert (account.dc0, account.dc1, account.report_delivered) == ("gsm7", "ascii", False)


def test_an_account_can_choose_its_data_coding_readings_and_delivrd(load: Load) -> None:
    extra = 'dc0 = "latin1"\ndc1 = "gsm7"\nreport_delivered = true\n'
    account = load(accounts=ACCOUNT + extra).accounts[0]
    assert (account.dc0, account.dc1, account.report_delivered) == ("latin1", "gsm7", True)


def test_an_unknown_dc0_reading_is_refused_with_the_choices(failure: Failure) -> None:
    error = failure(accounts=ACCOUNT + 'dc0 = "utf8"\n')
    assert error.key == "accounts[0] (esme1).dc0"
    assert "'gsm7', 'latin1', 'ascii'" in error.expected


def test_isms_max_in_flight_per_account_defaults_to_the_pool_size(load: Load) -> None:
    assert load(isms=ISMS + "pool_size = 40\n").isms.max_in_flight_per_account == 40
    assert load(isms=ISMS + "max_in_flight_per_account = 8\n").isms.max_in_flight_per_account == 8
