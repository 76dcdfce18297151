"""One HTTP/1.1 connection to a mirror, on an asyncio Protocol, replies parsed by httptools.

Theory of operation. A connection carries one exchange at a time (HTTP/1.1 without
pipelining): `send` writes the whole request in one `transport.write` and returns the future
its reply resolves. llhttp (through httptools) parses the reply as bytes arrive and calls
back here; nothing is buffered but the body, and the body is bounded.

Rule 1: `send` is the line between NotSent and OutcomeUnknown. Before it, the connection is
checked (`usable`) and a dead one is never written to. From the `transport.write` call on,
every failure resolves the reply with `OutcomeUnknown`: the loop may send the bytes at once
(the selector loop) or at the end of the loop iteration (uvloop), and a failure after that
call cannot say how many of them left.
Rule 2: a connection is put back in the pool only after a complete reply that keeps it alive
(HTTP/1.1 without `Connection: close`, a body framed by Content-Length or chunks). A reply
framed by the end of the connection, a failure, bytes nobody asked for, or a passed deadline
end it.
Rule 3: interim replies (1xx but 101) are skipped; the final reply follows on the same bytes.
Rule 4: what a peer can make us hold or parse is bounded: the body at `MAX_REPLY_BYTES`, the
head (status line and headers, parsed as they arrive, not kept) at the same size, and each
header at aiohttp's 8190 bytes.
"""

from __future__ import annotations

import asyncio
import math
from typing import cast

import httptools

from bridge.upstream.errors import OutcomeUnknown
from bridge.upstream.transport import MAX_REPLY_BYTES, HttpReply

# The head is parsed as it arrives and not kept; this bounds only the work a peer can make
# us do before the reply's status and framing are known.
MAX_HEAD_BYTES = MAX_REPLY_BYTES
# One header's name or value, as aiohttp bounds them (its max_field_size).
MAX_FIELD_BYTES = 8190


class ReplyRefused(Exception):
    """Raised in a parser callback: the reply is not one to read on (its reason says why)."""


