"""IsmsClient on a FakeTransport: sent once, failover only when iSMS was certainly not reached,
and a mirror's breaker opened only by failures in a row (`breaker_failures`, default 5).

Every test counts the transport's calls, because "sent at most once" is the contract.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from bridge.upstream import (
    DEFAULT_BREAKER_FAILURES,
    BreakerState,
    ClientState,
    FakeTransport,
    HttpMethod,
    HttpReply,
    IsmsClient,
    IsmsCredentials,
    IsmsMessage,
    IsmsSettings,
    NotSent,
    Outcome,
    OutcomeUnknown,
    SeenRequest,
    SmsType,
    UpstreamError,
)

MIRRORS = tuple(f"https://mirror{i}.example/isms_send_all_id.php" for i in (1, 2, 3))
CREDENTIALS = IsmsCredentials(username="acme", password="s3cret-pw")
FAILURES = DEFAULT_BREAKER_FAILURES  # failed attempts in a row that open a breaker


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def ok(body: bytes = b"2000 = SUCCESS:1171081025") -> HttpReply:
    return HttpReply(status=200, body=body)


def by_mirror(*answers: HttpReply | UpstreamError) -> Callable[[SeenRequest], HttpReply]:
    """A handler answering mirror N with answers[N] (raising it if it is an error)."""

    def handle(request: SeenRequest) -> HttpReply:
        host = urlsplit(request.url).hostname
        index = next(i for i, url in enumerate(MIRRORS) if urlsplit(url).hostname == host)
        answer = answers[index]
        if isinstance(answer, UpstreamError):
            raise answer
        return answer

    return handle


def client_on(
    transport: FakeTransport, *, clock: Clock | None = None, **settings: object
) -> IsmsClient:
    config = IsmsSettings(**{"endpoints": MIRRORS, **settings})  # type: ignore[arg-type]
    return IsmsClient(config, transport=transport, clock=clock or Clock())


def message(destinations: tuple[str, ...] = ("60123456789",), ref: str = "esme1/7") -> IsmsMessage:
    return IsmsMessage(
        credentials=CREDENTIALS,
        destinations=destinations,
        text="hello",
        sms_type=SmsType.ASCII,
        reference=ref,
    )


async def test_accepted_message_gives_code_trx_id_and_the_mirror_used() -> None:
    transport = FakeTransport(by_mirror(ok(), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.code, result.trx_id) == (Outcome.ACCEPTED, 2000, "1171081025")
    assert (result.mirror, result.attempts, len(transport.requests)) == (MIRRORS[0], 1, 1)


async def test_refused_connection_moves_on_to_the_next_mirror() -> None:
    transport = FakeTransport(by_mirror(NotSent("connection refused"), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.mirror, result.attempts) == (Outcome.ACCEPTED, MIRRORS[1], 2)
    assert len(transport.requests) == 2


async def test_gateway_503_moves_on_to_the_next_mirror() -> None:
    transport = FakeTransport(by_mirror(HttpReply(status=503, body=b"<html>"), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.mirror) == (Outcome.ACCEPTED, MIRRORS[1])


async def test_read_timeout_is_an_unknown_outcome_and_is_never_resent() -> None:
    transport = FakeTransport(by_mirror(OutcomeUnknown("read timeout"), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.reason) == (Outcome.UNKNOWN, "read timeout")
    assert len(transport.requests) == 1


async def test_http_500_is_an_unknown_outcome_and_is_never_resent() -> None:
    transport = FakeTransport(by_mirror(HttpReply(status=500, body=b""), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.reason) == (Outcome.UNKNOWN, "HTTP 500")
    assert len(transport.requests) == 1


async def test_garbage_body_is_an_unknown_outcome_and_is_never_resent() -> None:
    transport = FakeTransport(by_mirror(ok(b"<html>Sorry</html>"), ok(), ok()))
    result = await client_on(transport).send(message())
    assert result.outcome is Outcome.UNKNOWN and "not an iSMS reply" in result.reason
    assert len(transport.requests) == 1


async def test_every_mirror_unreachable_is_not_sent_after_trying_each_once() -> None:
    transport = FakeTransport(by_mirror(*(NotSent("refused") for _ in MIRRORS)))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.code, result.attempts) == (Outcome.NOT_SENT, None, 3)
    assert [r.url for r in transport.requests] == list(MIRRORS)


async def test_with_every_breaker_open_a_message_is_not_sent_without_a_request() -> None:
    transport = FakeTransport(by_mirror(*(NotSent("refused") for _ in MIRRORS)))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    for _ in range(FAILURES):
        await client.send(message())  # each tries all three: the last opens every breaker
    clock.now += 10
    result = await client.send(message())
    assert (result.outcome, result.attempts) == (Outcome.NOT_SENT, 0)
    assert "circuit breaker is open, the next probe in 20.0s" in result.reason
    assert len(transport.requests) == 3 * FAILURES


async def test_in_a_total_outage_only_one_probe_per_mirror_and_cool_down_is_sent() -> None:
    transport = FakeTransport(by_mirror(*(HttpReply(status=503, body=b"") for _ in MIRRORS)))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    for _ in range(100):
        await client.send(message())
        clock.now += 1  # 100 messages over 100 s: three cool-downs end
    # The first five messages try all three (the fifth opens the breakers, at 4 s); then
    # three probes each 30 s (at 34, 64, 94 s).
    assert len(transport.requests) == 3 * FAILURES + 3 * 3


async def test_negative_code_is_a_rejection_with_that_code() -> None:
    transport = FakeTransport(by_mirror(ok(b"-1009 = INVALID DESTINATION NUMBER"), ok(), ok()))
    result = await client_on(transport).send(message())
    assert (result.outcome, result.code, result.trx_id) == (Outcome.REJECTED, -1009, None)


async def test_dead_mirror_is_skipped_once_its_breaker_opened() -> None:
    transport = FakeTransport(by_mirror(NotSent("refused"), ok(), ok()))
    client = client_on(transport)
    for _ in range(FAILURES):
        assert (await client.send(message())).attempts == 2
    after = await client.send(message())
    assert (after.mirror, after.attempts) == (MIRRORS[1], 1)
    assert len(transport.requests) == 2 * FAILURES + 1


async def test_a_refused_connection_is_one_vote_against_the_mirror() -> None:
    transport = FakeTransport(by_mirror(NotSent("refused"), ok(), ok()))
    client = client_on(transport)
    for _ in range(FAILURES - 1):
        await client.send(message())
    assert client.mirrors[0].state is BreakerState.CLOSED
    last_vote = await client.send(message())  # still tries mirror 1 first: the fifth refusal
    assert (last_vote.mirror, last_vote.attempts) == (MIRRORS[1], 2)
    assert client.mirrors[0].state is BreakerState.OPEN


async def test_after_the_cool_down_a_message_probes_the_first_mirror_again() -> None:
    answers: list[HttpReply | UpstreamError] = [NotSent("refused"), ok(), ok()]
    transport = FakeTransport(lambda r: by_mirror(*answers)(r))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    await client.send(message())
    answers[0] = ok()
    clock.now += 30
    probe = await client.send(message())
    assert (probe.mirror, probe.attempts) == (MIRRORS[0], 1)


async def test_mirror_that_timed_out_five_times_in_a_row_is_skipped_by_the_next_message() -> None:
    transport = FakeTransport(by_mirror(OutcomeUnknown("read timeout"), ok(), ok()))
    client = client_on(transport)
    results = [await client.send(message()) for _ in range(FAILURES)]
    assert {(r.outcome, r.mirror) for r in results} == {(Outcome.UNKNOWN, MIRRORS[0])}
    assert (await client.send(message())).mirror == MIRRORS[1]
    assert len(transport.requests) == FAILURES + 1  # each unknown outcome sent once, only


async def test_one_http_500_leaves_the_breaker_closed_and_the_next_goes_to_that_mirror() -> None:
    answers = iter([HttpReply(status=500, body=b"<html>oops</html>"), ok()])
    transport = FakeTransport(lambda request: next(answers))
    client = client_on(transport)
    first = await client.send(message())
    second = await client.send(message())
    assert (first.outcome, first.mirror) == (Outcome.UNKNOWN, MIRRORS[0])
    assert (second.outcome, second.mirror, second.attempts) == (Outcome.ACCEPTED, MIRRORS[0], 1)
    assert client.mirrors[0].state is BreakerState.CLOSED


async def test_a_success_between_unknown_outcomes_keeps_the_breaker_closed() -> None:
    failure = HttpReply(status=500, body=b"")
    answers = iter([failure] * (FAILURES - 1) + [ok()] + [failure] * (FAILURES - 1) + [ok()])
    transport = FakeTransport(lambda request: next(answers))
    client = client_on(transport)
    results = [await client.send(message()) for _ in range(2 * FAILURES)]
    assert {r.mirror for r in results} == {MIRRORS[0]}
    assert client.mirrors[0].state is BreakerState.CLOSED


async def test_a_500_on_one_mirror_and_an_html_page_on_the_other_do_not_cut() -> None:
    # When one failure opened a breaker, these two replies opened both, and every ESME
    # then got ESME_RSYSERR for the whole cool-down with nothing sent.
    faults: dict[bytes, tuple[HttpReply | UpstreamError, ...]] = {
        b"60000000500": (HttpReply(status=500, body=b"<html>500</html>"), ok()),
        b"60000002003": (NotSent("refused"), ok(b"<html>Down for maintenance</html>")),
    }

    def handle(request: SeenRequest) -> HttpReply:
        answers = next((a for number, a in faults.items() if number in request.body), (ok(),) * 2)
        return by_mirror(*answers)(request)

    transport = FakeTransport(handle)
    client = client_on(transport, endpoints=MIRRORS[:2])
    on_first = await client.send(message(("60000000500",)))
    on_second = await client.send(message(("60000002003",)))
    after = await client.send(message())
    assert (on_first.outcome, on_first.mirror) == (Outcome.UNKNOWN, MIRRORS[0])
    assert (on_second.outcome, on_second.mirror) == (Outcome.UNKNOWN, MIRRORS[1])
    assert (after.outcome, after.mirror, after.attempts) == (Outcome.ACCEPTED, MIRRORS[0], 1)
    assert [m.state for m in client.mirrors] == [BreakerState.CLOSED] * 2


async def test_a_failed_probe_opens_the_breaker_again_on_its_one_vote() -> None:
    answers: list[HttpReply | UpstreamError] = [NotSent("refused"), ok(), ok()]
    transport = FakeTransport(lambda r: by_mirror(*answers)(r))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    for _ in range(FAILURES):
        await client.send(message())
    clock.now += 30
    answers[0] = HttpReply(status=500, body=b"")
    probe = await client.send(message())
    after = await client.send(message())
    assert (probe.outcome, probe.mirror) == (Outcome.UNKNOWN, MIRRORS[0])
    assert (after.mirror, after.attempts) == (MIRRORS[1], 1)
    assert client.mirrors[0].state is BreakerState.OPEN


async def test_in_a_total_outage_under_load_the_breakers_open_and_only_probes_go_out() -> None:
    async def down(request: SeenRequest) -> HttpReply:
        await asyncio.sleep(0)  # every message in flight at once, answered in turn
        return HttpReply(status=503, body=b"")

    transport = FakeTransport(down)
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    opening = await asyncio.gather(*(client.send(message()) for _ in range(50)))
    assert {r.outcome for r in opening} == {Outcome.NOT_SENT}
    assert [m.state for m in client.mirrors] == [BreakerState.OPEN] * 3
    before = len(transport.requests)
    cut = await asyncio.gather(*(client.send(message()) for _ in range(1000)))
    clock.now += 30
    probed = await asyncio.gather(*(client.send(message()) for _ in range(1000)))
    assert {r.outcome for r in cut + probed} == {Outcome.NOT_SENT}
    assert len(transport.requests) - before == len(MIRRORS)  # one probe each, 2,000 messages


async def test_cancelled_send_frees_the_probe_for_the_next_message() -> None:
    gate = asyncio.Event()

    async def stall(request: SeenRequest) -> HttpReply:
        await gate.wait()
        return ok()

    clock = Clock()
    transport = FakeTransport(stall)
    client = client_on(transport, clock=clock)
    client.mirrors[0].state = BreakerState.OPEN  # failed earlier, cool-down just over
    client.mirrors[0].reopen_at = clock.now
    task = asyncio.create_task(client.send(message()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    assert (await client.send(message())).mirror == MIRRORS[0]


async def test_get_method_uses_the_transports_get() -> None:
    transport = FakeTransport(by_mirror(ok(), ok(), ok()))
    await client_on(transport, method=HttpMethod.GET).send(message())
    assert transport.requests[0].method == "GET"
    assert "agreedterm=YES" in transport.requests[0].url


async def test_more_destinations_than_allowed_per_request_is_refused_before_sending() -> None:
    transport = FakeTransport(by_mirror(ok(), ok(), ok()))
    client = client_on(transport, max_destinations_per_request=2)
    with pytest.raises(ValueError, match="at most 2"):
        await client.send(message(("60111111111", "60122222222", "60133333333")))
    assert transport.requests == []


async def test_unknown_outcome_is_logged_with_the_message_identity_and_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = FakeTransport(by_mirror(OutcomeUnknown("read timeout"), ok(), ok()))
    with caplog.at_level(logging.WARNING):
        await client_on(transport, method=HttpMethod.GET).send(message(ref="esme1/seq=42"))
    line = next(r.getMessage() for r in caplog.records if "outcome unknown" in r.getMessage())
    assert "esme1/seq=42" in line and "60123456789" in line and MIRRORS[0] in line
    assert "s3cret" not in caplog.text and "hello" not in caplog.text


async def test_account_failure_is_logged_at_error_once_a_minute_with_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    transport = FakeTransport(by_mirror(ok(b"-1003 = IP NOT ALLOWED"), ok(), ok()))
    client = client_on(transport, clock=clock)
    with caplog.at_level(logging.ERROR):
        await client.send(message())
        clock.now += 59
        await client.send(message())
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "whitelist" in errors[0].getMessage()
        clock.now += 1
        await client.send(message())
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2


async def test_accepted_rejected_and_unknown_each_come_from_exactly_one_request() -> None:
    answers = iter([ok(), ok(b"-1004"), HttpReply(status=500, body=b"")])
    transport = FakeTransport(lambda request: next(answers))
    client = client_on(transport)
    results = [await client.send(message()) for _ in range(3)]
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.UNKNOWN]
    assert len(transport.requests) == 3


async def test_client_lifecycle_closes_the_transport_and_refuses_reuse() -> None:
    transport = FakeTransport(by_mirror(ok(), ok(), ok()))
    async with client_on(transport) as client:
        opened = client.state
    assert opened is ClientState.OPENED
    assert transport.closed and client.state is ClientState.CLOSED
    with pytest.raises(RuntimeError, match="closed"):
        await client.send(message())


async def test_balance_moves_on_after_any_failure_because_reading_it_costs_nothing() -> None:
    transport = FakeTransport(by_mirror(OutcomeUnknown("read timeout"), ok(b"42.50"), ok()))
    reply = await client_on(transport).balance(CREDENTIALS)
    assert reply.credits == Decimal("42.50")
    assert transport.requests[1].url == "https://mirror2.example/isms_balance.php"


async def test_balance_raises_when_no_mirror_answers() -> None:
    transport = FakeTransport(by_mirror(*(NotSent("refused") for _ in MIRRORS)))
    with pytest.raises(NotSent):
        await client_on(transport).balance(CREDENTIALS)


async def test_in_an_outage_one_cut_message_is_logged_in_full_and_the_rest_summed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = FakeTransport(by_mirror(*(NotSent("refused") for _ in MIRRORS)))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=60.0)
    for _ in range(FAILURES):
        await client.send(message())  # each tries every mirror: its own line
    with caplog.at_level(logging.WARNING, logger="bridge.upstream.client"):
        for _ in range(30):
            await client.send(message())
            clock.now += 0.5  # 15 s of messages, every breaker open
    full = [r for r in caplog.records if "attempts=0 " in r.getMessage()]
    summaries = [r.getMessage() for r in caplog.records if "breakers cut" in r.getMessage()]
    assert len(full) == 2  # the first of the run, and the first after the 10 s summary
    assert summaries == [
        "isms breakers cut: 19 more messages not sent in 10.0s, no request made (every "
        "mirror's circuit breaker open); ESMEs got ESME_RSYSERR"
    ]


async def test_a_breaker_opening_is_logged_once_with_the_failures_in_a_row(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = FakeTransport(by_mirror(HttpReply(status=500, body=b""), ok(), ok()))
    client = client_on(transport, mirror_cooldown_s=30.0)
    with caplog.at_level(logging.INFO, logger="bridge.upstream.client"):
        for _ in range(FAILURES + 3):
            await client.send(message())
    opened = [r for r in caplog.records if "breaker opened" in r.getMessage()]
    assert [r.levelno for r in opened] == [logging.WARNING]
    assert opened[0].getMessage() == (
        f"isms breaker opened: mirror={MIRRORS[0]} failures=5 in a row, the last: HTTP 500; "
        "skipped for 30.0s, then one message probes it"
    )


async def test_a_breaker_closing_after_a_good_probe_is_logged_with_how_long_it_was_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[HttpReply | UpstreamError] = [NotSent("refused"), ok(), ok()]
    transport = FakeTransport(lambda r: by_mirror(*answers)(r))
    clock = Clock()
    client = client_on(transport, clock=clock, mirror_cooldown_s=30.0)
    for _ in range(FAILURES):
        await client.send(message())
    clock.now += 30
    answers[0] = ok()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bridge.upstream.client"):
        await client.send(message())
    assert [r.getMessage() for r in caplog.records] == [
        f"isms breaker closed: mirror={MIRRORS[0]} answered again after 30.0s open"
    ]
