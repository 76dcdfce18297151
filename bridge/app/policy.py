"""Each account's `AccountPolicy` from the config, with its opt-out lists read from their
files: at start and again at every SIGHUP (a changed opt-out file applies without a
restart). An account with every policy off gets none (the pipeline then checks nothing).

An opt-out file that cannot be read is a `ConfigError` naming it (the start fails; a
reload changes nothing); lines that are not numbers are logged and skipped. Numbers opted
out through the admin API join the files' (`with_opt_outs`), for every account (scope `*`)
or one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.config import AccountConfig, BridgeConfig, ConfigError
from bridge.pdu import CommandStatus
from bridge.pipeline import (
    AccountPolicy,
    Caps,
    DuplicateRules,
    NumberLists,
    NumberRules,
    Rm0Mode,
    parse_opt_out,
)

log = logging.getLogger(__name__)
# Bytes read of an opt-out file at most (a wrong path must not fill the memory).
MAX_OPT_OUT_BYTES = 64 * 1024 * 1024


def account_policies(config: BridgeConfig) -> dict[str, AccountPolicy]:
    """system_id -> its policy, for the accounts that have one."""
    rules = NumberRules(default_country_code=config.isms.default_country_code)
    files: dict[Path, frozenset[str]] = {}
    common = config.policy.opt_out_file
    shared = (
        frozenset() if common is None else _opt_out(common, "policy.opt_out_file", rules, files)
    )
    zone = ZoneInfo(config.policy.time_zone)
    found: dict[str, AccountPolicy] = {}
    for account in config.accounts:
        policy = account_policy(account, shared, zone, rules, files)
        if policy is not None:
            found[account.system_id] = policy
    return found


def account_policy(
    account: AccountConfig,
    shared: frozenset[str],
    zone: ZoneInfo,
    rules: NumberRules,
    files: dict[Path, frozenset[str]],
) -> AccountPolicy | None:
    keys = account.policy
    opted_out = shared
    if keys.opt_out_file is not None:
        key = f"accounts ({account.system_id}).opt_out_file"
        opted_out = shared | _opt_out(keys.opt_out_file, key, rules, files)
    lists = (
        NumberLists(allow=keys.allow_prefixes, deny=keys.deny_prefixes, opted_out=opted_out)
        if keys.allow_prefixes or keys.deny_prefixes or opted_out
        else None
    )
    caps = (
        Caps(
            daily_messages=keys.daily_messages,
            monthly_messages=keys.monthly_messages,
            daily_credits=keys.daily_credits,
            monthly_credits=keys.monthly_credits,
            messages_status=CommandStatus[keys.messages_cap_status],
            credits_status=CommandStatus[keys.credits_cap_status],
            zone=zone,
        )
        if keys.capped
        else None
    )
    duplicates = (
        None
        if keys.duplicates == "off"
        else DuplicateRules(
            mode="flag" if keys.duplicates == "flag" else "suppress",
            window_s=keys.duplicates_window_s,
            key="user_message_reference"
            if keys.duplicates_key == "user_message_reference"
            else "content",
            after_unknown="assume_sent" if keys.after_unknown == "assume_sent" else "send_again",
        )
    )
    rm0: Rm0Mode = (
        "insert" if keys.rm0 == "insert" else "require" if keys.rm0 == "require" else "off"
    )
    if lists is None and caps is None and duplicates is None and rm0 == "off":
        return None
    return AccountPolicy(lists=lists, rm0=rm0, caps=caps, duplicates=duplicates)


def _opt_out(
    path: Path, key: str, rules: NumberRules, files: dict[Path, frozenset[str]]
) -> frozenset[str]:
    """The numbers of one opt-out file (read once per build, however many accounts name it)."""
    if path in files:
        return files[path]
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_OPT_OUT_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            path, key, f"cannot read the opt-out file: {exc.strerror or exc}"
        ) from exc
    if len(raw) > MAX_OPT_OUT_BYTES:
        raise ConfigError(
            path, key, f"expected an opt-out file of at most {MAX_OPT_OUT_BYTES} bytes"
        )
    numbers, bad = parse_opt_out(raw.decode("utf-8", "replace"), rules)
    if bad:
        log.warning(
            "event=opt_out_lines_skipped file=%s lines=%d first=%r", path, len(bad), bad[0][:40]
        )
    log.info("event=opt_out_loaded file=%s numbers=%d", path, len(numbers))
    files[path] = numbers
    return numbers


def with_opt_outs(
    accounts: Iterable[AccountConfig],
    policies: Mapping[str, AccountPolicy],
    opt_outs: Mapping[str, frozenset[str]],
) -> dict[str, AccountPolicy]:
    """`policies` with the numbers opted out through the admin API (scope -> numbers; `*`
    for every account) added to each account's opt-out list; an account with no policy
    gets one holding just that list."""
    every = opt_outs.get("*", frozenset())
    found: dict[str, AccountPolicy] = {}
    for account in accounts:
        system_id = account.system_id
        policy = policies.get(system_id)
        extra = every | opt_outs.get(system_id, frozenset())
        if not extra:
            if policy is not None:
                found[system_id] = policy
            continue
        if policy is None:
            found[system_id] = AccountPolicy(lists=NumberLists(opted_out=extra))
        elif policy.lists is None:
            found[system_id] = replace(policy, lists=NumberLists(opted_out=extra))
        else:
            lists = replace(policy.lists, opted_out=policy.lists.opted_out | extra)
            found[system_id] = replace(policy, lists=lists)
    return found
