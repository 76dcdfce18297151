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
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge.app.commands.arguments import add_log_level, shown
from bridge.app.commands.serve import EXIT_CONFIG, EXIT_START, run_event_loop, serve
from bridge.app.logs import configure_logging
from bridge.app.root import Bridge
from bridge.app.state import instance_name
from bridge.config import BridgeConfig, ConfigError, is_loopback_host, load_config
from bridge.state import StateFileError
from bridge.upstream import IsmsSandbox

# The repository's sandbox config (scripts/demo runs from the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "sandbox.toml"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the bridge against the built-in iSMS sandbox on loopback",
        description="Start the iSMS sandbox on the loopback address of the config's first "
        "[isms] endpoint, then the bridge with that config as `serve` runs it; print where "
        "to bind, what to try and where to look. Ctrl-C stops both.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help="a config whose [isms] endpoint is on loopback (default: configs/sandbox.toml)",
    )
    add_log_level(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
        host, port = sandbox_address(config)
    except ConfigError as exc:
        print(f"isms-bridge demo: {shown(exc)}", file=sys.stderr)
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
    smpp = bridge.smpp.server.addresses
    lines = [
        "isms-bridge demo is running (Ctrl-C stops it).",
        *(f"  SMPP:    {_address(h, p)}" for h, p in smpp),
        f"  bind as: system_id {account.system_id!r}, password {account.password!r}",
        f"  sandbox: {sandbox.url('')} shows what iSMS received "
        f"(JSON: {sandbox.url('messages.json')})",
        *(f"  metrics: http://{_address(h, p)}/metrics" for h, p in metrics),
        f"  try:     {try_line(bridge, smpp[0][1] if smpp else bridge.config.smpp.port)}",
    ]
    print("\n".join(lines), flush=True)


def try_line(bridge: Bridge, port: int) -> str:
    """A send through the demo, as a shell line that runs as printed."""
    config = bridge.config
    words = [
        *invocation(sys.argv[0], sys.executable, Path.cwd()),
        "send",
        "--config",
        _shown_path(config.path, Path.cwd()),
    ]
    if port != config.smpp.port:  # port = 0 in the file: the one the system picked
        words += ["--port", str(port)]
    words += ["--to", "60123456789", "Hello from SMPP"]
    return shlex.join(words)


def invocation(
    argv0: str, executable: str, cwd: Path, which: Callable[[str], str | None] = shutil.which
) -> list[str]:
    """How to run this same isms-bridge again: `isms-bridge` only when that name on PATH is
    this program, else the path it was started by (`.venv/bin/isms-bridge` from the
    repository's venv), else this Python with `-m bridge`."""
    started = cwd / argv0  # as given when absolute
    if started.name == "__main__.py" or not started.is_file():
        return [_shown_path(Path(executable), cwd), "-m", "bridge"]
    on_path = which("isms-bridge")
    if on_path is not None and Path(on_path).resolve() == started.resolve():
        return ["isms-bridge"]
    return [_shown_path(started, cwd)]


def _shown_path(path: Path, cwd: Path) -> str:
    """Relative to the working folder when inside it (`./x` for a bare name), else absolute."""
    absolute = path if path.is_absolute() else cwd / path
    try:
        relative = absolute.relative_to(cwd)
    except ValueError:
        return str(absolute)
    text = str(relative)
    return text if "/" in text else f"./{text}"


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
