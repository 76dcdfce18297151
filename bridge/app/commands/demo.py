"""`isms-bridge demo`: the iSMS sandbox and the bridge together on loopback, for a newcomer.

    isms-bridge demo [--config configs/sandbox.toml] [--log-level info]

Starts the in-process sandbox on the address the config's first `[isms] endpoints` URL names
(which must be loopback: the sandbox shows every message it receives), then the bridge with
the message pipeline and the metrics endpoint, exactly as `serve` runs them. Prints the
account to bind with, the sandbox's message page and where /metrics is served. Ctrl-C or
SIGTERM stops the bridge gracefully, then the sandbox.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge.app.commands.serve import EXIT_CONFIG, EXIT_START, run_event_loop, serve
from bridge.app.logs import LEVELS, configure_logging
from bridge.app.root import Bridge
from bridge.app.state import instance_name
from bridge.config import BridgeConfig, ConfigError, is_loopback_host, load_config
from bridge.state import StateFileError
from bridge.upstream import IsmsSandbox

# The repository's sandbox config (scripts/demo runs from the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "sandbox.toml"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the bridge against the built-in iSMS sandbox on loopback"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="a config whose [isms] endpoint is on loopback (default: configs/sandbox.toml)",
    )
    parser.add_argument("--log-level", choices=sorted(LEVELS), default="info", help="default: info")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
        host, port = sandbox_address(config)
    except ConfigError as exc:
        print(f"isms-bridge demo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return run_event_loop(lambda: demo(config, host, port))


def sandbox_address(config: BridgeConfig) -> tuple[str, int]:
    """Where the sandbox listens: the host and port of the first iSMS endpoint (loopback)."""
    url = urlsplit(config.isms.endpoints[0])
    host = url.hostname or ""
    if not is_loopback_host(host):
        raise ConfigError(
            config.path,
            "isms.endpoints[0]",
            f"expected a loopback URL for the demo sandbox, got host {host!r}",
        )
    return host, url.port or (443 if url.scheme == "https" else 80)


async def demo(config: BridgeConfig, host: str, port: int) -> int:
    sandbox = IsmsSandbox()
    try:
        await sandbox.start(host, port)
    except OSError as exc:
        print(
            f"isms-bridge demo: cannot start the sandbox on {host}:{port}: {exc}", file=sys.stderr
        )
        return EXIT_START
    try:
        bridge = await Bridge.open(config, instance=instance_name())
    except StateFileError as exc:
        await sandbox.stop()
        print(f"isms-bridge demo: state file {exc.path}: {exc.reason}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return await serve(bridge, on_started=lambda b: _welcome(b, sandbox))
    finally:
        await sandbox.stop()


def _welcome(bridge: Bridge, sandbox: IsmsSandbox) -> None:
    account = bridge.config.accounts[0]
    metrics = () if bridge.monitoring is None else bridge.monitoring.addresses
    lines = [
        "isms-bridge demo is running (Ctrl-C stops it).",
        *(f"  SMPP:    {_address(h, p)}" for h, p in bridge.smpp.server.addresses),
        f"  bind as: system_id {account.system_id!r}, password {account.password!r}",
        f"  sandbox: {sandbox.url('')} shows what iSMS received "
        f"(JSON: {sandbox.url('messages.json')})",
        *(f"  metrics: http://{_address(h, p)}/metrics" for h, p in metrics),
        "  try:     isms-bridge send --config "
        f"{bridge.config.path} --to 60123456789 'Hello from SMPP'",
    ]
    print("\n".join(lines), flush=True)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
