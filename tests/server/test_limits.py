"""ConnectionLimits: caps in total, on connections not yet bound, and on those per address."""

from __future__ import annotations

from bridge.server import ConnectionRefusal
from bridge.server.limits import ConnectionCaps, ConnectionLimits


def limits(total: int = 100, per_address: int = 3, unbound: int = 5) -> ConnectionLimits:
    return ConnectionLimits(
        ConnectionCaps(
            max_connections=total,
            max_connections_per_address=per_address,
            max_unbound_connections=unbound,
        )
    )


def test_unbound_connections_from_one_address_past_its_cap_are_refused() -> None:
    caps = limits(per_address=3)
    assert [caps.admit("10.0.0.1") for _ in range(4)] == [
        None,
        None,
        None,
        ConnectionRefusal.PER_ADDRESS,
    ]


def test_another_address_is_not_held_back_by_a_full_one() -> None:
    caps = limits(per_address=3)
    for _ in range(3):
        caps.admit("10.0.0.1")
    assert caps.admit("10.0.0.2") is None


def test_unbound_connections_past_their_cap_are_refused_from_any_address() -> None:
    caps = limits(per_address=10, unbound=2)
    assert caps.admit("10.0.0.1") is None
    assert caps.admit("10.0.0.2") is None
    assert caps.admit("10.0.0.3") is ConnectionRefusal.UNBOUND


def test_a_bound_connection_frees_its_unbound_slot_and_its_address_slot() -> None:
    caps = limits(per_address=1, unbound=1)
    caps.admit("10.0.0.1")
    caps.bound("10.0.0.1")
    assert (caps.total, caps.unbound, caps.unbound_from("10.0.0.1")) == (1, 0, 0)
    assert caps.admit("10.0.0.1") is None


def test_binds_from_one_address_are_not_held_to_its_cap() -> None:
    caps = limits(total=1000, per_address=3, unbound=5)
    for _ in range(200):
        assert caps.admit("10.0.0.1") is None
        caps.bound("10.0.0.1")
    assert (caps.total, caps.unbound_from("10.0.0.1")) == (200, 0)


def test_bound_connections_still_count_against_max_connections() -> None:
    caps = limits(total=2, per_address=3)
    for _ in range(2):
        caps.admit("10.0.0.1")
        caps.bound("10.0.0.1")
    assert caps.admit("10.0.0.2") is ConnectionRefusal.MAX_CONNECTIONS


def test_unbound_connections_from_an_address_full_of_binds_are_still_held_to_its_cap() -> None:
    caps = limits(per_address=2, unbound=100)
    for _ in range(10):
        caps.admit("10.0.0.1")
        caps.bound("10.0.0.1")
    assert [caps.admit("10.0.0.1") for _ in range(3)] == [None, None, ConnectionRefusal.PER_ADDRESS]


def test_the_per_address_cap_is_checked_first() -> None:
    caps = limits(total=1, per_address=1, unbound=1)
    caps.admit("10.0.0.1")
    assert caps.admit("10.0.0.1") is ConnectionRefusal.PER_ADDRESS
    assert caps.admit("10.0.0.2") is ConnectionRefusal.MAX_CONNECTIONS


def test_a_released_connection_gives_every_slot_back_and_its_address_is_forgotten() -> None:
    caps = limits()
    caps.admit("10.0.0.1")
    caps.admit("10.0.0.1")
    caps.bound("10.0.0.1")
    caps.release("10.0.0.1", bound=True)
    caps.release("10.0.0.1", bound=False)
    assert (caps.total, caps.unbound, caps.unbound_from("10.0.0.1")) == (0, 0, 0)


def test_a_released_bound_connection_leaves_the_unbound_count_of_its_address_alone() -> None:
    caps = limits()
    caps.admit("10.0.0.1")
    caps.bound("10.0.0.1")
    caps.admit("10.0.0.1")
    caps.release("10.0.0.1", bound=True)
    assert (caps.total, caps.unbound, caps.unbound_from("10.0.0.1")) == (1, 1, 1)


def test_moving_a_connection_counts_it_under_its_real_address() -> None:
    caps = limits(per_address=3)
    caps.admit("192.0.2.10")  # the proxy, until its header names the client
    assert caps.move("192.0.2.10", "10.0.0.7") is None
    assert (caps.unbound_from("192.0.2.10"), caps.unbound_from("10.0.0.7")) == (0, 1)


def test_moving_to_an_address_at_its_cap_is_refused_and_changes_nothing() -> None:
    caps = limits(per_address=1)
    caps.admit("10.0.0.7")
    caps.admit("192.0.2.10")
    assert caps.move("192.0.2.10", "10.0.0.7") is ConnectionRefusal.PER_ADDRESS
    assert (caps.unbound_from("192.0.2.10"), caps.unbound_from("10.0.0.7")) == (1, 1)
