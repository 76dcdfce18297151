"""What sub-commands say the same way: `--config PATH`, `--log-level`, a config's problems.

Every sub-command that reads the config takes it as `--config PATH` (`check-config` also
as its positional PATH, as it always did), and prints a `ConfigError` with `shown`: one
problem on the line it names, several each on a line of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bridge.app.logs import LEVELS
from bridge.config import ConfigError

CONFIG_HELP = "the TOML config file"


def add_config(parser: argparse.ArgumentParser, *, required: bool = True, text: str = "") -> None:
    """`--config PATH`; `text`: its help, when it says more than "the TOML config file"."""
    parser.add_argument(
        "--config", required=required, type=Path, metavar="PATH", help=text or CONFIG_HELP
    )


def add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        choices=sorted(LEVELS),
        default="info",
        help="the least severe log lines written (default: %(default)s)",
    )


def shown(error: ConfigError) -> str:
    """`file: key: expected`, or for several problems their count and one indented line each."""
    if len(error.problems) == 1:
        return str(error)
    lines = "".join(f"\n  {problem}" for problem in error.problems)
    return f"{len(error.problems)} problems:{lines}"
