"""`isms-bridge balance --config PATH`: each iSMS account's credit balance, for operators.

Asks isms_balance.php once per iSMS account of the config (several ESME accounts may share
one) through the same mirrors and client as the bridge. Exit 0 when every account answered
a balance, 1 when one was refused or unreachable (with the fix to apply), 2 on a bad config.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import socket
import ssl
import sys
from typing import Any, TextIO
from urllib.parse import urlsplit

from bridge.app.commands.arguments import add_config, shown
from bridge.app.settings import isms_accounts, isms_settings
from bridge.config import BridgeConfig, ConfigError, load_config
from bridge.upstream import (
    ACCOUNT_FIXES,
    IsmsClient,
    IsmsCode,
    IsmsCredentials,
    NotSent,
    UpstreamError,
    code_name,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
# How an exception class is named (`ClientConnectorDNSError`, `gaierror`, `ReadTimeout`).
_CLASS_NAME = re.compile(r"[A-Za-z_]\w*(?:Error|Exception|Timeout|error)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "balance",
        help="show the iSMS credit balance of every account in a config",
        description="Query isms_balance.php for each iSMS account the config uses, through "
        "the config's mirrors; exit 1 when one is refused or unreachable.",
    )
    add_config(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"isms-bridge balance: invalid config: {shown(exc)}", file=sys.stderr)
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
        return f"{name}: unavailable ({unavailable(exc)})", False
    if reply.credits is not None:
        return f"{name}: {reply.credits} credits", True
    assert reply.code is not None
    line = f"{name}: refused, {reply.code} {code_name(reply.code)}"
    try:
        fix = ACCOUNT_FIXES.get(IsmsCode(reply.code))
    except ValueError:
        fix = None
    return (f"{line}; fix: {fix}" if fix else line), False


def unavailable(error: UpstreamError) -> str:
    """Why no mirror answered, in words (`nohost.example:443: cannot resolve the host name`).

    Never the URL, which a GET request carries the credentials in, nor the class names of the
    HTTP library: the host and port of the last mirror tried and what the system said.
    """
    parts = urlsplit(error.mirror)
    where = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    why = _system_reason(error) or _reason_without_class(error)
    return f"{where}: {why}" if where else why


def _system_reason(error: UpstreamError) -> str:
    """The words for the operating system's error under the library's, if there is one.

    The whole chain is searched for the specific kinds first: a library's own error may be an
    OSError too, with the system's error only under it (aiohttp's ClientConnectorError).
    """
    chain = _causes(error)
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, TimeoutError):
            return "no answer in time"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({cause.reason or 'handshake'})"
    for cause in reversed(chain):
        if isinstance(cause, OSError) and cause.errno is not None and cause.strerror:
            return cause.strerror[0].lower() + cause.strerror[1:]
    return ""


def _causes(error: BaseException) -> list[BaseException]:
    """`error` and what it was raised from, outermost first."""
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and all(cause is not seen for seen in chain):
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def _reason_without_class(error: UpstreamError) -> str:
    """The adapter's reason with the library's class name taken off (`ConnectError: x`)."""
    head, colon, rest = error.reason.partition(": ")
    if not _CLASS_NAME.fullmatch(head):
        return error.reason
    if "Timeout" in head:
        return "no answer in time"
    if colon and rest:
        return rest
    return "not reached" if isinstance(error, NotSent) else "no usable answer"
