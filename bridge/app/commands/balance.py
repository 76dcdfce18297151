"""`isms-bridge balance --config PATH`: each iSMS account's credit balance, for operators.

Asks isms_balance.php once per iSMS account of the config (several ESME accounts may share
one) through the same mirrors and client as the bridge. Exit 0 when every account answered
a balance, 1 when one was refused or unreachable (with the fix to apply), 2 on a bad config.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from bridge.app.settings import isms_accounts, isms_settings
from bridge.config import BridgeConfig, ConfigError, load_config
from bridge.upstream import (
    ACCOUNT_FIXES,
    IsmsClient,
    IsmsCode,
    IsmsCredentials,
    UpstreamError,
    code_name,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "balance",
        help="show the iSMS credit balance of every account in a config",
        description="Query isms_balance.php for each iSMS account the config uses.",
    )
    parser.add_argument(
        "--config", required=True, type=Path, metavar="PATH", help="the TOML config file"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"isms-bridge balance: invalid config: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(report_balances(config, out=sys.stdout))


async def report_balances(config: BridgeConfig, *, out: TextIO) -> int:
    status = EXIT_OK
    async with IsmsClient(isms_settings(config.isms)) as client:
        for credentials in isms_accounts(config):
            line, ok = await _one(client, credentials)
            print(line, file=out)
            if not ok:
                status = EXIT_FAILED
    return status


async def _one(client: IsmsClient, credentials: IsmsCredentials) -> tuple[str, bool]:
    name = credentials.username
    try:
        reply = await client.balance(credentials)
    except UpstreamError as exc:
        return f"{name}: unavailable ({exc})", False
    if reply.credits is not None:
        return f"{name}: {reply.credits} credits", True
    assert reply.code is not None
    line = f"{name}: refused, {reply.code} {code_name(reply.code)}"
    try:
        fix = ACCOUNT_FIXES.get(IsmsCode(reply.code))
    except ValueError:
        fix = None
    return (f"{line}; fix: {fix}" if fix else line), False
