"""`isms-bridge balance --config PATH`: one line per iSMS account, exit status for scripts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bridge.app.commands.balance import report_balances, unavailable
from bridge.app.settings import isms_accounts
from bridge.cli import main
from bridge.config import load_config
from bridge.upstream import IsmsSandbox, NotSent, OutcomeUnknown


def write_config(tmp_path: Path, endpoint: str, accounts: list[tuple[str, str, str]]) -> Path:
    lines = ["[isms]", f'endpoints = ["{endpoint}"]']
    for system_id, username, password in accounts:
        lines += [
            "[[accounts]]",
            f'system_id = "{system_id}"',
            'password = "secret1"',
            f'isms_username = "{username}"',
            f'isms_password = "{password}"',
        ]
    path = tmp_path / "bridge.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_isms_account_is_asked_once_even_when_shared(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "http://127.0.0.1:1/isms_send_all_id.php",
        [("esme1", "isms", "isms123"), ("esme2", "isms", "isms123"), ("esme3", "b", "x")],
    )
    assert [c.username for c in isms_accounts(load_config(path))] == ["isms", "b"]


async def test_balance_of_every_account_is_printed(tmp_path: Path) -> None:
    async with IsmsSandbox(accounts={"isms": "isms123", "b": "pw"}, credits=42) as sandbox:
        path = write_config(
            tmp_path, sandbox.url(), [("esme1", "isms", "isms123"), ("esme2", "b", "pw")]
        )
        out = io.StringIO()
        assert await report_balances(load_config(path), out=out) == 0
    assert out.getvalue() == "isms: 42 credits\nb: 42 credits\n"


async def test_refused_account_prints_the_fix_and_exits_1(tmp_path: Path) -> None:
    async with IsmsSandbox() as sandbox:
        path = write_config(tmp_path, sandbox.url(), [("esme1", "isms", "wrong")])
        out = io.StringIO()
        assert await report_balances(load_config(path), out=out) == 1
    assert "isms: refused, -1001 AUTHENTICATION_FAILED; fix: check isms_username" in out.getvalue()
    assert "wrong" not in out.getvalue()


async def test_unreachable_isms_exits_1(tmp_path: Path, unused_tcp_port: int) -> None:
    endpoint = f"http://127.0.0.1:{unused_tcp_port}/isms_send_all_id.php"
    path = write_config(tmp_path, endpoint, [("esme1", "isms", "isms123")])
    out = io.StringIO()
    assert await report_balances(load_config(path), out=out) == 1
    assert out.getvalue().startswith("isms: unavailable")


def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[isms]\napi = "soap"\n', encoding="utf-8")
    assert main(["balance", "--config", str(path)]) == 2
    assert "isms.api" in capsys.readouterr().err


@pytest.mark.parametrize("client", ["http11", "aiohttp", "httpx"])
async def test_an_unreachable_mirror_is_said_in_words_without_url_or_class_names(
    tmp_path: Path, unused_tcp_port: int, client: str
) -> None:
    # GET puts the credentials in the URL's query: the line must never show the URL.
    endpoint = f"http://127.0.0.1:{unused_tcp_port}/isms_send_all_id.php"
    path = write_config(tmp_path, endpoint, [("esme1", "isms", "isms123")])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[isms]", f'[isms]\nmethod = "GET"\nhttp_client = "{client}"'))
    out = io.StringIO()
    assert await report_balances(load_config(path), out=out) == 1
    assert (
        out.getvalue() == f"isms: unavailable (127.0.0.1:{unused_tcp_port}: connection refused)\n"
    )


async def test_a_mirror_whose_name_does_not_resolve_says_so(tmp_path: Path) -> None:
    # .invalid never resolves (RFC 6761 §6.4): no real host is asked about.
    path = write_config(tmp_path, "http://isms.invalid/isms_send_all_id.php", [("e", "isms", "x")])
    out = io.StringIO()
    assert await report_balances(load_config(path), out=out) == 1
    assert out.getvalue() == "isms: unavailable (isms.invalid: cannot resolve the host name)\n"


def test_a_failure_without_a_system_error_loses_only_the_class_name() -> None:
    mirror = "https://isms.example:8443/isms_balance.php"
    assert unavailable(NotSent("ConnectError", mirror=mirror)) == "isms.example:8443: not reached"
    assert unavailable(OutcomeUnknown("ReadTimeout", mirror=mirror)).endswith(": no answer in time")
    assert unavailable(OutcomeUnknown("HTTP 503", mirror=mirror)) == "isms.example:8443: HTTP 503"
    assert unavailable(NotSent("every mirror's circuit breaker is open")) == (
        "every mirror's circuit breaker is open"
    )


def test_the_system_error_under_the_librarys_is_the_one_said() -> None:
    error = NotSent("ClientConnectorError: Connect call failed", mirror="http://a.example/x.php")
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError as refused:
            raise OSError(111, "Cannot connect to host a.example:80") from refused
    except OSError as library:
        error.__cause__ = library
    assert unavailable(error) == "a.example: connection refused"
