"""The http11 adapter beside the aiohttp one: the same replies and faults, served by a scripted
loopback server, give both the same replies and the same failures (loopback only).

Each case's outcome is also written here by hand, so that a behaviour both adapters share by
mistake still fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from bridge.upstream import (
    MAX_REPLY_BYTES,
    HttpClientKind,
    HttpTransport,
    IsmsSettings,
    NotSent,
    OutcomeUnknown,
    Timeouts,
    make_transport,
)

from .scripted_server import End, Script, ScriptedServer, chunked, reply

PATIENT = Timeouts(connect_s=5, total_s=5)
SHORT = Timeouts(connect_s=0.3, total_s=0.3)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SEND = b"un=isms&pwd=isms123&dstno=60123456789&msg=hi&type=1&agreedterm=YES"

Outcome = tuple[object, ...]
OK: Outcome = ("reply", 200, b"2000 = SUCCESS:1690100001")
UNKNOWN: Outcome = ("OutcomeUnknown", "")
READ_TIMEOUT: Outcome = ("OutcomeUnknown", "read timeout")
NOT_SENT: Outcome = ("NotSent",)


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    scripts: tuple[Script, ...]
    # One outcome per request, the requests sent one after the other.
    expected: tuple[Outcome, ...]
    # Connections the server saw, when the case is about reuse.
    connections: int | None = None
    last_timeouts: Timeouts = PATIENT  # the other requests' are PATIENT
    between_s: float = 0.0


def once(*pieces: bytes, end: End = End.KEEP, pause_s: float = 0.0) -> tuple[Script, ...]:
    return (Script(pieces=pieces, end=end, pause_s=pause_s),)


SUCCESS = b"2000 = SUCCESS:1690100001"
HEAD_ONLY = b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n"
BIG = b"x" * MAX_REPLY_BYTES

CASES = [
    # -- replies, and whether the connection is used again --
    Case(
        name="content-length, kept alive", scripts=once(reply()), expected=(OK, OK), connections=1
    ),
    Case(
        name="chunked, kept alive",
        scripts=once(chunked(b"2000 = ", b"SUCCESS:", b"1690100001")),
        expected=(OK, OK),
        connections=1,
    ),
    Case(
        name="chunked with an extension and a trailer",
        scripts=once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"7;ext=1\r\n2000 = \r\n12\r\nSUCCESS:1690100001\r\n0\r\nX-Sum: 1\r\n\r\n"
        ),
        expected=(OK, OK),
        connections=1,
    ),
    Case(
        name="chunked, in pieces a few milliseconds apart",
        scripts=once(*(lambda r: (r[:60], r[60:75], r[75:]))(chunked(SUCCESS)), pause_s=0.005),
        expected=(OK,),
    ),
    Case(
        name="one byte at a time",
        scripts=once(*(bytes([b]) for b in reply()), pause_s=0.0005),
        expected=(OK,),
    ),
    Case(
        name="a body ended by the server closing the connection",
        scripts=once(reply(length=False), end=End.CLOSE),
        expected=(OK, OK),
        connections=2,
    ),
    Case(
        name="connection close, and the server closes",
        scripts=once(reply(headers=("Connection: close",)), end=End.CLOSE),
        expected=(OK, OK),
        connections=2,
    ),
    Case(
        name="connection close, and the server leaves it open",
        scripts=once(reply(headers=("Connection: close",))),
        expected=(OK, OK),
        connections=2,
    ),
    Case(
        name="http/1.0 without keep-alive is not used again",
        scripts=once(b"HTTP/1.0 200 OK\r\nContent-Length: 25\r\n\r\n" + SUCCESS),
        expected=(OK, OK),
        connections=2,
    ),
    Case(
        name="an interim 100 continue before the reply",
        scripts=once(b"HTTP/1.1 100 Continue\r\n\r\n", reply()),
        expected=(OK, OK),
        connections=1,
    ),
    Case(
        name="204 has no body",
        scripts=once(b"HTTP/1.1 204 No Content\r\n\r\n"),
        expected=(("reply", 204, b""), ("reply", 204, b"")),
        connections=1,
    ),
    Case(
        name="503 from a proxy is a reply",
        scripts=once(reply(b"<html>busy</html>", status="503 Service Unavailable")),
        expected=(("reply", 503, b"<html>busy</html>"),),
    ),
    Case(
        name="a redirect is a reply, not followed",
        scripts=once(reply(b"", status="302 Found", headers=("Location: http://127.0.0.1:9/",))),
        expected=(("reply", 302, b""),),
    ),
    Case(
        name="a body of the largest size is read whole",
        scripts=once(reply(BIG)),
        expected=(("reply", 200, BIG),),
    ),
    Case(
        name="the server closes the idle connection between requests",
        scripts=(Script(pieces=(reply(),), idle_close_s=0.05),),
        expected=(OK, OK),
        connections=2,
        between_s=0.3,
    ),
    # -- failures after the request was written: never NotSent --
    Case(
        name="over the size, content-length", scripts=once(reply(BIG + b"x")), expected=(UNKNOWN,)
    ),
    Case(
        name="over the size, chunked",
        scripts=once(chunked(BIG[:40_000], BIG[:40_000])),
        expected=(UNKNOWN,),
    ),
    Case(
        name="a header over 8190 bytes",
        scripts=once(reply(headers=("X-Long: " + "y" * 9000,))),
        expected=(UNKNOWN,),
    ),
    Case(
        name="a garbled status line", scripts=once(b"NOT HTTP AT ALL\r\n\r\n"), expected=(UNKNOWN,)
    ),
    Case(
        name="content-length and chunked both",
        scripts=once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n"
        ),
        expected=(UNKNOWN,),
    ),
    Case(
        name="a content-length that is no number",
        scripts=once(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello"),
        expected=(UNKNOWN,),
    ),
    Case(name="closed without a reply", scripts=once(end=End.CLOSE), expected=(UNKNOWN,)),
    Case(name="reset without a reply", scripts=once(end=End.RESET), expected=(UNKNOWN,)),
    Case(
        name="closed in the middle of the head",
        scripts=once(b"HTTP/1.1 200 OK\r\nContent-Ty", end=End.CLOSE),
        expected=(UNKNOWN,),
    ),
    Case(
        name="closed in the middle of the body",
        scripts=once(reply()[:-5], end=End.CLOSE),
        expected=(UNKNOWN,),
    ),
    Case(
        name="closed in the middle of a chunk",
        scripts=once(chunked(SUCCESS)[:-12], end=End.CLOSE),
        expected=(UNKNOWN,),
    ),
    Case(
        name="reset in the middle of the body",
        scripts=once(reply()[:-5], end=End.RESET),
        expected=(UNKNOWN,),
    ),
    # A first answer opens the connection, so the last request's 0.3 s all go to waiting.
    Case(
        name="never answers",
        scripts=(Script(pieces=(reply(),)), Script(end=End.HANG)),
        expected=(OK, READ_TIMEOUT),
        last_timeouts=SHORT,
    ),
    Case(
        name="the head, then silence",
        scripts=(Script(pieces=(reply(),)), Script(pieces=(HEAD_ONLY,), end=End.HANG)),
        expected=(OK, READ_TIMEOUT),
        last_timeouts=SHORT,
    ),
]


async def outcome(transport: HttpTransport, url: str, timeouts: Timeouts) -> Outcome:
    try:
        answer = await transport.post(url, SEND, FORM, timeouts)
    except NotSent:
        return NOT_SENT
    except OutcomeUnknown as exc:
        return ("OutcomeUnknown", "read timeout" if "read timeout" in exc.reason else "")
    return ("reply", answer.status, answer.body)


async def run_case(kind: HttpClientKind, case: Case) -> tuple[list[Outcome], int]:
    async with ScriptedServer(list(case.scripts)) as server:
        transport = make_transport(IsmsSettings(http_client=kind, pool_size=4))
        try:
            outcomes = []
            for n in range(len(case.expected)):
                if n and case.between_s:
                    await asyncio.sleep(case.between_s)
                last = n == len(case.expected) - 1
                timeouts = case.last_timeouts if last else PATIENT
                outcomes.append(await outcome(transport, server.url, timeouts))
        finally:
            await transport.aclose()
        return outcomes, server.connections


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_http11_answers_like_aiohttp(case: Case) -> None:
    by_aiohttp = await run_case(HttpClientKind.AIOHTTP, case)
    by_http11 = await run_case(HttpClientKind.HTTP11, case)
    assert by_http11 == by_aiohttp
    outcomes, connections = by_http11
    assert outcomes == list(case.expected)
    if case.connections is not None:
        assert connections == case.connections


async def test_refused_is_not_sent_by_both(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/isms_send_all_id.php"
    for kind in (HttpClientKind.AIOHTTP, HttpClientKind.HTTP11):
        transport = make_transport(IsmsSettings(http_client=kind, pool_size=4))
        try:
            assert await outcome(transport, url, PATIENT) == NOT_SENT
        finally:
            await transport.aclose()
