"""Each adapter maps its library's failures to NotSent / OutcomeUnknown (loopback only); every
test runs over every adapter."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bridge.upstream import (
    MAX_REPLY_BYTES,
    HttpClientKind,
    HttpTransport,
    IsmsSandbox,
    IsmsSettings,
    NotSent,
    OutcomeUnknown,
    SandboxFaults,
    Timeouts,
    make_transport,
)
from bridge.upstream.aiohttp_transport import AiohttpTransport
from bridge.upstream.http11_transport import Http11Transport
from bridge.upstream.httpx_transport import HttpxTransport

from .scripted_server import Script, ScriptedServer, reply

# A deadline short enough to pass in a test, for the tests whose subject is a deadline.
SHORT = Timeouts(connect_s=0.2, total_s=0.3)
# For every other test: a loaded machine can pause the test process for longer than 0.3 s
# (a full garbage collection late in the suite), and the request would then rightly be
# NotSent or OutcomeUnknown for its deadline instead of for what the test is about.
PATIENT = Timeouts(connect_s=5, total_s=5)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SEND = b"un=isms&pwd=isms123&dstno=60123456789&msg=hi&type=1&agreedterm=YES"


@pytest.fixture(params=list(HttpClientKind), ids=lambda k: k.value)
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[HttpTransport]:
    made = make_transport(IsmsSettings(http_client=request.param, pool_size=4))
    yield made
    await made.aclose()


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(handler: RawHandler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/isms_send_all_id.php"


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    await reader.readexactly(length)


async def test_reply_carries_status_and_body(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    reply = await transport.post(sandbox.url(), SEND, FORM, PATIENT)
    assert reply.status == 200 and reply.body.startswith(b"2000 = SUCCESS:")


async def test_refused_connection_is_not_sent(transport: HttpTransport, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/isms_send_all_id.php"
    with pytest.raises(NotSent):
        await transport.post(url, SEND, FORM, PATIENT)


async def test_tls_handshake_failure_is_not_sent(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    # The sandbox speaks plain HTTP: the TLS handshake fails before any request is written.
    url = sandbox.url().replace("http://", "https://")
    with pytest.raises(NotSent):
        await transport.post(url, SEND, FORM, PATIENT)
    assert sandbox.send_requests == 0


async def test_a_url_the_library_cannot_parse_is_not_sent(transport: HttpTransport) -> None:
    # The library refuses it before any connection exists: its own error must not escape.
    with pytest.raises(NotSent):
        await transport.post("http://[::1/isms_send_all_id.php", SEND, FORM, PATIENT)


async def test_a_url_with_a_scheme_other_than_http_is_not_sent(transport: HttpTransport) -> None:
    # aiohttp >= 3.10 raises NonHttpUrlClientError, not an InvalidURL, before it connects.
    with pytest.raises(NotSent):
        await transport.post("ftp://127.0.0.1/isms_send_all_id.php", SEND, FORM, PATIENT)


async def test_gateway_status_is_a_reply_not_an_error(transport: HttpTransport) -> None:
    async with IsmsSandbox(faults=SandboxFaults(http_status=503)) as proxy:
        reply = await transport.post(proxy.url(), SEND, FORM, PATIENT)
    assert reply.status == 503


async def test_read_timeout_is_an_unknown_outcome(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    await open_connections(transport, sandbox, 1)
    slow = SEND.replace(b"60123456789", b"60000009010")  # answers after 1 s
    with pytest.raises(OutcomeUnknown, match="read timeout"):
        await transport.post(sandbox.url(), slow, FORM, SHORT)


async def test_connection_dropped_after_the_request_is_an_unknown_outcome(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    dropped = SEND.replace(b"60123456789", b"60000000000")
    with pytest.raises(OutcomeUnknown):
        await transport.post(sandbox.url(), dropped, FORM, PATIENT)


async def test_garbled_status_line_is_an_unknown_outcome(transport: HttpTransport) -> None:
    async def garble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server, url = await raw_server(garble)
    async with server:
        with pytest.raises(OutcomeUnknown):
            await transport.post(url, SEND, FORM, PATIENT)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_reply_larger_than_any_isms_reply_is_an_unknown_outcome(
    transport: HttpTransport, chunked: bool
) -> None:
    body = b"x" * (MAX_REPLY_BYTES + 1)

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if chunked:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        else:
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server, url = await raw_server(flood)
    async with server:
        with pytest.raises(OutcomeUnknown):
            await transport.post(url, SEND, FORM, PATIENT)


async def test_get_sends_no_body(transport: HttpTransport, sandbox: IsmsSandbox) -> None:
    query = SEND.decode()
    reply = await transport.get(f"{sandbox.url()}?{query}", {}, PATIENT)
    assert reply.status == 200 and sandbox.messages[-1].method == "GET"


SLOW = SEND.replace(b"60123456789", b"60000009010")  # the sandbox answers it after 1 s


async def open_connections(transport: HttpTransport, sandbox: IsmsSandbox, count: int) -> None:
    """`count` connections opened and back in the pool, so that a request's 0.3 s go to
    waiting for its reply: on a new connection a pause of the test's process (a full
    garbage collection in a long suite) can pass the deadline before the connection is
    had, and that request is then rightly NotSent."""
    await asyncio.gather(
        *(transport.post(sandbox.url(), SEND, FORM, PATIENT) for _ in range(count))
    )


async def test_a_deadline_passing_while_waiting_for_a_pooled_connection_is_not_sent(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    # The pool holds 4 connections, all busy with slow requests: the fifth never gets one.
    busy = [
        asyncio.ensure_future(transport.post(sandbox.url(), SLOW, FORM, PATIENT)) for _ in range(4)
    ]
    await asyncio.sleep(0.1)
    with pytest.raises(NotSent):
        await transport.post(sandbox.url(), SEND, FORM, SHORT)
    await asyncio.gather(*busy)
    assert sandbox.send_requests == 4


async def test_a_short_deadline_passes_while_a_longer_one_started_earlier_runs(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    await open_connections(transport, sandbox, 2)
    patient = asyncio.ensure_future(transport.post(sandbox.url(), SLOW, FORM, PATIENT))
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OutcomeUnknown, match="read timeout"):
        await transport.post(sandbox.url(), SLOW, FORM, SHORT)
    assert loop.time() - started < 0.9  # its own 0.3 s, not the other's 5 s or the 1 s reply
    assert (await patient).status == 200


async def test_a_deadline_later_than_one_that_ended_early_still_passes(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    # The first request ends at once, before its deadline; the second's deadline comes after
    # the first's would have.
    await open_connections(transport, sandbox, 2)
    first = asyncio.ensure_future(transport.post(sandbox.url(), SEND, FORM, SHORT))
    await asyncio.sleep(0.1)
    with pytest.raises(OutcomeUnknown, match="read timeout"):
        await transport.post(sandbox.url(), SLOW, FORM, SHORT)
    assert (await first).status == 200


async def test_a_cancellation_from_outside_is_not_turned_into_an_outcome(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    request = asyncio.ensure_future(transport.post(sandbox.url(), SLOW, FORM, PATIENT))
    await asyncio.sleep(0.1)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request


async def test_a_request_after_a_passed_deadline_is_answered(
    transport: HttpTransport, sandbox: IsmsSandbox
) -> None:
    await open_connections(transport, sandbox, 1)
    with pytest.raises(OutcomeUnknown):
        await transport.post(sandbox.url(), SLOW, FORM, SHORT)
    reply = await transport.post(sandbox.url(), SEND, FORM, PATIENT)
    assert reply.status == 200 and reply.body.startswith(b"2000 = SUCCESS:")


def with_tls(kind: HttpClientKind, ssl_context: ssl.SSLContext | None) -> HttpTransport:
    """The adapter of `kind` with the TLS context given (make_transport takes none)."""
    adapters = {
        HttpClientKind.AIOHTTP: AiohttpTransport,
        HttpClientKind.HTTPX: HttpxTransport,
        HttpClientKind.HTTP11: Http11Transport,
    }
    return adapters[kind](pool_size=4, keepalive_s=4, ssl_context=ssl_context)


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("kind", list(HttpClientKind), ids=lambda k: k.value)
async def test_tls_to_a_trusted_certificate_is_answered_on_one_kept_connection(
    kind: HttpClientKind, certificate: tuple[Path, Path]
) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    script = Script(pieces=(reply(),))
    async with ScriptedServer([script], tls=server_tls(certificate)) as server:
        transport = with_tls(kind, trusting)
        try:
            for _ in range(2):
                answer = await transport.post(server.url, SEND, FORM, PATIENT)
                assert answer.status == 200 and answer.body.startswith(b"2000 = SUCCESS:")
        finally:
            await transport.aclose()
    assert server.connections == 1


@pytest.mark.parametrize("kind", list(HttpClientKind), ids=lambda k: k.value)
async def test_tls_to_an_untrusted_certificate_is_not_sent(
    kind: HttpClientKind, certificate: tuple[Path, Path]
) -> None:
    async with ScriptedServer([Script(pieces=(reply(),))], tls=server_tls(certificate)) as server:
        transport = with_tls(kind, None)  # the system's trust store: the test CA is not in it
        try:
            with pytest.raises(NotSent):
                await transport.post(server.url, SEND, FORM, PATIENT)
        finally:
            await transport.aclose()
    assert server.requests == []
