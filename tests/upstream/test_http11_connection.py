"""`Http11Connection` on an in-memory transport: each reply fed whole, byte by byte, and with
bytes after it; the framing rules, the bounds, and when the connection may be used again."""

from __future__ import annotations

import asyncio

import pytest

from bridge.upstream import MAX_REPLY_BYTES, HttpReply, OutcomeUnknown
from bridge.upstream.http11_connection import MAX_FIELD_BYTES, Http11Connection

from .scripted_server import chunked, reply

REQUEST = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
SUCCESS = b"2000 = SUCCESS:1690100001"


class WireTransport(asyncio.Transport):
    """What the connection writes, kept; closing it as a socket transport would."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closing = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True


def connected() -> tuple[Http11Connection, WireTransport]:
    connection = Http11Connection(asyncio.get_running_loop())
    wire = WireTransport()
    connection.connection_made(wire)
    return connection, wire


def feed(connection: Http11Connection, raw: bytes, how: str) -> None:
    if how == "byte by byte":
        for n in range(len(raw)):
            connection.data_received(raw[n : n + 1])
    else:
        connection.data_received(raw)


# (name, the reply's bytes, what it reads as, whether the connection is kept)
REPLIES = [
    ("content-length", reply(), HttpReply(status=200, body=SUCCESS), True),
    (
        "chunked",
        chunked(b"2000 = ", b"SUCCESS:1690100001"),
        HttpReply(status=200, body=SUCCESS),
        True,
    ),
    (
        "interim 100 first",
        b"HTTP/1.1 100 Continue\r\n\r\n" + reply(),
        HttpReply(status=200, body=SUCCESS),
        True,
    ),
    ("no content", b"HTTP/1.1 204 No Content\r\n\r\n", HttpReply(status=204, body=b""), True),
    (
        "connection close",
        reply(headers=("Connection: close",)),
        HttpReply(status=200, body=SUCCESS),
        False,
    ),
    (
        "http/1.0",
        b"HTTP/1.0 200 OK\r\nContent-Length: 25\r\n\r\n" + SUCCESS,
        HttpReply(status=200, body=SUCCESS),
        False,
    ),
    (
        "http/1.0 keep-alive",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 25\r\n\r\n" + SUCCESS,
        HttpReply(status=200, body=SUCCESS),
        True,
    ),
]


@pytest.mark.parametrize(("name", "raw", "expected", "kept"), REPLIES, ids=[r[0] for r in REPLIES])
@pytest.mark.parametrize("how", ["whole", "byte by byte"])
async def test_a_reply_reads_the_same_whole_or_byte_by_byte(
    name: str, raw: bytes, expected: HttpReply, kept: bool, how: str
) -> None:
    connection, wire = connected()
    answer = connection.send(REQUEST)
    feed(connection, raw, how)
    assert await answer == expected
    assert wire.written == [REQUEST]  # the request in one write
    assert connection.reusable is kept
    assert connection.usable(0.0, 4.0) is kept


@pytest.mark.parametrize(("name", "raw", "expected", "kept"), REPLIES, ids=[r[0] for r in REPLIES])
async def test_bytes_after_a_reply_leave_it_read_and_the_connection_unused(
    name: str, raw: bytes, expected: HttpReply, kept: bool
) -> None:
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.data_received(raw + reply(b"nobody asked"))
    assert await answer == expected
    assert not connection.usable(0.0, 4.0) and wire.aborted


async def test_a_body_without_length_ends_with_the_connection() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply(length=False))
    assert not answer.done()
    connection.eof_received()
    connection.connection_lost(None)
    assert await answer == HttpReply(status=200, body=SUCCESS)
    assert not connection.usable(0.0, 4.0)


async def test_a_body_with_length_cut_by_the_connection_is_an_unknown_outcome() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply()[:-3])
    connection.connection_lost(None)
    with pytest.raises(OutcomeUnknown, match="before the reply ended"):
        await answer


async def test_a_reset_while_waiting_is_an_unknown_outcome() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.connection_lost(ConnectionResetError())
    with pytest.raises(OutcomeUnknown, match="ConnectionResetError"):
        await answer


async def test_bytes_on_an_idle_connection_end_it() -> None:
    # A server that answers "408 Request Timeout" on an idle connection before closing it.
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply())
    await answer
    connection.data_received(reply(b"", status="408 Request Timeout"))
    assert not connection.usable(0.0, 4.0) and wire.aborted


async def test_a_connection_the_server_closed_while_idle_is_not_usable() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply())
    await answer
    assert connection.usable(0.0, 4.0)
    connection.eof_received()
    assert not connection.usable(0.0, 4.0)


async def test_a_connection_idle_past_keepalive_is_not_usable() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply())
    await answer
    connection.idle_since = 10.0
    assert connection.usable(14.0, 4.0) and not connection.usable(14.1, 4.0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (reply(b"x" * (MAX_REPLY_BYTES + 1)), "over"),
        (chunked(b"x" * MAX_REPLY_BYTES, b"x"), "over"),
        (reply(headers=("X-Long: " + "y" * (MAX_FIELD_BYTES + 1),)), "header over"),
        # Many headers, each within the bound, the head past it.
        (reply(headers=tuple(f"X-{n}: {'y' * 1000}" for n in range(70))), "head over"),
        (b"NOT HTTP AT ALL\r\n\r\n", "malformed"),
    ],
    ids=["body over", "chunked body over", "header over", "head over", "garbled"],
)
async def test_a_reply_past_a_bound_or_not_http_is_an_unknown_outcome_and_ends_the_connection(
    raw: bytes, reason: str
) -> None:
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.data_received(raw)
    with pytest.raises(OutcomeUnknown, match=reason):
        await answer
    assert wire.aborted and not connection.usable(0.0, 4.0)


async def test_a_head_that_never_ends_is_stopped_one_read_past_the_bound() -> None:
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.data_received(b"HTTP/1.1 200 OK\r\nX-Endless: ")
    while not answer.done():
        connection.data_received(b"y" * 4096)
    with pytest.raises(OutcomeUnknown, match="head over"):
        await answer
    assert wire.aborted


async def test_switching_protocols_is_a_reply_that_ends_the_connection() -> None:
    # judge_attempt makes any 1xx an unknown outcome; the connection speaks something else now.
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
    )
    assert (await answer).status == 101
    assert wire.aborted and not connection.usable(0.0, 4.0)


async def test_a_body_of_the_largest_size_is_read_whole() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    connection.data_received(reply(b"x" * MAX_REPLY_BYTES))
    assert (await answer).body == b"x" * MAX_REPLY_BYTES


async def test_a_passed_deadline_fails_the_reply_and_a_late_reply_is_ignored() -> None:
    connection, wire = connected()
    answer = connection.send(REQUEST)
    connection.fail("read timeout")
    connection.data_received(reply())
    with pytest.raises(OutcomeUnknown, match="read timeout"):
        await answer
    assert wire.aborted and not connection.usable(0.0, 4.0)


async def test_a_cancelled_wait_leaves_the_connection_unusable() -> None:
    connection, _ = connected()
    answer = connection.send(REQUEST)
    answer.cancel()
    connection.data_received(reply())  # the reply arrives for nobody
    assert not connection.usable(0.0, 4.0)
