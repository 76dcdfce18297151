"""`Http11Transport` over loopback: the bytes it writes, its pool (bound, keep-alive, idle
expiry, reuse after a failure or a cancellation), and closing it."""

from __future__ import annotations

import asyncio

import pytest

from bridge.upstream import NotSent, OutcomeUnknown, Timeouts
from bridge.upstream.http11_transport import Http11Transport

from .scripted_server import End, Script, ScriptedServer, reply

PATIENT = Timeouts(connect_s=5, total_s=5)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SEND = b"un=isms&pwd=isms123&dstno=60123456789&msg=hi&type=1&agreedterm=YES"
ANSWER = Script(pieces=(reply(),))
# The reply 0.2 s after the request: requests overlap.
SLOW = Script(pieces=(b"", reply()), pause_s=0.2)


async def test_a_post_is_written_as_one_exact_message() -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=4)
        await transport.post(server.url, SEND, FORM, PATIENT)
        await transport.aclose()
        port = server.url.split(":")[2].split("/")[0]
    assert server.requests == [
        b"POST /isms_send_all_id.php HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{port}\r\n".encode()
        + b"User-Agent: isms-bridge\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(SEND)}\r\n\r\n".encode()
        + SEND
    ]


async def test_a_get_carries_its_query_and_no_body() -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=4)
        await transport.get(f"{server.url}?un=isms&pwd=x", {}, PATIENT)
        await transport.aclose()
    request = server.requests[0]
    assert request.startswith(b"GET /isms_send_all_id.php?un=isms&pwd=x HTTP/1.1\r\n")
    assert request.endswith(b"User-Agent: isms-bridge\r\n\r\n")
    assert b"Content-Length" not in request


@pytest.mark.parametrize(
    "headers",
    [{"X-Note": "a\r\nX-Injected: 1"}, {"X-Note\r\nX-Injected": "1"}, {"X-Note": "ü€"}],
    ids=["value with a line break", "name with a line break", "not latin-1"],
)
async def test_a_header_that_would_split_the_head_is_not_sent(headers: dict[str, str]) -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=4)
        with pytest.raises(NotSent):
            await transport.post(server.url, SEND, headers, PATIENT)
        await transport.aclose()
    assert server.connections == 0


async def test_a_url_with_a_space_is_not_sent() -> None:
    transport = Http11Transport(pool_size=4, keepalive_s=4)
    with pytest.raises(NotSent):
        await transport.post("http://127.0.0.1:1/isms send.php", SEND, FORM, PATIENT)
    await transport.aclose()


async def test_requests_one_after_another_share_one_connection() -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=4)
        for _ in range(5):
            assert (await transport.post(server.url, SEND, FORM, PATIENT)).status == 200
        await transport.aclose()
    assert server.connections == 1


async def test_an_idle_connection_is_closed_after_keepalive_s() -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=0.1)
        await transport.post(server.url, SEND, FORM, PATIENT)
        assert server.open_connections == 1
        await asyncio.sleep(0.4)
        assert server.open_connections == 0  # closed by the client, not left to the server
        await transport.post(server.url, SEND, FORM, PATIENT)
        await transport.aclose()
    assert server.connections == 2


async def test_keepalive_of_zero_opens_a_connection_per_request() -> None:
    async with ScriptedServer([ANSWER]) as server:
        transport = Http11Transport(pool_size=4, keepalive_s=0)
        for _ in range(3):
            await transport.post(server.url, SEND, FORM, PATIENT)
        await transport.aclose()
    assert server.connections == 3


async def test_the_pool_never_holds_more_connections_than_pool_size() -> None:
    async with ScriptedServer([SLOW]) as server:
        transport = Http11Transport(pool_size=2, keepalive_s=4)
        replies = await asyncio.gather(
            *(transport.post(server.url, SEND, FORM, PATIENT) for _ in range(6))
        )
        await transport.aclose()
    assert [r.status for r in replies] == [200] * 6
    assert server.most_open == 2 and server.connections == 2


async def test_a_connection_that_failed_is_replaced_for_the_next_request() -> None:
    async with ScriptedServer([Script(end=End.RESET), ANSWER]) as server:
        transport = Http11Transport(pool_size=1, keepalive_s=4)
        with pytest.raises(OutcomeUnknown):
            await transport.post(server.url, SEND, FORM, PATIENT)
        assert (await transport.post(server.url, SEND, FORM, PATIENT)).status == 200
        await transport.aclose()
    assert server.connections == 2


async def test_a_cancelled_request_frees_its_slot_and_its_connection_is_not_reused() -> None:
    async with ScriptedServer([Script(end=End.HANG), ANSWER]) as server:
        transport = Http11Transport(pool_size=1, keepalive_s=4)
        hung = asyncio.ensure_future(transport.post(server.url, SEND, FORM, PATIENT))
        await asyncio.sleep(0.1)
        hung.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hung
        assert (await transport.post(server.url, SEND, FORM, PATIENT)).status == 200
        await transport.aclose()
    assert server.connections == 2


async def test_a_request_waiting_for_the_pool_gets_the_connection_put_back() -> None:
    async with ScriptedServer([SLOW]) as server:
        transport = Http11Transport(pool_size=1, keepalive_s=4)
        first = asyncio.ensure_future(transport.post(server.url, SEND, FORM, PATIENT))
        await asyncio.sleep(0.05)
        second = await transport.post(server.url, SEND, FORM, PATIENT)
        assert second.status == 200 and (await first).status == 200
        await transport.aclose()
    assert server.connections == 1


async def test_closing_fails_requests_in_flight_and_refuses_new_ones() -> None:
    async with ScriptedServer([Script(end=End.HANG)]) as server:
        transport = Http11Transport(pool_size=1, keepalive_s=4)
        hung = asyncio.ensure_future(transport.post(server.url, SEND, FORM, PATIENT))
        waiting = asyncio.ensure_future(transport.post(server.url, SEND, FORM, PATIENT))
        await asyncio.sleep(0.1)
        await transport.aclose()
        with pytest.raises(OutcomeUnknown):
            await hung  # written: it may have been read
        with pytest.raises(NotSent):
            await waiting  # never had a connection
        with pytest.raises(NotSent):
            await transport.post(server.url, SEND, FORM, PATIENT)
    assert len(server.requests) == 1
