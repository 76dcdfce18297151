"""Rule 1: fail over only when the request certainly did not reach iSMS. Rule 2: the breaker
opens after `breaker_failures` failed attempts in a row, and a half-open probe's one vote
decides. Rule 3: cooling mirrors are a fallback while some breaker is closed. Rule 4: with
every breaker open, only the probes go out."""

from __future__ import annotations

import pytest

from bridge.upstream import (
    DEFAULT_BREAKER_FAILURES,
    BreakerState,
    HttpReply,
    Mirror,
    MirrorSet,
    NotSent,
    OutcomeUnknown,
    Verdict,
    judge_attempt,
    log_safe_url,
)

A, B, C = (f"https://{h}.example/isms_send_all_id.php" for h in "abc")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reply(status: int) -> HttpReply:
    return HttpReply(status=status, body=b"")


def fail(mirrors: MirrorSet, mirror: Mirror, times: int = 1) -> None:
    for _ in range(times):
        mirrors.record(mirror, healthy=False)


def open_breaker(mirrors: MirrorSet, mirror: Mirror) -> None:
    """As many failed attempts in a row as open a closed breaker."""
    fail(mirrors, mirror, mirrors.breaker_failures)


def cooled_down_first_mirror() -> tuple[Clock, MirrorSet, Mirror]:
    """Mirrors A, B where A failed and its 30 s cool-down has just ended."""
    clock = Clock()
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=clock)
    first = mirrors.mirrors[0]
    open_breaker(mirrors, first)
    clock.now += 30
    return clock, mirrors, first


@pytest.mark.parametrize(
    ("attempt", "verdict"),
    [
        (NotSent("connection refused"), Verdict.NOT_REACHED),
        (OutcomeUnknown("read timeout"), Verdict.UNKNOWN),
        (reply(200), Verdict.ANSWERED),
        (reply(204), Verdict.ANSWERED),
        (reply(502), Verdict.NOT_REACHED),
        (reply(503), Verdict.NOT_REACHED),
        (reply(504), Verdict.NOT_REACHED),
        (reply(500), Verdict.UNKNOWN),
        (reply(301), Verdict.UNKNOWN),
        (reply(404), Verdict.UNKNOWN),
        (reply(429), Verdict.UNKNOWN),
    ],
    ids=lambda v: getattr(v, "status", type(v).__name__),
)
def test_only_not_sent_and_gateway_statuses_allow_the_next_mirror(
    attempt: HttpReply | NotSent, verdict: Verdict
) -> None:
    assert judge_attempt(attempt) is verdict


def test_route_follows_the_configured_order_when_all_are_healthy() -> None:
    mirrors = MirrorSet([A, B, C], cooldown_s=30)
    assert [m.url for m in mirrors.route()] == [A, B, C]


def test_failed_mirror_is_skipped_during_its_cool_down() -> None:
    clock = Clock()
    mirrors = MirrorSet([A, B, C], cooldown_s=30, clock=clock)
    open_breaker(mirrors, mirrors.mirrors[0])
    clock.now += 29
    route = mirrors.route()
    assert next(route).url == B


def test_cooling_mirror_is_still_tried_last_when_every_healthy_one_failed() -> None:
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=Clock())
    open_breaker(mirrors, mirrors.mirrors[0])
    assert [m.url for m in mirrors.route()] == [B, A]


# -- Rule 2: when a breaker opens ------------------------------------------------------------


def test_one_failure_leaves_the_breaker_closed_and_the_mirror_first_in_line() -> None:
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=Clock())
    first = mirrors.mirrors[0]
    assert mirrors.record(first, healthy=False) is None
    assert (first.state, first.failures) == (BreakerState.CLOSED, 1)
    assert next(mirrors.route()) is first


def test_the_breaker_opens_by_default_on_the_fifth_failure_in_a_row() -> None:
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=Clock())
    first = mirrors.mirrors[0]
    fail(mirrors, first, 4)
    assert first.state is BreakerState.CLOSED
    assert DEFAULT_BREAKER_FAILURES == 5
    assert mirrors.record(first, healthy=False) is BreakerState.CLOSED  # it left CLOSED
    assert first.state is BreakerState.OPEN
    assert next(mirrors.route()).url == B


def test_the_breaker_opens_at_the_configured_number_of_failures() -> None:
    mirrors = MirrorSet([A, B], cooldown_s=30, breaker_failures=2, clock=Clock())
    first = mirrors.mirrors[0]
    fail(mirrors, first)
    assert first.state is BreakerState.CLOSED
    fail(mirrors, first)
    assert first.state is BreakerState.OPEN


def test_breaker_failures_of_one_opens_on_the_first_failure() -> None:
    mirrors = MirrorSet([A, B], cooldown_s=30, breaker_failures=1, clock=Clock())
    fail(mirrors, mirrors.mirrors[0])
    assert mirrors.mirrors[0].state is BreakerState.OPEN


def test_a_success_between_failures_starts_the_count_again() -> None:
    # Answers of concurrent messages, in the order they arrive: 4 failures, a success, 4.
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=Clock())
    first = mirrors.mirrors[0]
    fail(mirrors, first, 4)
    assert mirrors.record(first, healthy=True) is None  # it was closed and stays so
    fail(mirrors, first, 4)
    assert (first.state, first.failures) == (BreakerState.CLOSED, 4)
    fail(mirrors, first)
    assert first.state is BreakerState.OPEN


