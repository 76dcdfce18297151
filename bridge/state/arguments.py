"""Argument checks every backend makes the same way (a bad argument is the caller's bug)."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.state.results import RecordWrite


def check_enqueue(max_entries: int) -> None:
    if max_entries < 1:
        raise ValueError("max_entries must be at least 1")


def check_take(lease_s: float, limit: int) -> None:
    if lease_s <= 0 or limit < 1:
        raise ValueError("take needs lease_s > 0 and limit >= 1")


def check_put(max_records: int) -> None:
    if max_records < 1:
        raise ValueError("max_records must be at least 1")


def check_deleting(kind: str, deleting: tuple[str, str] | None) -> None:
    # Of another kind, so that a put's bound and result never depend on what it deletes.
    if deleting is not None and deleting[0] == kind:
        raise ValueError(f"a put of kind {kind!r} may not delete a record of its own kind")


def check_part(index: int, total: int) -> None:
    if total < 1 or not 1 <= index <= total:
        raise ValueError(f"part {index} of {total}: index must be within 1..total")


def check_lease(limit: int, ttl_s: float) -> None:
    if limit < 1 or ttl_s <= 0:
        raise ValueError("a lease needs limit >= 1 and ttl_s > 0")


def check_reserve(amount: int, limit: int) -> None:
    if amount < 1 or limit < 0:
        raise ValueError("a reservation needs amount >= 1 and limit >= 0")


def check_unreserve(amount: int) -> None:
    if amount < 1:
        raise ValueError("an amount given back must be at least 1")


def check_reserve_all(reservations: Sequence[tuple[str, int, int, float]]) -> None:
    counters = set()
    for counter, amount, limit, _expires_at in reservations:
        check_reserve(amount, limit)
        counters.add(counter)
    if len(counters) != len(reservations):
        raise ValueError("reserve_all takes each counter once")


def check_claim_and_put(
    kind: str,
    max_records: int,
    claim: RecordWrite | None,
    reservations: Sequence[tuple[str, int, int, float]],
) -> None:
    """claim_and_put's arguments, as every backend checks them."""
    check_put(max_records)
    check_reserve_all(reservations)
    if claim is not None:
        check_put(claim.max_records)
        check_deleting(kind, (claim.kind, claim.key))


def check_also(kind: str, deleting: tuple[str, str] | None, also_kind: str | None) -> None:
    # Of a kind of its own, so that it commutes with the put and its deletion.
    if also_kind is not None and also_kind in (kind, None if deleting is None else deleting[0]):
        raise ValueError(
            f"a put's `also` may not be of kind {also_kind!r}: the put's or its deletion's"
        )
