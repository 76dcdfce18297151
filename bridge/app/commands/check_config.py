"""`isms-bridge check-config PATH`: validate a config without starting anything.

Exit 0 with a short summary (listeners, iSMS mirrors, the state store, accounts) when the
file loads; exit 1 with the `ConfigError` message (file, key, what was expected) when it
does not; exit 2 with one line naming the path and the reason when its [state] store could
not be opened (as `serve` would refuse it). The summary never shows a secret: no passwords,
no iSMS credentials, no user info or query of a URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from bridge.app.state import check_state
from bridge.config import PROFILES, AccountConfig, BridgeConfig, ConfigError, load_config
from bridge.state import StateFileError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_STATE = 2  # the same status `serve` exits with for an unusable state store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="validate a config file without starting the bridge",
        description="Load and validate PATH exactly as `serve` would, then print a summary.",
    )
    parser.add_argument("path", metavar="PATH", type=Path, help="the TOML config file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return check(args.path, out=sys.stdout, err=sys.stderr)


def check(path: Path, *, out: TextIO, err: TextIO) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"isms-bridge: invalid config: {exc}", file=err)
        return EXIT_INVALID
    try:
        store = asyncio.run(check_state(config.state))
    except StateFileError as exc:
        print(f"isms-bridge: state file {exc.path}: {exc.reason}", file=err)
        return EXIT_STATE
    out.write(summary(config, store=store))
    return EXIT_OK


def summary(config: BridgeConfig, *, store: str = "") -> str:
    smpp = config.smpp
    lines = [f"{config.path}: OK"]
    listeners = [_address(host, smpp.port) for host in smpp.hosts]
    if smpp.tls is not None:
        listeners += [f"{_address(host, smpp.tls.port)} (TLS)" for host in smpp.tls.hosts]
    lines.append(f"  SMPP listeners: {', '.join(listeners)} (system_id {smpp.system_id})")
    lines.append(f"  metrics: http://{_address(config.metrics.host, config.metrics.port)}/metrics")
    mirrors = [_public_url(url) for url in config.isms.endpoints]
    lines.append(f"  iSMS mirrors ({len(mirrors)}): {', '.join(mirrors)}")
    if store:
        lines.append(f"  state: {store}")
    lines.append(f"  accounts ({len(config.accounts)}):")
    lines.extend(f"    {_account(account)}" for account in config.accounts)
    warnings = [w for account in config.accounts for w in _client_warnings(account)]
    if warnings:
        lines.append("  warnings:")
        lines.extend(f"    {warning}" for warning in warnings)
    return "\n".join(lines) + "\n"


def _account(account: AccountConfig) -> str:
    parts = [", ".join(sorted(account.bind_types)), f"max {account.max_binds} binds"]
    if account.allowed_ips:
        parts.append("from " + ", ".join(str(net) for net in account.allowed_ips))
    if account.throughput_per_s is not None and account.throughput_burst is not None:
        parts.append(f"{account.throughput_per_s:g}/s, burst {account.throughput_burst:g}")
    if account.default_sender is not None:
        parts.append(f"sender {account.default_sender}")
    parts.append(_client(account))
    return f"{account.system_id}: {'; '.join(parts)}"


def _client(account: AccountConfig) -> str:
    """How the account's messages are read and its receipts written, and the profile why."""
    text = f"receipts {'DELIVRD' if account.report_delivered else 'ACCEPTD'}"
    if (account.dc0, account.dc1) != ("gsm7", "ascii"):
        text += f", data_coding 0 as {account.dc0}, 1 as {account.dc1}"
    profile = PROFILES[account.profile]
    if profile.name != "generic":
        text = f"profile {profile.name} ({profile.why}): {text}"
    return text


def _client_warnings(account: AccountConfig) -> list[str]:
    if account.profile == "kannel" and not account.report_delivered:
        return [
            f"{account.system_id}: profile kannel with report_delivered = false: Kannel takes "
            "ACCEPTD receipts for an intermediate state (DLR type 4), never gets a final one, "
            "and keeps every message in its DLR store"
        ]
    return []


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _public_url(url: str) -> str:
    """scheme://host[:port]/path: a URL's user info and query may hold credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
