"""Who may bind (SMPP 3.4 §4.1): statuses, constant-time checks, slowdown, reload."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

import pytest

from bridge.pdu import CommandStatus
from bridge.smpp import BIND_TYPES, Authenticator, BindRefusal, BindType

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    system_id: str
    password: str = field(repr=False)
    bind_types: frozenset[str] = BIND_TYPES
    allowed_ips: tuple[IpNetwork, ...] = ()
    max_binds: int = 10


ESME1 = Account(system_id="esme1", password="secret1")


def bind(
    auth: Authenticator,
    *,
    system_id: str = "esme1",
    password: str = "secret1",
    bind_type: str = BindType.TRANSCEIVER,
    peer_ip: str = "192.0.2.10",
    binds_held: int = 0,
    now: float = 0.0,
) -> tuple[CommandStatus, float]:
    decision = auth.authenticate(
        system_id=system_id,
        password=password,
        bind_type=bind_type,
        peer_ip=peer_ip,
        binds_held=binds_held,
        now=now,
    )
    return decision.status, decision.delay_s


def test_the_right_credentials_bind_with_esme_rok_and_the_account_at_once() -> None:
    decision = Authenticator([ESME1]).authenticate(
        system_id="esme1",
        password="secret1",
        bind_type="transmitter",
        peer_ip="192.0.2.10",
        binds_held=0,
        now=0.0,
    )
    assert decision.accepted
    assert decision.status == CommandStatus.ESME_ROK
    assert decision.account is ESME1
    assert decision.delay_s == 0.0


def test_an_unknown_system_id_is_refused_with_esme_rinvsysid() -> None:
    assert bind(Authenticator([ESME1]), system_id="nobody")[0] == CommandStatus.ESME_RINVSYSID


def test_a_wrong_password_is_refused_with_esme_rinvpaswd() -> None:
    assert bind(Authenticator([ESME1]), password="guess")[0] == CommandStatus.ESME_RINVPASWD


def test_a_password_is_compared_exactly_not_by_prefix_or_case() -> None:
    auth = Authenticator([ESME1])
    for wrong in ("secret", "secret12", "SECRET1", "", "secret1 "):
        assert bind(auth, password=wrong)[0] == CommandStatus.ESME_RINVPASWD


def test_a_peer_outside_allowed_ips_is_refused_with_esme_rbindfail() -> None:
    account = Account(
        system_id="esme1",
        password="secret1",
        allowed_ips=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")),
    )
    auth = Authenticator([account])
    assert bind(auth, peer_ip="192.0.2.10")[0] == CommandStatus.ESME_RBINDFAIL
    assert bind(auth, peer_ip="10.1.2.3")[0] == CommandStatus.ESME_ROK
    assert bind(auth, peer_ip="2001:db8::5")[0] == CommandStatus.ESME_ROK


def test_an_ipv4_peer_seen_through_a_dual_stack_socket_matches_its_ipv4_network() -> None:
    account = Account(
        system_id="esme1", password="secret1", allowed_ips=(ipaddress.ip_network("10.0.0.0/8"),)
    )
    assert bind(Authenticator([account]), peer_ip="::ffff:10.1.2.3")[0] == CommandStatus.ESME_ROK


def test_a_disallowed_address_gets_esme_rbindfail_whatever_the_password_so_it_cannot_guess() -> (
    None
):
    account = Account(
        system_id="esme1", password="secret1", allowed_ips=(ipaddress.ip_network("10.0.0.0/8"),)
    )
    auth = Authenticator([account])
    assert bind(auth, password="wrong")[0] == CommandStatus.ESME_RBINDFAIL
    assert bind(auth, password="secret1")[0] == CommandStatus.ESME_RBINDFAIL


def test_a_bind_type_the_account_does_not_allow_is_refused_with_esme_rbindfail() -> None:
    account = Account(system_id="esme1", password="secret1", bind_types=frozenset({"transmitter"}))
    auth = Authenticator([account])
    decision = auth.authenticate(
        system_id="esme1",
        password="secret1",
        bind_type="receiver",
        peer_ip="192.0.2.10",
        binds_held=0,
        now=0.0,
    )
    assert decision.status == CommandStatus.ESME_RBINDFAIL
    assert decision.refusal is BindRefusal.BIND_TYPE_NOT_ALLOWED


def test_a_bind_past_max_binds_is_refused_with_esme_rbindfail() -> None:
    auth = Authenticator([Account(system_id="esme1", password="secret1", max_binds=2)])
    assert bind(auth, binds_held=1)[0] == CommandStatus.ESME_ROK
    assert bind(auth, binds_held=2)[0] == CommandStatus.ESME_RBINDFAIL


def test_every_refusal_names_its_reason_for_the_log_without_the_password() -> None:
    auth = Authenticator([Account(system_id="esme1", password="secret1", max_binds=1)])
    reasons = [
        auth.authenticate(
            system_id=sid,
            password=pw,
            bind_type="transceiver",
            peer_ip="192.0.2.1",
            binds_held=held,
            now=0.0,
        ).refusal
        for sid, pw, held in [("x", "secret1", 0), ("esme1", "bad", 0), ("esme1", "secret1", 1)]
    ]
    assert reasons == [
        BindRefusal.UNKNOWN_SYSTEM_ID,
        BindRefusal.WRONG_PASSWORD,
        BindRefusal.TOO_MANY_BINDS,
    ]
    assert all("secret1" not in reason.value for reason in BindRefusal)


def test_passwords_are_compared_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    auth = Authenticator([ESME1])
    bind(auth, password="secret1")
    bind(auth, password="wrong")
    assert len(calls) == 2
    # Digests of equal length, so the comparison time does not depend on the password length.
    assert all(isinstance(a, bytes) and len(a) == len(b) == 32 for a, b in calls)


def test_an_unknown_system_id_still_costs_one_password_comparison_so_timing_hides_which_ids_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    auth = Authenticator([ESME1])
    bind(auth, system_id="nobody", password="secret1")
    bind(auth, system_id="esme1", password="secret1")
    assert len(calls) == 2
    assert calls[0] != calls[1]  # the unknown id was compared against a dummy, not esme1's


def test_the_first_credential_failure_waits_the_base_delay() -> None:
    auth = Authenticator([ESME1], base_delay_s=0.5, max_delay_s=10.0)
    assert bind(auth, password="wrong") == (CommandStatus.ESME_RINVPASWD, 0.5)


def test_repeated_failures_from_one_address_double_the_delay_up_to_the_cap() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, max_delay_s=5.0, halflife_s=1e9)
    delays = [bind(auth, password="wrong", now=0.0)[1] for _ in range(6)]
    assert delays == pytest.approx([1.0, 2.0, 4.0, 5.0, 5.0, 5.0])


def test_unknown_ids_and_disallowed_addresses_count_as_failures_too() -> None:
    account = Account(
        system_id="esme2", password="secret2", allowed_ips=(ipaddress.ip_network("10.0.0.0/8"),)
    )
    auth = Authenticator([ESME1, account], base_delay_s=1.0, max_delay_s=60.0, halflife_s=1e9)
    assert bind(auth, system_id="nobody")[1] == 1.0
    assert bind(auth, system_id="esme2", password="secret2")[1] == pytest.approx(2.0)
    assert bind(auth, password="wrong")[1] == pytest.approx(4.0)


def test_a_full_account_or_wrong_bind_type_is_not_slowed_down() -> None:
    account = Account(system_id="esme1", password="secret1", max_binds=1)
    auth = Authenticator([account], base_delay_s=1.0)
    assert bind(auth, binds_held=1) == (CommandStatus.ESME_RBINDFAIL, 0.0)
    assert bind(auth, binds_held=1) == (CommandStatus.ESME_RBINDFAIL, 0.0)
    assert auth.tracked_addresses == 0


def test_failures_from_one_address_do_not_slow_down_another() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=1e9)
    for _ in range(5):
        bind(auth, password="wrong", peer_ip="192.0.2.66")
    assert bind(auth, password="wrong", peer_ip="192.0.2.10")[1] == 1.0


def test_failures_decay_with_the_half_life() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, max_delay_s=1_000.0, halflife_s=60.0)
    for _ in range(4):
        bind(auth, password="wrong", now=0.0)  # weight 4
    # One half-life later the weight is 2, plus this failure: 3 -> 1 * 2 ** 2.
    assert bind(auth, password="wrong", now=60.0)[1] == pytest.approx(4.0)


def test_an_address_is_forgotten_once_its_failures_have_decayed() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=10.0)
    for _ in range(5):
        bind(auth, password="wrong", now=0.0)
    assert bind(auth, password="wrong", now=1_000.0)[1] == 1.0


def test_a_successful_bind_is_never_delayed_even_after_failures() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=1e9)
    for _ in range(5):
        bind(auth, password="wrong")
    assert bind(auth) == (CommandStatus.ESME_ROK, 0.0)


def test_the_failure_record_is_bounded_and_forgets_the_least_recent_address() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=1e9, max_addresses=100)
    bind(auth, password="wrong", peer_ip="198.51.100.1")
    bind(auth, password="wrong", peer_ip="198.51.100.1")
    for i in range(1_000):
        bind(auth, password="wrong", peer_ip=str(ipaddress.IPv4Address("10.0.0.0") + i))
        assert auth.tracked_addresses <= 100
    assert auth.tracked_addresses == 100
    # 198.51.100.1 failed twice but longest ago, so it was evicted and starts over.
    assert bind(auth, password="wrong", peer_ip="198.51.100.1")[1] == 1.0


def test_a_recent_failure_keeps_an_address_in_the_record_while_older_ones_go() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=1e9, max_addresses=3)
    bind(auth, password="wrong", peer_ip="192.0.2.1")
    bind(auth, password="wrong", peer_ip="192.0.2.2")
    bind(auth, password="wrong", peer_ip="192.0.2.1")  # refreshes .1
    bind(auth, password="wrong", peer_ip="192.0.2.3")
    bind(auth, password="wrong", peer_ip="192.0.2.4")  # evicts .2, the least recent
    assert bind(auth, password="wrong", peer_ip="192.0.2.1")[1] == 4.0
    assert bind(auth, password="wrong", peer_ip="192.0.2.2")[1] == 1.0


def test_ipv6_failures_are_counted_per_64_so_rotating_addresses_does_not_help() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, max_delay_s=100.0, halflife_s=1e9)
    bind(auth, password="wrong", peer_ip="2001:db8:1:2::1")
    bind(auth, password="wrong", peer_ip="2001:db8:1:2::dead:beef")
    assert bind(auth, password="wrong", peer_ip="2001:db8:1:2:ffff::9")[1] == 4.0
    assert bind(auth, password="wrong", peer_ip="2001:db8:1:3::1")[1] == 1.0


def test_a_reload_reports_removed_added_and_kept_system_ids() -> None:
    auth = Authenticator([ESME1, Account(system_id="esme2", password="p2")])
    changes = auth.reload([ESME1, Account(system_id="esme3", password="p3")])
    assert changes.removed == ("esme2",)
    assert changes.added == ("esme3",)
    assert changes.kept == ("esme1",)


def test_after_a_reload_a_removed_account_can_no_longer_bind() -> None:
    auth = Authenticator([ESME1, Account(system_id="esme2", password="p2")])
    auth.reload([ESME1])
    assert bind(auth, system_id="esme2", password="p2")[0] == CommandStatus.ESME_RINVSYSID


def test_after_a_reload_a_changed_password_takes_effect() -> None:
    auth = Authenticator([ESME1])
    auth.reload([Account(system_id="esme1", password="new1")])
    assert bind(auth, password="secret1")[0] == CommandStatus.ESME_RINVPASWD
    assert bind(auth, password="new1")[0] == CommandStatus.ESME_ROK


def test_a_reload_keeps_the_failure_record_so_it_does_not_reset_a_guesser() -> None:
    auth = Authenticator([ESME1], base_delay_s=1.0, halflife_s=1e9)
    bind(auth, password="wrong")
    auth.reload([ESME1])
    assert bind(auth, password="wrong")[1] == 2.0


def test_an_account_table_with_a_system_id_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="esme1"):
        Authenticator([ESME1, ESME1])


def test_the_bind_decision_repr_shows_no_password() -> None:
    decision = Authenticator([ESME1]).authenticate(
        system_id="esme1",
        password="secret1",
        bind_type="transceiver",
        peer_ip="192.0.2.1",
        binds_held=0,
        now=0.0,
    )
    assert "secret1" not in repr(decision)


def test_a_session_bind_type_is_judged_by_its_config_name() -> None:
    account = Account(system_id="esme1", password="secret1", bind_types=frozenset({"receiver"}))
    auth = Authenticator([account])
    assert bind(auth, bind_type=BindType.RECEIVER)[0] == CommandStatus.ESME_ROK
    assert bind(auth, bind_type=BindType.TRANSMITTER)[0] == CommandStatus.ESME_RBINDFAIL
