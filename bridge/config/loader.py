"""`load_config(path)`: one TOML file in, one validated `BridgeConfig` out, or a `ConfigError`.

`load_metrics_config(path)` reads only `[metrics]`, for `isms-bridge healthcheck`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bridge.config.accounts import AccountConfig, parse_accounts
from bridge.config.errors import ConfigError
from bridge.config.isms import IsmsConfig, parse_isms_section
from bridge.config.listeners import (
    MetricsConfig,
    SmppConfig,
    check_listeners_apart,
    parse_metrics_section,
    parse_smpp_section,
)
from bridge.config.messages import MessagesConfig, parse_messages_section
from bridge.config.reader import TableReader
from bridge.config.state import StateConfig, parse_state_section


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeConfig:
    """The whole configuration; `path` is the file it came from (SIGHUP re-reads it)."""

    path: Path
    smpp: SmppConfig
    isms: IsmsConfig
    metrics: MetricsConfig
    accounts: tuple[AccountConfig, ...]
    messages: MessagesConfig = field(default_factory=MessagesConfig)
    state: StateConfig = field(default_factory=StateConfig)


def load_config(path: Path | str) -> BridgeConfig:
    path = Path(path)
    root = TableReader(path, "", read_toml(path))
    smpp = parse_smpp_section(root.table("smpp"))
    isms = parse_isms_section(root.table("isms"))
    metrics = parse_metrics_section(root.table("metrics"))
    messages = parse_messages_section(root.table("messages"))
    state = parse_state_section(root.table("state"))
    account_tables = root.tables("accounts")
    if not account_tables:
        raise root.error("accounts", "expected at least one [[accounts]] table (nobody could bind)")
    accounts = parse_accounts(account_tables)
    root.finish()
    check_listeners_apart(path, smpp, metrics)
    return BridgeConfig(
        path=path,
        smpp=smpp,
        isms=isms,
        metrics=metrics,
        accounts=accounts,
        messages=messages,
        state=state,
    )


def load_metrics_config(path: Path | str) -> MetricsConfig:
    """Only `[metrics]`, validated as `load_config` validates it (defaults when absent).

    What a health probe needs: it asks the running process, so the rest of the file (which may
    have been edited since the start, or name secrets the probe's environment lacks) is not read.
    """
    path = Path(path)
    return parse_metrics_section(TableReader(path, "", read_toml(path)).table("metrics"))


def read_toml(path: Path) -> dict[str, object]:
    """The file's top-level table; unreadable files and TOML syntax errors as `ConfigError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            path,
            "",
            f"expected UTF-8 text (TOML requires it), byte {exc.start} on line {line} is not",
        ) from exc
    try:
        # tomllib's message ends "(at line L, column C)", which is what an editor needs.
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"expected valid TOML: {exc}") from exc
