"""RequestRunner: each request charged, handed to the handler, answered as it completes.

Driven through a connection on a fake transport, as in production.
"""

from __future__ import annotations

import asyncio

import pytest

from bridge.pdu import CommandStatus, Pdu, QuerySm, QuerySmResp, SubmitSmResp
from bridge.server import SessionContext
from bridge.server.handlers import SubmitRequest

from .server_doubles import FakeAuthority, FakeHandler, Harness, settings, submit, until

ROK = CommandStatus.ESME_ROK


async def test_a_submit_goes_to_the_handler_with_the_session_and_is_answered_under_its_number() -> (
    None
):
    h = Harness()
    h.bind()
    [seq] = h.send(submit())
    await until(lambda: h.transport.written)
    [resp] = h.received()
    assert resp == SubmitSmResp(sequence_number=seq, message_id=f"m{seq}")
    context, request = h.handler.seen[0]
    assert (context.system_id, request.short_message) == ("esme1", b"hello")


async def test_answers_go_out_as_each_request_completes_not_in_arrival_order() -> None:
    first_may_finish = asyncio.Event()

    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        if request.short_message == b"slow":
            await first_may_finish.wait()
        return SubmitSmResp(message_id=request.short_message.decode())

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    slow, fast = h.send(submit(b"slow"), submit(b"fast"))
    await until(lambda: h.transport.written)
    first_may_finish.set()
    await until(lambda: len(h.transport.written) > 0 and h.connection.requests_in_flight == 0)
    assert [(r.sequence_number, r.message_id) for r in h.received()] == [
        (fast, "fast"),
        (slow, "slow"),
    ]


async def test_a_handler_exception_costs_one_rsyserr_answer_and_the_bind_stays_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        if request.short_message == b"boom":
            raise ValueError("pipeline bug")
        return SubmitSmResp(message_id="ok")

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    bad, good = h.send(submit(b"boom"), submit(b"fine"))
    await until(lambda: len(h.handler.seen) == 2 and not h.connection.requests_in_flight)
    answers = {r.sequence_number: r.command_status for r in h.received()}
    assert answers == {bad: CommandStatus.ESME_RSYSERR, good: ROK}
    failures = [r for r in caplog.records if "event=handler_failed" in r.getMessage()]
    assert len(failures) == 1
    assert "session=s1 peer=10.0.0.5:40112 system_id=esme1" in failures[0].getMessage()
    assert f"seq={bad}" in failures[0].getMessage() and failures[0].exc_info is not None
    assert not h.transport.closing


async def test_a_handler_answering_with_the_wrong_pdu_gets_rsyserr_sent_instead() -> None:
    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        return QuerySmResp(message_id="nonsense")

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    [seq] = h.send(submit())
    await until(lambda: h.transport.written)
    [resp] = h.received()
    assert isinstance(resp, SubmitSmResp)
    assert (resp.sequence_number, resp.command_status) == (seq, CommandStatus.ESME_RSYSERR)


async def test_a_message_over_the_throughput_is_answered_throttled_without_the_handler() -> None:
    h = Harness(authority=FakeAuthority(budget=2), handler=FakeHandler(parts=2))
    h.bind()
    first, second = h.send(submit(), submit())
    await until(lambda: not h.connection.requests_in_flight and len(h.transport.written) >= 2 * 17)
    answers = {r.sequence_number: r.command_status for r in h.received()}
    assert answers == {first: ROK, second: CommandStatus.ESME_RTHROTTLED}
    assert len(h.handler.seen) == 1
    assert h.authority.charged == [("esme1", 2)]


async def test_a_request_that_costs_no_parts_is_not_charged() -> None:
    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        return QuerySmResp(command_status=CommandStatus.ESME_RQUERYFAIL, message_id=None)

    h = Harness(authority=FakeAuthority(budget=0), handler=FakeHandler(answer, parts=0))
    h.bind()
    h.send(QuerySm(message_id="abc"))
    await until(lambda: h.transport.written)
    [resp] = h.received()
    assert resp.command_status == CommandStatus.ESME_RQUERYFAIL
    assert h.authority.charged == []


async def test_closing_the_connection_cancels_requests_still_in_flight() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("never reached")

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    h.send(submit())
    await started.wait()
    h.connection.connection_lost(None)
    await asyncio.wait_for(cancelled.wait(), 5)
    assert h.connection.requests_in_flight == 0


async def test_closing_the_connection_leaves_a_request_the_handler_must_finish_to_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An iSMS request in flight cannot be recalled: its task runs on, its answer is lost.
    release = asyncio.Event()
    cancelled: list[int] = []

    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.append(request.sequence_number)
            raise
        return SubmitSmResp(message_id=f"m{request.sequence_number}")

    h = Harness(handler=FakeHandler(answer))
    h.bind()
    kept, dropped = h.send(submit(), submit())
    await until(lambda: len(h.handler.seen) == 2)
    h.handler.finishing.add(kept)
    written = len(h.transport.written)
    h.connection.connection_lost(None)
    await until(lambda: cancelled == [dropped])
    assert h.connection.requests_in_flight == 1
    release.set()
    await until(lambda: not h.connection.requests_in_flight)
    assert len(h.transport.written) == written  # nothing more was written
    [line] = [r.getMessage() for r in caplog.records if "event=answer_lost" in r.getMessage()]
    assert f"seq={kept}" in line and f"message_id=m{kept}" in line


async def test_requests_in_flight_never_exceed_the_window_and_the_rest_are_throttled() -> None:
    # The window bounds the handler tasks a peer can make us hold.
    may_finish = asyncio.Event()

    async def answer(context: SessionContext, request: SubmitRequest) -> Pdu:
        await may_finish.wait()
        return SubmitSmResp(message_id="ok")

    h = Harness(handler=FakeHandler(answer), server_settings=settings(window=2))
    h.bind()
    numbers = h.send(*(submit() for _ in range(5)))
    await until(lambda: len(h.handler.seen) == 2)
    assert h.connection.requests_in_flight == 2
    refused = [(r.sequence_number, r.command_status) for r in h.received()]
    assert refused == [(seq, CommandStatus.ESME_RTHROTTLED) for seq in numbers[2:]]
    may_finish.set()
    await until(lambda: not h.connection.requests_in_flight)
    assert {(r.sequence_number, r.command_status) for r in h.received()} == {
        (seq, ROK) for seq in numbers[:2]
    }
    assert len(h.handler.seen) == 2


class FailingPartsHandler(FakeHandler):
    """Its part count raises for the text b"bad" (a bug in the pipeline's size rules)."""

    def parts(self, request: SubmitRequest) -> int:
        if getattr(request, "short_message", b"") == b"bad":
            raise ValueError("parts bug")
        return 1


async def test_a_failing_part_count_costs_that_request_one_rsyserr_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness(handler=FailingPartsHandler())
    h.bind()
    bad, good = h.send(submit(b"bad"), submit(b"fine"))
    await until(lambda: len(h.handler.seen) == 1 and not h.connection.requests_in_flight)
    answers = {r.sequence_number: r.command_status for r in h.received()}
    assert answers == {bad: CommandStatus.ESME_RSYSERR, good: ROK}
    assert [request.short_message for _context, request in h.handler.seen] == [b"fine"]
    failures = [r for r in caplog.records if "event=handler_failed" in r.getMessage()]
    assert len(failures) == 1 and f"seq={bad}" in failures[0].getMessage()
    assert not h.transport.closing
