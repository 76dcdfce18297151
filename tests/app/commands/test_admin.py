"""`isms-bridge admin`: each command's request, the token's way in, and what is printed."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from bridge.app.commands.admin import call, request_of, shown, token_of
from bridge.cli import build_parser


def parsed(*words: str) -> argparse.Namespace:
    return build_parser().parse_args(["admin", *words])


@pytest.mark.parametrize(
    ("words", "method", "path", "body"),
    [
        (("status",), "GET", "/v1/status", None),
        (("binds", "--account", "esme1"), "GET", "/v1/binds?account=esme1", None),
        (("accounts", "esme 1"), "GET", "/v1/accounts/esme%201", None),
        (("kick", "host-1-ab/s7"), "POST", "/v1/binds/host-1-ab/s7/unbind", None),
        (("kick", "--account", "esme1"), "POST", "/v1/accounts/esme1/unbind", None),
        (("suspend", "esme1", "--reason", "spam"), "POST", "/v1/accounts/esme1/suspend",
         {"mode": "refuse_binds", "reason": "spam"}),
        (("resume", "esme1"), "POST", "/v1/accounts/esme1/resume", None),
        (("drain", "--settle", "1", "--wait", "9"), "POST", "/v1/drain",
         {"settle_s": 1.0, "wait_s": 9.0}),
        (("drain", "--end", "--instance", "b"), "DELETE", "/v1/drain", {"instance": "b"}),
        (("receipts", "drop", "esme1"), "DELETE", "/v1/accounts/esme1/receipts", None),
        (("receipts", "resend", "esme1", "42"), "POST", "/v1/messages/esme1/42/receipt", None),
        (("mirrors",), "GET", "/v1/mirrors", None),
        (("mirrors", "out", "1"), "POST", "/v1/mirrors/1/out", None),
        (("audit", "--since", "1h"), "GET", "/v1/audit?limit=50&since=1h", None),
        (("log-level", "debug"), "PUT", "/v1/log-level", {"level": "debug", "logger": ""}),
        (("opt-out", "list", "--account", "esme1"), "GET", "/v1/opt-outs?account=esme1", None),
        (("opt-out", "add", "+60123456789", "--reason", "STOP"), "PUT",
         "/v1/opt-outs/%2B60123456789", {"account": None, "reason": "STOP"}),
        (("opt-out", "remove", "0123456789", "--account", "esme2"), "DELETE",
         "/v1/opt-outs/0123456789?account=esme2", None),
    ],
)  # fmt: skip
def test_each_command_makes_its_request(
    words: tuple[str, ...], method: str, path: str, body: dict[str, object] | None
) -> None:
    assert request_of(parsed(*words)) == (method, path, body)


def test_a_kick_without_a_session_or_an_account_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="INSTANCE/SESSION"):
        request_of(parsed("kick", "s7"))


def test_the_token_comes_from_the_file_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISMS_BRIDGE_ADMIN_TOKEN", "from-the-environment")
    assert token_of(parsed("status")) == "from-the-environment"
    (tmp_path / "t").write_text("from-the-file\n", encoding="utf-8")
    assert token_of(parsed("--token-file", str(tmp_path / "t"), "status")) == "from-the-file"


def test_no_token_exits_2_before_asking_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ISMS_BRIDGE_ADMIN_TOKEN", raising=False)
    err = io.StringIO()
    assert call(parsed("status"), out=io.StringIO(), err=err) == 2
    assert "no token" in err.getvalue()


def test_a_url_that_is_not_http_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISMS_BRIDGE_ADMIN_TOKEN", "t" * 20)
    err = io.StringIO()
    assert call(parsed("--url", "file:///etc/passwd", "status"), out=io.StringIO(), err=err) == 1
    assert "http://" in err.getvalue()


def test_listings_print_as_tables_and_answers_as_key_value_lines() -> None:
    text = shown("mirrors", {"mirrors": [
        {"index": 0, "name": "http://a", "in_service": True, "breaker": "closed",
         "failures": 0, "cooldown_left_s": 0.0},
    ]})  # fmt: skip
    assert text.splitlines()[0].split() == [
        "index", "name", "in_service", "breaker", "failures", "cooldown_left_s",
    ]  # fmt: skip
    assert text.splitlines()[1].split() == ["0", "http://a", "yes", "closed", "0", "0.0"]
    text = shown("accounts", {"accounts": [
        {"system_id": "esme1", "max_binds": 2, "binds": 1, "receipts_held": 3,
         "throughput": {"per_s": 5.0, "burst": 10.0, "tokens_left": 7.5, "bucket": "instance"},
         "oldest_receipt_at": 1.0, "oldest_receipt_age_s": 12.5, "suspended": None},
    ]})  # fmt: skip
    assert text.splitlines()[0].split() == [
        "system_id", "max_binds", "binds", "throughput", "receipts_held",
        "oldest_receipt_age_s", "suspended",
    ]  # fmt: skip
    assert text.splitlines()[1].split() == ["esme1", "2", "1", "7.5/10.0@5.0/s", "3", "12.5", "-"]
    assert shown("resume", {"system_id": "esme1", "was_suspended": False}) == (
        "system_id: esme1\nwas_suspended: no\n"
    )


def test_an_opt_out_added_or_removed_without_a_number_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="needs the NUMBER"):
        request_of(parsed("opt-out", "add"))
