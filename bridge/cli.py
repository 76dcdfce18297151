"""The `isms-bridge` command line: one sub-command per operator task.

Each sub-command lives in its own module under `bridge.app` and exposes
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the
parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import cast

from bridge import __version__

# Sub-command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "bridge.app.demo",
    "bridge.app.serve",
    "bridge.app.send",
    "bridge.app.check_config",
    "bridge.app.healthcheck",
    "bridge.app.sandbox",
    "bridge.app.balance",
    "bridge.app.messages",
    "bridge.app.backup",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isms-bridge",
        description="SMPP 3.4 server that forwards messages to the iSMS HTTP gateway.",
    )
    parser.add_argument("--version", action="version", version=f"isms-bridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return cast(Callable[[argparse.Namespace], int], handler)(args)
