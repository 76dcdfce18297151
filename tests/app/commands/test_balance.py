"""`isms-bridge balance --config PATH`: one line per iSMS account, exit status for scripts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bridge.app.commands.balance import report_balances
from bridge.app.settings import isms_accounts
from bridge.cli import main
from bridge.config import load_config
from bridge.upstream import IsmsSandbox


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
