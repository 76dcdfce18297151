"""The `isms-bridge` sub-commands, one module each.

Every module exposes `register(subparsers)`, which adds its parser and sets `handler` to a
function taking the parsed arguments and returning the exit status. `add_commands` registers
them all, in the order `--help` lists them; `bridge.cli` builds the parser with it.
"""

from typing import Any

from bridge.app.commands import (
    admin,
    backup,
    balance,
    check_config,
    demo,
    healthcheck,
    messages,
    sandbox,
    send,
    serve,
)

# In the order `--help` lists them.
COMMANDS = (demo, serve, send, check_config, healthcheck, sandbox, balance, messages, backup, admin)


def add_commands(subparsers: Any) -> None:
    """Add every sub-command's parser to `subparsers` (argparse's add_subparsers())."""
    for command in COMMANDS:
        command.register(subparsers)


__all__ = ["COMMANDS", "add_commands"]
