"""AccountAuthority: the Authenticator's decisions as BindVerdicts, throughput via buckets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from bridge.pdu import CommandStatus
from bridge.server import AccountAuthority, BindAttempt, Peer
from bridge.smpp import BIND_TYPES, AccountThrottles, Authenticator, BindType


@dataclass(frozen=True, kw_only=True)
class Account:
    system_id: str = "esme1"
    password: str = field(default="secret1", repr=False)
    bind_types: frozenset[str] = BIND_TYPES
    allowed_ips: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_binds: int = 2
    throughput_per_s: float | None = None
    throughput_burst: float | None = None


def authority(*accounts: Account) -> AccountAuthority:
    table = accounts or (Account(),)
    return AccountAuthority(
        Authenticator(table, base_delay_s=0.5, max_delay_s=4.0), AccountThrottles(table)
    )


def attempt(
    password: str = "secret1", system_id: str = "esme1", host: str = "10.0.0.5"
) -> BindAttempt:
    return BindAttempt(
        session_id="s1",
        peer=Peer(host=host, port=4000),
        bind_type=BindType.TRANSCEIVER,
        system_id=system_id,
        password=password,
    )


def test_the_right_credentials_are_accepted() -> None:
    verdict = authority().decide(attempt(), bound_sessions=0, now=0.0)
    assert verdict.accepted and verdict.answer_delay_s == 0


def test_an_unknown_system_id_is_refused_rinvsysid_with_a_reason() -> None:
    verdict = authority().decide(attempt(system_id="ghost"), bound_sessions=0, now=0.0)
    assert verdict.command_status == CommandStatus.ESME_RINVSYSID
    assert verdict.reason == "unknown system_id"


def test_a_wrong_password_is_refused_rinvpaswd_and_held_back() -> None:
    verdict = authority().decide(attempt(password="guess"), bound_sessions=0, now=0.0)
    assert verdict.command_status == CommandStatus.ESME_RINVPASWD
    assert verdict.answer_delay_s == 0.5


def test_an_account_at_max_binds_is_refused_rbindfail() -> None:
    verdict = authority().decide(attempt(), bound_sessions=2, now=0.0)
    assert verdict.command_status == CommandStatus.ESME_RBINDFAIL


def test_an_address_outside_allowed_ips_is_refused_rbindfail() -> None:
    locked = Account(allowed_ips=(ipaddress.ip_network("192.168.0.0/16"),))
    verdict = authority(locked).decide(attempt(), bound_sessions=0, now=0.0)
    assert verdict.command_status == CommandStatus.ESME_RBINDFAIL


def test_throughput_is_charged_per_part_to_the_account() -> None:
    limited = authority(Account(throughput_per_s=1.0, throughput_burst=3.0))
    assert limited.admit("esme1", 3, now=0.0)
    assert not limited.admit("esme1", 1, now=0.0)
    assert limited.admit("esme1", 1, now=1.0)


def test_the_tokens_left_are_the_accounts_bucket_at_the_time_given() -> None:
    limited = authority(Account(throughput_per_s=2.0, throughput_burst=3.0))
    assert limited.tokens_left("esme1", now=0.0) == 3.0
    assert limited.admit("esme1", 3, now=0.0)
    assert limited.tokens_left("esme1", now=0.0) == 0.0
    assert limited.tokens_left("esme1", now=0.5) == 1.0
    assert authority().tokens_left("esme1", now=0.5) is None  # no limit, no bucket


def test_reload_reports_removed_accounts_and_stops_accepting_them() -> None:
    auth = authority(Account(), Account(system_id="old"))
    changes = auth.reload([Account()])
    assert changes.removed == ("old",)
    assert not auth.knows("old")
    verdict = auth.decide(attempt(system_id="old"), bound_sessions=0, now=0.0)
    assert verdict.command_status == CommandStatus.ESME_RINVSYSID
