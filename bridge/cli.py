"""The `isms-bridge` command line: one sub-command per operator task.

Each sub-command lives in its own module under `bridge.app.commands` and exposes
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the
parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import cast

from bridge import __version__
from bridge.app import add_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isms-bridge",
        description="SMPP 3.4 server that forwards messages to the iSMS HTTP gateway.",
    )
    parser.add_argument("--version", action="version", version=f"isms-bridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return cast(Callable[[argparse.Namespace], int], handler)(args)
