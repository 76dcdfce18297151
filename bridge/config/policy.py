"""Account policy: `[policy]` (what every account shares) and the policy keys of each
`[[accounts]]` table (duplicates, caps, RM0, number lists). docs/policy.md explains each.

Every key is optional and every default is "off": an account without them is not checked
at all (the pipeline tests one attribute per message, pipeline/policy/).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from bridge.config.reader import TableReader

DEFAULT_TIME_ZONE = "Asia/Kuala_Lumpur"
# The iSMS API page: one credit per 153 characters of type 1 (ASCII), per 63 of type 2
# (Unicode), per destination.
DEFAULT_CREDIT_CHARS_ASCII = 153
DEFAULT_CREDIT_CHARS_UNICODE = 63
DUPLICATE_MODES = ("off", "flag", "suppress")
DUPLICATE_KEYS = ("content", "user_message_reference")
AFTER_UNKNOWN = ("send_again", "assume_sent")
RM0_MODES = ("off", "insert", "require")
# What a submit past a cap may be answered: never ESME_RSYSERR, which ESMEs resend blindly.
CAP_STATUSES = ("ESME_RMSGQFUL", "ESME_RTHROTTLED", "ESME_RSUBMITFAIL")
DEFAULT_MESSAGES_CAP_STATUS = "ESME_RMSGQFUL"  # a cap on messages: temporary, try later
DEFAULT_CREDITS_CAP_STATUS = "ESME_RSUBMITFAIL"  # credits exhausted: do not retry
_WEEK = 7 * 86_400.0
_MAX_CAP = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyConfig:
    """The `[policy]` keys, by their names in the file."""

    time_zone: str = DEFAULT_TIME_ZONE
    credit_chars_ascii: int = DEFAULT_CREDIT_CHARS_ASCII
    credit_chars_unicode: int = DEFAULT_CREDIT_CHARS_UNICODE
    opt_out_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPolicyConfig:
    """The policy keys of one `[[accounts]]` table; None / "off" / () mean not checked."""

    duplicates: str = "off"
    duplicates_window_s: float = 600.0
    duplicates_key: str = "content"
    after_unknown: str = "send_again"
    daily_messages: int | None = None
    monthly_messages: int | None = None
    daily_credits: int | None = None
    monthly_credits: int | None = None
    messages_cap_status: str = DEFAULT_MESSAGES_CAP_STATUS
    credits_cap_status: str = DEFAULT_CREDITS_CAP_STATUS
    rm0: str = "off"
    allow_prefixes: tuple[str, ...] = ()
    deny_prefixes: tuple[str, ...] = ()
    opt_out_file: Path | None = None

    @property
    def capped(self) -> bool:
        return any(
            cap is not None
            for cap in (
                self.daily_messages,
                self.monthly_messages,
                self.daily_credits,
                self.monthly_credits,
            )
        )


def parse_policy_section(reader: TableReader) -> PolicyConfig:
    zone = reader.string("time_zone", DEFAULT_TIME_ZONE)
    if not reader.failed("time_zone"):
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            reader.report(
                "time_zone", f"expected an IANA time zone (Asia/Kuala_Lumpur), got {zone!r}"
            )
            zone = DEFAULT_TIME_ZONE
    config = PolicyConfig(
        time_zone=zone,
        credit_chars_ascii=reader.integer(
            "credit_chars_ascii", DEFAULT_CREDIT_CHARS_ASCII, minimum=1, maximum=1000
        ),
        credit_chars_unicode=reader.integer(
            "credit_chars_unicode", DEFAULT_CREDIT_CHARS_UNICODE, minimum=1, maximum=1000
        ),
        opt_out_file=_path(reader, "opt_out_file"),
    )
    reader.finish()
    return config


def parse_account_policy(reader: TableReader) -> AccountPolicyConfig:
    """The policy keys of an account table (the caller's `finish` checks the rest)."""
    return AccountPolicyConfig(
        duplicates=reader.choice("duplicates", DUPLICATE_MODES, "off"),
        duplicates_window_s=reader.number("duplicates_window_s", 600.0, above=0.0, maximum=_WEEK),
        duplicates_key=reader.choice("duplicates_key", DUPLICATE_KEYS, "content"),
        after_unknown=reader.choice("after_unknown", AFTER_UNKNOWN, "send_again"),
        daily_messages=_cap(reader, "daily_messages"),
        monthly_messages=_cap(reader, "monthly_messages"),
        daily_credits=_cap(reader, "daily_credits"),
        monthly_credits=_cap(reader, "monthly_credits"),
        messages_cap_status=reader.choice(
            "messages_cap_status", CAP_STATUSES, DEFAULT_MESSAGES_CAP_STATUS
        ),
        credits_cap_status=reader.choice(
            "credits_cap_status", CAP_STATUSES, DEFAULT_CREDITS_CAP_STATUS
        ),
        rm0=reader.choice("rm0", RM0_MODES, "off"),
        allow_prefixes=_prefixes(reader, "allow_prefixes"),
        deny_prefixes=_prefixes(reader, "deny_prefixes"),
        opt_out_file=_path(reader, "opt_out_file"),
    )


def _cap(reader: TableReader, name: str) -> int | None:
    if not reader.has(name):
        reader.integer(name, 0)  # asked, so a misspelling is matched against it
        return None
    return reader.integer(name, minimum=0, maximum=_MAX_CAP)


def _prefixes(reader: TableReader, name: str) -> tuple[str, ...]:
    prefixes = reader.string_list(name, [])
    for i, prefix in enumerate(prefixes):
        if not (prefix.isascii() and prefix.isdigit() and 1 <= len(prefix) <= 15):
            reader.report(
                f"{name}[{i}]",
                f"expected the leading digits of an iSMS number with its country code "
                f"(60, 6012), got {prefix!r}",
            )
    return tuple(prefixes)


def _path(reader: TableReader, name: str) -> Path | None:
    """A file's path, relative to the config file's folder unless absolute."""
    raw = reader.optional_string(name)
    if raw is None or reader.failed(name):
        return None
    if not raw.strip():
        reader.report(name, "expected a file's path")
        return None
    path = Path(raw)
    return path if path.is_absolute() else reader.path.parent / path
