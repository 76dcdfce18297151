"""`isms-bridge check-config --config PATH` (or `check-config PATH`): validate a config
without starting anything.

Exit 0 with a short summary (listeners, iSMS mirrors, the state store, accounts) when the
file loads; exit 1 with every problem of the file (each naming file, key and what was
expected) when it does not; exit 2 with one line naming the path and the reason when its
[state] store could not be opened (as `serve` would refuse it). Every host name is resolved
too: a listen address that does not resolve is a problem (`serve` could not listen), an iSMS
mirror that does not resolve here is a warning (the file may be checked away from where it
runs, as compose's `sandbox` service shows). The summary never shows a secret: no
passwords, no iSMS credentials, no user info or query of a URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from bridge.app.commands.arguments import CONFIG_HELP, add_config, shown
from bridge.app.hosts import endpoint_hosts, listen_hosts, resolve_problem
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
        description="Load and validate the config exactly as `serve` would, resolve its host "
        "names, then print a summary; every problem of the file is listed in one run.",
    )
    add_config(parser, required=False)
    # The positional form came first; it stays for the scripts that use it.
    parser.add_argument(
        "path", metavar="PATH", type=Path, nargs="?", help=f"{CONFIG_HELP} (the same as --config)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.path is not None and args.config is not None and args.path != args.config:
        print(
            "isms-bridge check-config: give the config once (--config PATH or PATH)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    path = args.config if args.config is not None else args.path
    if path is None:
        print("isms-bridge check-config: which config? give --config PATH", file=sys.stderr)
        return EXIT_INVALID
    return check(path, out=sys.stdout, err=sys.stderr)


def check(path: Path, *, out: TextIO, err: TextIO) -> int:
    try:
        config = load_config(path)
        _check_listen_hosts(config)
    except ConfigError as exc:
        print(f"isms-bridge: invalid config: {shown(exc)}", file=err)
        return EXIT_INVALID
    try:
        store = asyncio.run(check_state(config.state))
    except StateFileError as exc:
        print(f"isms-bridge: state file {exc.path}: {exc.reason}", file=err)
        return EXIT_STATE
    out.write(summary(config, store=store, warnings=_mirror_warnings(config)))
    return EXIT_OK


def _check_listen_hosts(config: BridgeConfig) -> None:
    """A listen address that does not resolve: `serve` would fail to start on it."""
    problems = [
        ConfigError(config.path, host.key, f"{host.host!r} does not resolve: {problem}")
        for host in listen_hosts(config)
        if (problem := resolve_problem(host, listen=True))
    ]
    if problems:
        raise ConfigError.of(problems)


def _mirror_warnings(config: BridgeConfig) -> list[str]:
    return [
        f"{host.key}: {host.host!r} does not resolve here ({problem}): the bridge cannot "
        "reach this mirror from this machine"
        for host in endpoint_hosts(config)
        if (problem := resolve_problem(host, listen=False))
    ]


def summary(config: BridgeConfig, *, store: str = "", warnings: list[str] | None = None) -> str:
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
    warnings = [
        *(warnings or []),
        *(w for account in config.accounts for w in _client_warnings(account)),
    ]
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
        # A key the table sets itself wins over the profile: say so, or the profile's why
        # ("receipts say DELIVRD") would contradict the result ("receipts ACCEPTD").
        overrides = _overrides(account)
        over = f", but the account sets {', '.join(overrides)}" if overrides else ""
        text = f"profile {profile.name} ({profile.why}){over}: {text}"
    return text


def _overrides(account: AccountConfig) -> list[str]:
    """The account's keys whose values differ from what its profile gives."""
    profile = PROFILES[account.profile]
    found = []
    if account.report_delivered != profile.report_delivered:
        found.append(f"report_delivered = {str(account.report_delivered).lower()}")
    if account.dc0 != profile.dc0:
        found.append(f'dc0 = "{account.dc0}"')
    if account.dc1 != profile.dc1:
        found.append(f'dc1 = "{account.dc1}"')
    return found


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
