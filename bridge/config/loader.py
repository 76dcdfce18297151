"""`load_config(path)`: one TOML file in, one validated `BridgeConfig` out, or a `ConfigError`
listing every problem of the file (each naming the file and the key).

`load_metrics_config(path)` reads only `[metrics]`, for `isms-bridge healthcheck`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bridge.config.accounts import AccountConfig, parse_accounts
from bridge.config.admin import AdminConfig, check_admin_apart, parse_admin_section
from bridge.config.errors import ConfigError, ConfigProblems
from bridge.config.isms import IsmsConfig, parse_isms_section
from bridge.config.listeners import (
    MetricsConfig,
    SmppConfig,
    check_listeners_apart,
    parse_metrics_section,
    parse_smpp_section,
)
from bridge.config.messages import MessagesConfig, parse_messages_section
from bridge.config.policy import PolicyConfig, parse_policy_section
from bridge.config.reader import TableReader
from bridge.config.state import StateConfig, parse_state_section

T = TypeVar("T")


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
    # What every account's policy shares (time zone, credit divisors, opt-out file).
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    # The control plane's listener; None (no [admin] in the file): off.
    admin: AdminConfig | None = None


def load_config(path: Path | str) -> BridgeConfig:
    """The file's config, or one `ConfigError` carrying every problem found in it."""
    path = Path(path)
    problems = ConfigProblems()
    root = TableReader(path, "", read_toml(path))
    root.problems = problems
    smpp = _section(root, "smpp", parse_smpp_section, SmppConfig())
    isms = _section(root, "isms", parse_isms_section, IsmsConfig())
    metrics = _section(root, "metrics", parse_metrics_section, MetricsConfig())
    messages = _section(root, "messages", parse_messages_section, MessagesConfig())
    state = _section(root, "state", parse_state_section, StateConfig())
    policy = _section(root, "policy", parse_policy_section, PolicyConfig())
    admin = (
        _section(root, "admin", parse_admin_section, AdminConfig()) if root.has("admin") else None
    )
    account_tables = root.tables("accounts")
    if not account_tables and not root.failed("accounts"):
        root.report("accounts", "expected at least one [[accounts]] table (nobody could bind)")
    accounts = parse_accounts(account_tables)
    root.finish()
    # Ports compared with a stand-in for a bad value would report a clash that is not there.
    if not problems.failed_under("smpp") and not problems.failed_under("metrics"):
        try:
            check_listeners_apart(path, smpp, metrics)
        except ConfigError as error:
            problems.add(error)
    if admin is not None and not problems.failed_under("admin"):
        try:
            check_admin_apart(path, admin, smpp, metrics)
        except ConfigError as error:
            problems.add(error)
    problems.raise_if_any()
    return BridgeConfig(
        path=path,
        smpp=smpp,
        isms=isms,
        metrics=metrics,
        accounts=accounts,
        messages=messages,
        state=state,
        policy=policy,
        admin=admin,
    )


def _section(root: TableReader, name: str, parse: Callable[[TableReader], T], stand_in: T) -> T:
    """One section parsed; a check that had to stop it is recorded, and the other sections
    are still read."""
    try:
        return parse(root.table(name))
    except ConfigError as error:
        root.caught(error)
        return stand_in


def load_metrics_config(path: Path | str) -> MetricsConfig:
    """Only `[metrics]`, validated as `load_config` validates it (defaults when absent).

    What a health probe needs: it asks the running process, so the rest of the file (which may
    have been edited since the start, or name secrets the probe's environment lacks) is not read.
    """
    path = Path(path)
    problems = ConfigProblems()
    root = TableReader(path, "", read_toml(path))
    root.problems = problems
    metrics = _section(root, "metrics", parse_metrics_section, MetricsConfig())
    problems.raise_if_any()
    return metrics


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
