"""Per-account throughput limits: one token bucket per account, shared by all its binds.

An account's `throughput_per_s` is a token bucket rate and `throughput_burst` its
size; a submit over it is answered ESME_RTHROTTLED (0x58). A long message costs one token per
part, not one per PDU, so an ESME cannot beat the limit by sending fewer, longer messages.

Sans-I/O like the rest of the package: the caller passes `now` (any monotonic clock, seconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class TokenBucket:
    """`rate` tokens per second flow into a bucket that holds at most `burst`.

    The bucket starts full. A request for more tokens than `burst` could never be met by
    waiting, so it is granted when the bucket is full and leaves it in debt: a 10-part
    message on a 5-token account gets through, and the account then waits for the refill.
    """

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be more than 0 tokens per second, got {rate}")
        if not burst >= 1:
            raise ValueError(f"burst must be at least 1 token, got {burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None

    def available(self, now: float) -> float:
        """Tokens in the bucket at `now` (negative while in debt)."""
        self._refill(now)
        return self._tokens

    def try_take(self, n: int, now: float) -> bool:
        """Take `n` tokens (message parts) if the bucket allows it; False means throttle.

        `n == 0` (a query_sm or cancel_sm carries no message) costs nothing and is granted.
        """
        if n < 0:
            raise ValueError(f"cannot take a negative number of tokens ({n})")
        self._refill(now)
        if n == 0:
            return True
        if self._tokens >= n or (n > self.burst and self._tokens >= self.burst):
            self._tokens -= n
            return True
        return False

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        # A clock that steps back (it should not: callers pass a monotonic one) refills nothing.
        if self._last is None or now > self._last:
            self._last = now


class ThrottledAccount(Protocol):
    """What the throttle needs to know of an account (`bridge.config.AccountConfig` fits)."""

    @property
    def system_id(self) -> str: ...
    @property
    def throughput_per_s(self) -> float | None: ...
    @property
    def throughput_burst(self) -> float | None: ...


class AccountThrottles:
    """The token buckets of every account, keyed by system_id; no limit means no bucket."""

    __slots__ = ("_buckets",)

    def __init__(self, accounts: Iterable[ThrottledAccount]) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self.reload(accounts)

    def try_take(self, system_id: str, parts: int, now: float) -> bool:
        """Charge `parts` to the account; True lets the message through.

        An account without `throughput_per_s` is not limited. An unknown system_id (an
        account removed by a reload whose session is being unbound) is not limited either:
        its session is on its way out and must still get answers.
        """
        bucket = self._buckets.get(system_id)
        return True if bucket is None else bucket.try_take(parts, now)

    def bucket(self, system_id: str) -> TokenBucket | None:
        return self._buckets.get(system_id)

    def reload(self, accounts: Iterable[ThrottledAccount]) -> None:
        """Adopt a new account table (SIGHUP).

        A bucket whose rate and burst did not change keeps its level, so a reload is not a
        way to refill it; a changed limit starts a fresh, full bucket.
        """
        buckets: dict[str, TokenBucket] = {}
        for account in accounts:
            rate = account.throughput_per_s
            if rate is None:
                continue
            burst = account.throughput_burst
            if burst is None:
                burst = default_burst(rate)
            old = self._buckets.get(account.system_id)
            if old is not None and old.rate == rate and old.burst == burst:
                buckets[account.system_id] = old
            else:
                buckets[account.system_id] = TokenBucket(rate, burst)
        self._buckets = buckets


def default_burst(rate: float) -> float:
    """One second's worth of tokens, and never less than one message part."""
    return max(1.0, rate)