def test_failures_while_open_push_the_end_of_the_cool_down_back() -> None:
    clock = Clock()
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=clock)
    first = mirrors.mirrors[0]
    open_breaker(mirrors, first)
    clock.now += 10  # a message still in flight when it opened fails late
    assert mirrors.record(first, healthy=False) is None
    assert first.reopen_at == clock.now + 30


def test_a_success_while_open_closes_the_breaker() -> None:
    _, mirrors, first = cooled_down_first_mirror()  # open, not yet claimed by a probe
    assert mirrors.record(first, healthy=True) is BreakerState.OPEN
    assert (first.state, first.failures) == (BreakerState.CLOSED, 0)


def test_after_the_cool_down_one_message_probes_the_mirror() -> None:
    _, mirrors, first = cooled_down_first_mirror()
    assert next(mirrors.route()) is first
    assert first.state is BreakerState.HALF_OPEN


def test_while_a_probe_is_in_flight_other_messages_skip_the_mirror() -> None:
    _, mirrors, _ = cooled_down_first_mirror()
    next(mirrors.route())  # the probe
    assert next(mirrors.route()).url == B


def test_successful_probe_closes_the_breaker() -> None:
    _, mirrors, first = cooled_down_first_mirror()
    next(mirrors.route())
    mirrors.record(first, healthy=True)
    assert first.state is BreakerState.CLOSED
    assert next(mirrors.route()) is first


def test_failed_probe_reopens_the_breaker_on_its_one_vote() -> None:
    _, mirrors, first = cooled_down_first_mirror()
    next(mirrors.route())
    assert mirrors.record(first, healthy=False) is BreakerState.HALF_OPEN
    assert first.state is BreakerState.OPEN


def test_failed_probe_starts_a_new_cool_down() -> None:
    clock, mirrors, first = cooled_down_first_mirror()
    next(mirrors.route())
    mirrors.record(first, healthy=False)
    clock.now += 29
    assert next(mirrors.route()).url == B


def test_an_open_mirror_is_claimed_as_probe_only_when_a_message_reaches_it() -> None:
    clock = Clock()
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=clock)
    second = mirrors.mirrors[1]
    open_breaker(mirrors, second)
    clock.now += 30
    next(mirrors.route())  # A answers; the message never gets to B
    assert second.state is BreakerState.OPEN


def test_released_probe_lets_the_next_message_probe_again() -> None:
    _, mirrors, first = cooled_down_first_mirror()
    next(mirrors.route())
    mirrors.release(first)
    assert next(mirrors.route()) is first


def all_failed(clock: Clock) -> MirrorSet:
    """Mirrors A, B, C, each with its breaker opened at `clock.now` (30 s cool-downs)."""
    mirrors = MirrorSet([A, B, C], cooldown_s=30, clock=clock)
    for mirror in mirrors.mirrors:
        open_breaker(mirrors, mirror)
    return mirrors


def test_with_every_breaker_open_and_cooling_a_message_goes_nowhere() -> None:
    clock = Clock()
    mirrors = all_failed(clock)
    clock.now += 29
    assert mirrors.all_open
    assert list(mirrors.route()) == []


def test_with_every_breaker_open_the_next_probe_time_is_known() -> None:
    clock = Clock()
    mirrors = all_failed(clock)
    clock.now += 20
    assert mirrors.next_probe_in() == pytest.approx(10)


def test_with_every_breaker_open_each_cooled_mirror_gets_one_probe_per_cool_down() -> None:
    clock = Clock()
    mirrors = all_failed(clock)
    clock.now += 30
    assert [m.url for m in mirrors.route()] == [A, B, C]  # each is now a probe
    assert list(mirrors.route()) == []  # the probes are in flight: nothing else goes out


def test_with_every_breaker_open_only_the_mirror_whose_cool_down_ended_is_probed() -> None:
    clock = Clock()
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=clock)
    open_breaker(mirrors, mirrors.mirrors[1])
    clock.now += 10
    open_breaker(mirrors, mirrors.mirrors[0])
    clock.now += 20  # B's cool-down is over, A's is not
    assert [m.url for m in mirrors.route()] == [B]


def test_a_failed_probe_with_every_breaker_open_sends_nothing_until_the_next_cool_down() -> None:
    clock = Clock()
    mirrors = MirrorSet([A], cooldown_s=30, clock=clock)
    open_breaker(mirrors, mirrors.mirrors[0])
    clock.now += 30
    [probe] = mirrors.route()
    mirrors.record(probe, healthy=False)
    clock.now += 29
    assert list(mirrors.route()) == []
    clock.now += 1
    assert list(mirrors.route()) == [probe]


def test_a_message_that_saw_a_closed_breaker_still_falls_back_to_the_cooling_ones() -> None:
    clock = Clock()
    mirrors = MirrorSet([A, B], cooldown_s=30, clock=clock)
    open_breaker(mirrors, mirrors.mirrors[1])
    route = mirrors.route()
    first = next(route)
    fail(mirrors, first, mirrors.breaker_failures)  # A's breaker opens on this very message
    assert [m.url for m in route] == [B]


def test_mirror_set_needs_at_least_one_failure_to_open_a_breaker() -> None:
    with pytest.raises(ValueError, match="at least one failure"):
        MirrorSet([A], cooldown_s=30, breaker_failures=0)


def test_mirror_set_needs_an_endpoint() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MirrorSet([], cooldown_s=30)


def test_log_safe_url_drops_the_query_and_user_info() -> None:
    url = "https://user:secret@www.isms.com.my:8443/isms_send_all_id.php?un=a&pwd=secret"
    assert log_safe_url(url) == "https://www.isms.com.my:8443/isms_send_all_id.php"
