"""A raw HTTP/1.1 server on loopback answering each request with scripted bytes: the replies
and faults no real server can be asked for (a reply cut short, a reset, junk, silence)."""

from __future__ import annotations

import asyncio
import enum
import ssl
from dataclasses import dataclass, field


class End(enum.Enum):
    """What the server does on the connection once a script's bytes are written."""

    KEEP = "keep"  # read the next request
    CLOSE = "close"  # close it (FIN)
    RESET = "reset"  # abort it (RST)
    HANG = "hang"  # neither answer nor close: the client's deadline ends it


@dataclass(frozen=True, slots=True, kw_only=True)
class Script:
    """The answer to one request: `pieces` written one by one, `pause_s` apart."""

    pieces: tuple[bytes, ...] = ()
    pause_s: float = 0.0
    end: End = End.KEEP
    # Close the connection this long after the answer, if no request came first (an idle
    # keep-alive connection closed by the server).
    idle_close_s: float | None = None


def reply(
    body: bytes = b"2000 = SUCCESS:1690100001",
    *,
    status: str = "200 OK",
    headers: tuple[str, ...] = ("Content-Type: text/html",),
    length: bool = True,
) -> bytes:
    """A whole reply: status line, headers (Content-Length unless `length=False`), body."""
    lines = [f"HTTP/1.1 {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*chunks: bytes, trailer: bytes = b"") -> bytes:
    """A chunked reply carrying `chunks` (then the last chunk and any trailer)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return head + framed + b"0\r\n" + trailer + b"\r\n"


@dataclass
class ScriptedServer:
    """Answers the n-th request with scripts[n] (the last one again past the end)."""

    scripts: list[Script]
    tls: ssl.SSLContext | None = None
    connections: int = 0  # connections accepted
    open_connections: int = 0  # connections not yet ended by either side
    most_open: int = 0  # the most open at once
    requests: list[bytes] = field(default_factory=list)  # every request, head and body
    _server: asyncio.Server | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stopped.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{port}/isms_send_all_id.php"

    def _script(self) -> Script:
        return self.scripts[min(len(self.requests) - 1, len(self.scripts) - 1)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_connections += 1
        self.most_open = max(self.most_open, self.open_connections)
        try:
            await self._exchanges(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    async def _exchanges(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        idle_s: float | None = None
        while True:
            try:
                async with asyncio.timeout(idle_s):
                    request = await read_request(reader)
            except TimeoutError:
                return  # idle for idle_close_s: the server closes it
            if request is None:
                return
            self.requests.append(request)
            script = self._script()
            for n, piece in enumerate(script.pieces):
                if n and script.pause_s:
                    await asyncio.sleep(script.pause_s)
                writer.write(piece)
                await writer.drain()
            if script.end is End.CLOSE:
                return
            if script.end is End.RESET:
                writer.transport.abort()
                return
            if script.end is End.HANG:
                await self._stopped.wait()
                return
            idle_s = script.idle_close_s


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request, head and body; None when the client closed between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + await reader.readexactly(length)