class Http11Connection(asyncio.Protocol):
    """A pooled connection; `Http11Transport` takes it, `send`s once, then puts it back."""

    __slots__ = (
        "_chunks",
        "_fed",
        "_head_size",
        "_headers_done",
        "_length_known",
        "_loop",
        "_parser",
        "_reply",
        "_size",
        "_transport",
        "closed",
        "deadline",
        "idle_since",
        "reusable",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        # The reply being waited for; None between exchanges and once it is resolved.
        self._reply: asyncio.Future[HttpReply] | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._fed = 0
        self._head_size = 0
        self._headers_done = False
        self._length_known = False
        self.closed = False
        # True only between a complete keep-alive reply and the next `send` (Rule 2).
        self.reusable = False
        self.idle_since = 0.0
        self.deadline = math.inf

    # -- what the transport asks ---------------------------------------------------------------

    def usable(self, now: float, keepalive_s: float) -> bool:
        """Fit to carry a request: alive, its last reply complete, idle for no longer than
        keepalive_s. A connection the server closed while idle is found here, before use."""
        transport = self._transport
        return (
            self.reusable
            and not self.closed
            and transport is not None
            and not transport.is_closing()
            and now - self.idle_since <= keepalive_s
        )

    def send(self, request: bytes) -> asyncio.Future[HttpReply]:
        """Write `request` (Rule 1: from here on the outcome of a failure is unknown)."""
        transport = self._transport
        assert transport is not None and self._reply is None, "send on a busy connection"
        reply: asyncio.Future[HttpReply] = self._loop.create_future()
        self._reply = reply
        self.reusable = False
        self._chunks = []
        self._size = self._fed = self._head_size = 0
        self._headers_done = self._length_known = False
        transport.write(request)
        return reply

    def close(self) -> None:
        """End the connection, letting what is written go out first."""
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """End the connection now, dropping anything still to be written."""
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._reply is None:
            # Bytes no request asked for (a 408 on an idle connection, junk after a reply):
            # whatever comes next on this connection cannot be trusted as a reply.
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            refused = exc.__context__
            if isinstance(refused, ReplyRefused):
                self.fail(str(refused))
            else:
                self.fail(f"malformed reply ({_parser_reason(exc)})")
            return
        except httptools.HttpParserUpgrade:
            # After a 101 (the reply, resolved with its status): what follows is no HTTP.
            self.fail("the server switched protocols: not an iSMS reply")
            return
        if not self._headers_done and self._reply is not None:
            # Still in the head after these bytes: httptools keeps a header being read whole,
            # so a head that never ends is stopped here, at most one read past the bound.
            self._fed += len(data)
            if self._fed > MAX_HEAD_BYTES:
                self.fail(f"reply head over {MAX_HEAD_BYTES} bytes is not an iSMS reply")

    def eof_received(self) -> bool | None:
        # The peer will send nothing more: a reply framed by the end of the connection is
        # complete now, any other is cut short (connection_lost, which follows, says which).
        self.closed = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        reply = self._reply
        if reply is None or reply.done():
            return
        if exc is None and self._headers_done and not self._length_known:
            # A body without Content-Length or chunks ends with the connection (RFC 9112
            # §6.3, rule 8): this is the whole reply.
            self._reply = None
            reply.set_result(
                HttpReply(status=self._parser.get_status_code(), body=b"".join(self._chunks))
            )
            return
        if exc is not None:
            self.fail(f"connection lost while waiting for the reply ({type(exc).__name__})")
        elif self._headers_done:
            self.fail("server closed the connection before the reply ended")
        else:
            self.fail("server closed the connection without a reply")

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._reply is None:
            # A second reply after the first in the same bytes: nobody asked for it.
            raise ReplyRefused("bytes after the reply")
        self._chunks = []
        self._size = 0
        self._headers_done = self._length_known = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(value) > MAX_FIELD_BYTES or len(name) > MAX_FIELD_BYTES:
            raise ReplyRefused(f"a reply header over {MAX_FIELD_BYTES} bytes")
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES:
            raise ReplyRefused(f"reply head over {MAX_HEAD_BYTES} bytes is not an iSMS reply")
        # Only the framing matters here (whether the body ends with the connection).
        if len(name) in (14, 17) and name.lower() in (b"content-length", b"transfer-encoding"):
            self._length_known = True

    def on_headers_complete(self) -> None:
        self._headers_done = True
        status = self._parser.get_status_code()
        if status in (204, 304) or (100 <= status < 200):
            self._length_known = True  # no body, whatever the headers say (RFC 9112 §6.3)

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_REPLY_BYTES:
            raise ReplyRefused(f"reply over {MAX_REPLY_BYTES} bytes is not an iSMS reply")
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        status = parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._headers_done = False  # Rule 3: the final reply's head follows
            return
        reply = self._reply
        if reply is None:
            return
        self._reply = None
        if reply.done():
            self.abort()  # its request was cancelled: nobody waits for this reply
            return
        self.reusable = parser.should_keep_alive() and not self.closed
        reply.set_result(HttpReply(status=status, body=b"".join(self._chunks)))

    def fail(self, reason: str) -> None:
        """End the exchange with OutcomeUnknown (Rule 1) and the connection with it: the
        request's deadline passed, the transport closed, or the reply cannot be read."""
        reply = self._reply
        self._reply = None
        self.abort()
        if reply is not None and not reply.done():
            reply.set_exception(OutcomeUnknown(reason))


def _parser_reason(exc: httptools.HttpParserError) -> str:
    """llhttp's reason, without the bytes it quotes (a reply can echo the request)."""
    name = type(exc).__name__
    reason = str(exc).split(":", 1)[0].strip()
    return f"{name}: {reason}" if reason else name
