"""`isms-bridge sandbox`: a local stand-in for iSMS, so the bridge runs with no iSMS account.

    isms-bridge sandbox --host 127.0.0.1 --port 8480 [--account USER:PASSWORD ...]
                        [--credits N] [--latency-ms MS] [--http-status 500|503|...]
                        [--drop-connections] [--result-code -1004] [--fault-ratio 0.1]

Runs until SIGINT or SIGTERM. Point `[isms] endpoints` at the printed URL; open `/` in a
browser to see what arrived. Reserved destination numbers inject faults per message (README,
"The sandbox").
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from bridge.app.commands.serve import run_event_loop
from bridge.config import is_loopback_host
from bridge.upstream import (
    DEFAULT_ACCOUNTS,
    DEFAULT_CREDITS,
    IsmsCode,
    IsmsSandbox,
    SandboxFaults,
)

DEFAULT_PORT = 8480
EXIT_OK = 0
EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local stand-in for the iSMS HTTP API (no account needed)",
        description="Serve /isms_send_all_id.php, /isms_send.php, /RESTAPI.php and "
        "/isms_balance.php like iSMS does, with a credit balance and fault injection.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default: %(default)s)"
    )
    parser.add_argument(
        "--account",
        action="append",
        metavar="USER:PASSWORD",
        help="an iSMS account the sandbox accepts, repeatable (default: "
        + ", ".join(f"{user}:{password}" for user, password in DEFAULT_ACCOUNTS.items())
        + ")",
    )
    parser.add_argument(
        "--credits", type=int, default=DEFAULT_CREDITS, help="per account (default: %(default)s)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every reply (default: %(default)g)"
    )
    parser.add_argument(
        "--http-status", type=int, help="answer send requests with this status (default: none)"
    )
    parser.add_argument(
        "--drop-connections",
        action="store_true",
        help="send and charge, then close the connection without a reply",
    )
    parser.add_argument(
        "--result-code", type=int, help="answer this iSMS code, e.g. -1004 (default: none)"
    )
    parser.add_argument(
        "--fault-ratio",
        type=float,
        default=1.0,
        help="share of send requests the status/drop/code faults hit, 0..1 (default: %(default)g)",
    )
    parser.add_argument(
        "--history", type=int, default=200, help="recent messages kept (default: %(default)s)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        sandbox = build_sandbox(args)
    except ValueError as exc:
        print(f"isms-bridge sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run_event_loop(lambda: serve(sandbox, args.host, args.port))
    except OSError as exc:
        print(
            f"isms-bridge sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1


def build_sandbox(args: argparse.Namespace) -> IsmsSandbox:
    accounts = dict(_account(spec) for spec in args.account) if args.account else DEFAULT_ACCOUNTS
    if args.credits < 0:
        raise ValueError("--credits must not be negative")
    if not 1 <= args.history <= 100_000:
        raise ValueError("--history must be between 1 and 100000")
    if args.result_code is not None and args.result_code not in {c.value for c in IsmsCode} - {
        IsmsCode.SUCCESS
    }:
        codes = ", ".join(str(c.value) for c in IsmsCode if c is not IsmsCode.SUCCESS)
        raise ValueError(f"--result-code must be an iSMS error code ({codes})")
    faults = SandboxFaults(
        latency_s=args.latency_ms / 1000,
        http_status=args.http_status,
        drop=args.drop_connections,
        result_code=args.result_code,
        ratio=args.fault_ratio,
    )
    return IsmsSandbox(accounts=accounts, credits=args.credits, faults=faults, history=args.history)


async def serve(sandbox: IsmsSandbox, host: str, port: int) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await sandbox.start(host, port)
    try:
        base = sandbox.url("")
        print(
            f"iSMS sandbox listening on {base} (recent messages there, JSON at "
            f"{base}messages.json)",
            flush=True,
        )
        print(f"  endpoint: {sandbox.url()}", flush=True)
        for user, password in sandbox.accounts.items():
            print(f"  account: {user} / {password} ({sandbox.balances[user]} credits)", flush=True)
        if not is_loopback_host(host):
            print(
                "  warning: not bound to loopback; anyone who can reach it can read the "
                "messages at /",
                flush=True,
            )
        await stop.wait()
    finally:
        await sandbox.stop()
    return EXIT_OK


def _account(spec: str) -> tuple[str, str]:
    user, separator, password = spec.partition(":")
    if not separator or not user or not password:
        raise ValueError(f"--account expects USER:PASSWORD, got {spec!r}")
    return user, password
