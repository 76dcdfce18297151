"""Per-account throughput: a token bucket per account, long messages count by parts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.smpp import AccountThrottles, TokenBucket, default_burst


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    system_id: str
    throughput_per_s: float | None = None
    throughput_burst: float | None = None


def test_a_new_bucket_is_full_and_grants_its_whole_burst_at_once() -> None:
    bucket = TokenBucket(rate=1.0, burst=5.0)
    assert [bucket.try_take(1, now=100.0) for _ in range(6)] == [True] * 5 + [False]


def test_a_long_message_costs_one_token_per_part() -> None:
    bucket = TokenBucket(rate=1.0, burst=5.0)
    assert bucket.try_take(3, now=0.0)
    assert not bucket.try_take(3, now=0.0)  # only 2 left
    assert bucket.try_take(2, now=0.0)


def test_a_refused_take_costs_nothing() -> None:
    bucket = TokenBucket(rate=1.0, burst=4.0)
    assert bucket.try_take(3, now=0.0)
    assert not bucket.try_take(2, now=0.0)
    assert bucket.available(now=0.0) == 1.0


def test_tokens_flow_back_at_the_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=10.0)
    assert bucket.try_take(10, now=0.0)
    assert not bucket.try_take(1, now=0.0)
    assert bucket.available(now=0.25) == pytest.approx(2.5)
    assert bucket.try_take(2, now=0.25)
    assert not bucket.try_take(1, now=0.25)


def test_the_bucket_never_holds_more_than_its_burst_after_a_long_idle() -> None:
    bucket = TokenBucket(rate=100.0, burst=3.0)
    bucket.try_take(1, now=0.0)
    assert bucket.available(now=3600.0) == 3.0


def test_a_message_with_more_parts_than_the_burst_passes_on_a_full_bucket_and_leaves_a_debt() -> (
    None
):
    bucket = TokenBucket(rate=1.0, burst=5.0)
    assert bucket.try_take(8, now=0.0)
    assert bucket.available(now=0.0) == -3.0
    assert not bucket.try_take(1, now=3.5)  # still 0.5 short of one token
    assert bucket.try_take(1, now=4.0)


def test_a_message_with_more_parts_than_the_burst_waits_for_a_full_bucket() -> None:
    bucket = TokenBucket(rate=1.0, burst=5.0)
    assert bucket.try_take(1, now=0.0)
    assert not bucket.try_take(8, now=0.0)
    assert bucket.try_take(8, now=1.0)


def test_a_request_without_a_message_costs_nothing_even_on_an_empty_bucket() -> None:
    bucket = TokenBucket(rate=1.0, burst=1.0)
    assert bucket.try_take(1, now=0.0)
    assert bucket.try_take(0, now=0.0)


def test_a_clock_that_steps_back_refills_nothing() -> None:
    bucket = TokenBucket(rate=1.0, burst=2.0)
    assert bucket.try_take(2, now=10.0)
    assert not bucket.try_take(1, now=5.0)
    assert bucket.available(now=10.5) == pytest.approx(0.5)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.5)])
def test_a_bucket_needs_a_positive_rate_and_room_for_one_part(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst)


@given(
    takes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=20), st.floats(min_value=0, max_value=5)),
        max_size=60,
    )
)
def test_over_any_run_no_more_is_granted_than_burst_plus_rate_times_elapsed_plus_one_oversize(
    takes: list[tuple[int, float]],
) -> None:
    rate, burst = 3.0, 5.0
    bucket = TokenBucket(rate=rate, burst=burst)
    now, granted, largest = 0.0, 0, 0
    for parts, step in takes:
        now += step
        if bucket.try_take(parts, now):
            granted += parts
            largest = max(largest, parts)
    # An oversize message may overdraw by at most its excess over the burst.
    assert granted <= burst + rate * now + max(0, largest - burst) + 1e-9


def test_the_default_burst_is_one_seconds_worth_and_at_least_one_part() -> None:
    assert default_burst(50.0) == 50.0
    assert default_burst(0.2) == 1.0


def test_all_binds_of_an_account_draw_on_one_shared_bucket() -> None:
    throttles = AccountThrottles(
        [Limit(system_id="esme1", throughput_per_s=1.0, throughput_burst=2.0)]
    )
    # Two sessions of esme1 charge the same system_id, so the second bind gets what is left.
    assert throttles.try_take("esme1", 1, now=0.0)
    assert throttles.try_take("esme1", 1, now=0.0)
    assert not throttles.try_take("esme1", 1, now=0.0)


def test_accounts_do_not_share_buckets() -> None:
    throttles = AccountThrottles(
        [
            Limit(system_id="esme1", throughput_per_s=1.0, throughput_burst=1.0),
            Limit(system_id="esme2", throughput_per_s=1.0, throughput_burst=1.0),
        ]
    )
    assert throttles.try_take("esme1", 1, now=0.0)
    assert throttles.try_take("esme2", 1, now=0.0)


def test_an_account_without_a_throughput_limit_is_never_throttled() -> None:
    throttles = AccountThrottles([Limit(system_id="esme1")])
    assert all(throttles.try_take("esme1", 100, now=0.0) for _ in range(1_000))
    assert throttles.bucket("esme1") is None


def test_a_limit_without_a_burst_gets_the_default_burst() -> None:
    throttles = AccountThrottles([Limit(system_id="esme1", throughput_per_s=20.0)])
    bucket = throttles.bucket("esme1")
    assert bucket is not None and bucket.burst == 20.0


def test_a_reload_that_keeps_the_limit_keeps_the_bucket_level() -> None:
    limit = Limit(system_id="esme1", throughput_per_s=1.0, throughput_burst=2.0)
    throttles = AccountThrottles([limit])
    assert throttles.try_take("esme1", 2, now=0.0)
    throttles.reload([Limit(system_id="esme1", throughput_per_s=1.0, throughput_burst=2.0)])
    assert not throttles.try_take("esme1", 1, now=0.0)


def test_a_reload_that_changes_the_limit_starts_a_full_bucket_at_the_new_size() -> None:
    throttles = AccountThrottles(
        [Limit(system_id="esme1", throughput_per_s=1.0, throughput_burst=2.0)]
    )
    assert throttles.try_take("esme1", 2, now=0.0)
    throttles.reload([Limit(system_id="esme1", throughput_per_s=5.0, throughput_burst=5.0)])
    assert throttles.try_take("esme1", 5, now=0.0)
    assert not throttles.try_take("esme1", 1, now=0.0)


def test_a_reload_drops_the_buckets_of_removed_accounts() -> None:
    throttles = AccountThrottles([Limit(system_id="esme1", throughput_per_s=1.0)])
    throttles.reload([])
    assert throttles.bucket("esme1") is None
