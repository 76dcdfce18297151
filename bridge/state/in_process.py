"""Token buckets and leases kept in the process, for the backends that one process owns.

A memory or SQLite store belongs to one process (the file is locked), and every bind it
counts dies with that process, so these need no persistence: a restart starts with full
buckets and no leases, which is exactly the truth. The arithmetic is the one the Redis
scripts use, so every backend gives the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.state.arguments import check_lease
from bridge.state.results import TokensTaken


def refill(tokens: float, updated_at: float, *, rate: float, burst: float, now: float) -> float:
    return min(burst, tokens + max(0.0, now - updated_at) * rate)


def take_from(tokens: float, *, rate: float, count: float) -> TokensTaken:
    """Take `count` from a refilled bucket holding `tokens`."""
    if tokens >= count:
        return TokensTaken(granted=True, tokens=tokens - count, wait_s=0.0)
    wait = (count - tokens) / rate if rate > 0 else float("inf")
    return TokensTaken(granted=False, tokens=tokens, wait_s=wait)


def check_bucket(rate: float, burst: float, count: float) -> None:
    if rate < 0 or burst <= 0 or count <= 0:
        raise ValueError("a token bucket needs rate >= 0, burst > 0 and count > 0")


class TokenBuckets:
    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        check_bucket(rate, burst, count)
        tokens, updated_at = self._buckets.get(bucket, (burst, now))
        taken = take_from(
            refill(tokens, updated_at, rate=rate, burst=burst, now=now), rate=rate, count=count
        )
        self._buckets[bucket] = (taken.tokens, max(now, updated_at))
        return taken

    def level(self, bucket: str, *, rate: float, burst: float, now: float) -> float:
        check_bucket(rate, burst, 1.0)
        tokens, updated_at = self._buckets.get(bucket, (burst, now))
        return refill(tokens, updated_at, rate=rate, burst=burst, now=now)


class Leases:
    __slots__ = ("_groups",)

    def __init__(self) -> None:
        # group -> holder -> the time its lease ends
        self._groups: dict[str, dict[str, float]] = {}

    def acquire(self, group: str, holder: str, *, limit: int, now: float, ttl_s: float) -> bool:
        holders = self._live(group, now)
        if holder not in holders and len(holders) >= limit:
            return False
        holders[holder] = now + ttl_s
        self._groups[group] = holders
        return True

    def renew(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        renewed: list[bool] = []
        for group, holder in leases:
            holders = self._live(group, now)
            if holder in holders:
                holders[holder] = now + ttl_s
                renewed.append(True)
            else:
                renewed.append(False)
        return tuple(renewed)

    def release(self, group: str, holder: str) -> bool:
        holders = self._groups.get(group, {})
        found = holders.pop(holder, None) is not None
        if not holders:
            self._groups.pop(group, None)
        return found

    def count(self, group: str, *, now: float) -> int:
        return len(self._live(group, now))

    def _live(self, group: str, now: float) -> dict[str, float]:
        holders = {h: until for h, until in self._groups.get(group, {}).items() if until > now}
        if holders:
            self._groups[group] = holders
        else:
            self._groups.pop(group, None)
        return holders


class InProcessCluster:
    """The ClusterStore half of a backend one process owns: its buckets and leases live in
    the process (see the module's docstring). The memory and SQLite stores inherit it."""

    _buckets: TokenBuckets
    _leases: Leases

    def _start_cluster(self) -> None:
        self._buckets = TokenBuckets()
        self._leases = Leases()

    async def take_tokens(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        return self._buckets.take(bucket, rate=rate, burst=burst, count=count, now=now)

    async def bucket_level(self, bucket: str, *, rate: float, burst: float, now: float) -> float:
        return self._buckets.level(bucket, rate=rate, burst=burst, now=now)

    async def acquire_lease(
        self, group: str, holder: str, *, limit: int, now: float, ttl_s: float
    ) -> bool:
        check_lease(limit, ttl_s)
        return self._leases.acquire(group, holder, limit=limit, now=now, ttl_s=ttl_s)

    async def renew_leases(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        return self._leases.renew(leases, now=now, ttl_s=ttl_s)

    async def release_lease(self, group: str, holder: str) -> bool:
        return self._leases.release(group, holder)

    async def lease_count(self, group: str, *, now: float) -> int:
        return self._leases.count(group, now=now)
