"""ConnectionLimits: caps in total, per source address, and on connections not yet bound."""

from __future__ import annotations

from bridge.server import Refusal
from bridge.server.limits import ConnectionCaps, ConnectionLimits


def limits(total: int = 100, per_address: int = 3, unbound: int = 5) -> ConnectionLimits:
    return ConnectionLimits(
        ConnectionCaps(
            max_connections=total,
            max_connections_per_address=per_address,
            max_unbound_connections=unbound,
        )
    )


def test_connections_from_one_address_past_its_cap_are_refused() -> None:
    caps = limits(per_address=3)
    assert [caps.admit("10.0.0.1") for _ in range(4)] == [None, None, None, Refusal.PER_ADDRESS]


def test_another_address_is_not_held_back_by_a_full_one() -> None:
    caps = limits(per_address=3)
    for _ in range(3):
        caps.admit("10.0.0.1")
    assert caps.admit("10.0.0.2") is None


def test_unbound_connections_past_their_cap_are_refused_from_any_address() -> None:
    caps = limits(per_address=10, unbound=2)
    assert caps.admit("10.0.0.1") is None
    assert caps.admit("10.0.0.2") is None
    assert caps.admit("10.0.0.3") is Refusal.UNBOUND


def test_a_bound_connection_frees_its_unbound_slot_but_keeps_its_address_slot() -> None:
    caps = limits(per_address=2, unbound=1)
    caps.admit("10.0.0.1")
    caps.bound()
    assert caps.unbound == 0
    assert caps.admit("10.0.0.1") is None
    assert caps.admit("10.0.0.1") is Refusal.PER_ADDRESS


def test_the_per_address_cap_is_checked_first() -> None:
    caps = limits(total=1, per_address=1, unbound=1)
    caps.admit("10.0.0.1")
    assert caps.admit("10.0.0.1") is Refusal.PER_ADDRESS
    assert caps.admit("10.0.0.2") is Refusal.MAX_CONNECTIONS


def test_a_released_connection_gives_every_slot_back_and_its_address_is_forgotten() -> None:
    caps = limits()
    caps.admit("10.0.0.1")
    caps.admit("10.0.0.1")
    caps.bound()
    caps.release("10.0.0.1", bound=True)
    caps.release("10.0.0.1", bound=False)
    assert (caps.total, caps.unbound, caps.from_address("10.0.0.1")) == (0, 0, 0)


def test_moving_a_connection_counts_it_under_its_real_address() -> None:
    caps = limits(per_address=3)
    caps.admit("192.0.2.10")  # the proxy
    assert caps.move("192.0.2.10", "10.0.0.7") is None
    assert (caps.from_address("192.0.2.10"), caps.from_address("10.0.0.7")) == (0, 1)


def test_moving_to_an_address_at_its_cap_is_refused_and_changes_nothing() -> None:
    caps = limits(per_address=1)
    caps.admit("10.0.0.7")
    caps.admit("192.0.2.10")
    assert caps.move("192.0.2.10", "10.0.0.7") is Refusal.PER_ADDRESS
    assert (caps.from_address("192.0.2.10"), caps.from_address("10.0.0.7")) == (1, 1)
