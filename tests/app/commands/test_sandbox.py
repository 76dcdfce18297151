"""`isms-bridge sandbox`: options become a sandbox; the process serves until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys

import aiohttp
import pytest

from bridge.app.commands.sandbox import build_sandbox
from bridge.cli import build_parser


def options(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["sandbox", *argv])


def test_default_account_is_the_api_pages_example() -> None:
    sandbox = build_sandbox(options())
    assert sandbox.accounts == {"isms": "isms123"} and sandbox.balances == {"isms": 10_000}


def test_accounts_credits_and_faults_come_from_the_options() -> None:
    sandbox = build_sandbox(
        options(
            "--account", "acme:pw1", "--account", "beta:pw:2", "--credits", "5",
            "--latency-ms", "200", "--http-status", "503", "--fault-ratio", "0.1",
        )
    )  # fmt: skip
    assert sandbox.accounts == {"acme": "pw1", "beta": "pw:2"}
    assert sandbox.balances == {"acme": 5, "beta": 5}
    assert (sandbox.faults.latency_s, sandbox.faults.http_status, sandbox.faults.ratio) == (
        0.2,
        503,
        0.1,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--account", "nopassword"], "USER:PASSWORD"),
        (["--result-code", "2000"], "iSMS error code"),
        (["--result-code", "-42"], "iSMS error code"),
        (["--fault-ratio", "2"], "ratio"),
        (["--credits", "-1"], "credits"),
        (["--http-status", "42"], "HTTP status"),
    ],
)
def test_impossible_options_are_refused_with_a_message(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_sandbox(options(*argv))


async def test_command_serves_until_sigterm_and_exits_0() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "sandbox", "--port", "0", "--account", "acme:pw",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        banner = b""
        while b"account:" not in banner:
            banner += await asyncio.wait_for(process.stdout.readline(), 20)
        match = re.search(rb"endpoint: (http://127\.0\.0\.1:\d+/isms_send_all_id\.php)", banner)
        assert match is not None
        form = {"un": "acme", "pwd": "pw", "dstno": "60123456789", "msg": "hi", "type": "1",
                "agreedterm": "YES"}  # fmt: skip
        async with (
            aiohttp.ClientSession() as session,
            session.post(match.group(1).decode(), data=form) as response,
        ):
            assert (await response.text()).startswith("2000 = SUCCESS:")
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0
