"""`[[accounts]]`: who may bind, from where, how fast, and with which iSMS credentials.

An `AccountConfig` satisfies `bridge.smpp.AccountPolicy` and `bridge.smpp.ThrottledAccount`,
so the app hands these straight to the `Authenticator` and `AccountThrottles`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bridge.config.errors import ConfigError
from bridge.config.listeners import IpNetwork, check_system_id, ip_networks
from bridge.config.policy import AccountPolicyConfig, parse_account_policy
from bridge.config.profiles import GENERIC, PROFILES
from bridge.config.reader import TableReader
from bridge.pipeline import DefaultAlphabet, Ia5Alphabet
from bridge.smpp import BIND_TYPES, default_burst

# SMPP 3.4 §4.1: password is a C-Octet String of at most 9 octets, so 8 characters, and
# smpplib (like most clients) silently cuts a longer one, which would then never match.
MAX_PASSWORD = 8
# iSMS `sendid`: "A to z 0 to 9 only", at most 11 characters (the iSMS API page).
_SENDER_ID = re.compile(r"[A-Za-z0-9]{1,11}")

_DC0: dict[str, DefaultAlphabet] = {"gsm7": "gsm7", "latin1": "latin1", "ascii": "ascii"}
_DC1: dict[str, Ia5Alphabet] = {"ascii": "ascii", "gsm7": "gsm7"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """One ESME login. Empty `allowed_ips` / `allowed_sender_ids` mean "any"."""

    system_id: str
    password: str = field(repr=False)
    isms_username: str
    isms_password: str = field(repr=False)
    bind_types: frozenset[str] = BIND_TYPES
    allowed_ips: tuple[IpNetwork, ...] = ()
    max_binds: int = 10
    throughput_per_s: float | None = None
    throughput_burst: float | None = None
    default_sender: str | None = None
    allowed_sender_ids: tuple[str, ...] = ()
    # Which SMPP client binds here (profiles.py): it gives dc0, dc1 and report_delivered
    # their defaults; a key the table sets itself wins.
    profile: str = GENERIC.name
    # How data_coding 0 and 1 are read, and whether receipts say DELIVRD (an assumption the
    # operator opts into: iSMS reports only that the operator accepted the message).
    dc0: DefaultAlphabet = "gsm7"
    dc1: Ia5Alphabet = "ascii"
    report_delivered: bool = False
    # Duplicates, caps, RM0 and number lists (policy.py; all off by default).
    policy: AccountPolicyConfig = field(default_factory=AccountPolicyConfig)


def parse_accounts(readers: list[TableReader]) -> tuple[AccountConfig, ...]:
    accounts: list[AccountConfig] = []
    first_seen: dict[str, str] = {}
    for reader in readers:
        try:
            account = parse_account(reader)
        except ConfigError as error:
            reader.caught(error)  # the other accounts are still checked
            continue
        if account.system_id in first_seen:
            reader.report(
                "system_id",
                f"expected a unique system_id, {account.system_id!r} is already used by "
                f"{first_seen[account.system_id]}",
            )
            continue
        first_seen[account.system_id] = reader.prefix
        accounts.append(account)
    return tuple(accounts)


def parse_account(reader: TableReader) -> AccountConfig:
    system_id = reader.string("system_id")
    check_system_id(reader, "system_id", system_id)
    if not reader.failed("system_id"):
        # From here on its keys read `accounts[2] (esme1).password`: the name the operator knows.
        reader.name_as(system_id)
    password = _smpp_password(reader)
    isms_username = reader.string("isms_username")
    if not isms_username.strip() and not reader.failed("isms_username"):
        reader.report("isms_username", "expected a non-empty iSMS user name")
    # None: missing or unreadable, and reported as such.
    isms_password = reader.secret("isms_password")
    if isms_password == "":
        reader.report("isms_password", "expected a non-empty iSMS password")
    rate = reader.optional_number("throughput_per_s", above=0.0, maximum=1_000_000.0)
    burst = reader.optional_number("throughput_burst", minimum=1.0, maximum=10_000_000.0)
    if burst is not None and rate is None and not reader.failed("throughput_per_s"):
        reader.report(
            "throughput_burst",
            "expected throughput_per_s too (the burst is the size of its bucket)",
        )
    if rate is not None and burst is None:
        burst = default_burst(rate)
    allowed_senders = tuple(_sender_ids(reader))
    default_sender = reader.optional_string("default_sender")
    if default_sender is not None:
        _check_sender_id(reader, "default_sender", default_sender)
        if allowed_senders and default_sender not in allowed_senders:
            reader.report(
                "default_sender", f"expected one of allowed_sender_ids, got {default_sender!r}"
            )
    profile = PROFILES[reader.choice("profile", tuple(PROFILES), GENERIC.name)]
    account = AccountConfig(
        system_id=system_id,
        password=password,
        isms_username=isms_username,
        isms_password=isms_password or "",
        bind_types=_bind_types(reader),
        allowed_ips=_allowed_ips(reader),
        max_binds=reader.integer("max_binds", 10, minimum=1, maximum=100_000),
        throughput_per_s=rate,
        throughput_burst=burst,
        default_sender=default_sender,
        allowed_sender_ids=allowed_senders,
        profile=profile.name,
        dc0=_DC0[reader.choice("dc0", tuple(_DC0), profile.dc0)],
        dc1=_DC1[reader.choice("dc1", tuple(_DC1), profile.dc1)],
        report_delivered=reader.boolean("report_delivered", profile.report_delivered),
        policy=parse_account_policy(reader),
    )
    reader.finish()
    return account


def _smpp_password(reader: TableReader) -> str:
    password = reader.secret("password")
    if password is None:  # missing or unreadable, and reported as such
        return ""
    # Name the key the secret came from (password_env, password_file) when it is not `password`.
    key = next(k for k in ("password", "password_env", "password_file") if reader.has(k))
    if not password:
        reader.report(key, "expected a non-empty password")
    elif len(password) > MAX_PASSWORD:
        reader.report(
            key,
            f"expected at most {MAX_PASSWORD} characters, got {len(password)}: SMPP 3.4 §4.1 "
            "carries the password as a C-Octet String of 9 octets, and smpplib and other "
            "clients cut longer ones, so this account could never bind",
        )
    elif not password.isascii() or not password.isprintable():
        reader.report(key, "expected printable ASCII characters only (SMPP 3.4 §4.1)")
    return password


def _bind_types(reader: TableReader) -> frozenset[str]:
    names = reader.string_list("bind_types", sorted(BIND_TYPES), non_empty=True)
    for i, name in enumerate(names):
        if name not in BIND_TYPES:
            allowed = ", ".join(repr(t) for t in sorted(BIND_TYPES))
            reader.report(f"bind_types[{i}]", f"expected one of {allowed}, got {name!r}")
    return frozenset(name for name in names if name in BIND_TYPES)


def _allowed_ips(reader: TableReader) -> tuple[IpNetwork, ...]:
    if not reader.has("allowed_ips"):
        reader.string_list("allowed_ips", [])
        return ()
    return ip_networks(reader, "allowed_ips")


def _sender_ids(reader: TableReader) -> list[str]:
    if not reader.has("allowed_sender_ids"):
        return reader.string_list("allowed_sender_ids", [])
    senders = reader.string_list("allowed_sender_ids", non_empty=True)
    for i, sender in enumerate(senders):
        _check_sender_id(reader, f"allowed_sender_ids[{i}]", sender)
    return senders


def _check_sender_id(reader: TableReader, name: str, sender: str) -> None:
    if not _SENDER_ID.fullmatch(sender):
        reader.report(
            name,
            f"expected a sender ID of 1 to 11 letters A-Z, a-z or digits (iSMS sendid), "
            f"got {sender!r}",
        )
