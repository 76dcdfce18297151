"""The seams the application plugs into the server: typed Protocols, so it imports nothing above.

`server` decides nothing about business: who may bind, and what a submit means, come from
two objects that `bridge.app` passes in.

- `BindAuthority` judges every bind (credentials, source address, bind type, max binds) and
  charges each message to its account's throughput bucket.
- `SubmitHandler` answers every request the session hands up (`submit_sm`, `submit_multi`,
  `data_sm`, `query_sm`, `cancel_sm`, `replace_sm`). The message pipeline satisfies it.
- `SessionListener` hears of binds and closes (receipts held for an account go out when a
  receiver binds; metrics count sessions).

Everything crossing these seams is a frozen value made of builtins and `bridge.pdu` /
`bridge.smpp` types, so `pipeline` can satisfy the Protocols without importing `server`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from bridge.pdu import Pdu
from bridge.smpp import BindType, RequestPdu

# The requests a bound session hands to the application (SMPP 3.4 §4.4-§4.10): the session's
# own union, declared once in bridge.smpp, under the name this seam gives it.
SubmitRequest = RequestPdu


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """The remote end of a connection: an IPv4 or IPv6 address and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def peer_address(transport: asyncio.BaseTransport) -> Peer:
    """The source address of a new connection, as the socket reports it (`?:0` when it
    reports none, as a Unix socket or a closed one would)."""
    peername = transport.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        return Peer(host=str(peername[0]), port=int(peername[1]))
    return Peer(host="?", port=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContext:
    """Who is on the other end of a bound session; handed to the SubmitHandler with each request."""

    session_id: str
    peer: Peer
    system_id: str
    bind_type: BindType
    tls: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BindAttempt:
    """One bind request, as the authority needs to judge it (the password never reaches a log)."""

    session_id: str
    peer: Peer
    bind_type: BindType
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    interface_version: int = 0x34


@dataclass(frozen=True, slots=True, kw_only=True)
class BindVerdict:
    """The authority's answer to a bind.

    command_status: ESME_ROK, or the refusal (SMPP 3.4 §5.1.3: 0x0F unknown system_id, 0x0E
    wrong password, 0x0D any other refusal). reason: a short phrase for the log line, naming
    the rule ("address not allowed"), never the password. answer_delay_s: how long to hold
    a refusal back, so that guessing passwords from one address gets slower.
    """

    command_status: int
    reason: str = ""
    answer_delay_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.command_status == 0


class BindAuthority(Protocol):
    """Decides binds and meters traffic; sans-I/O, so `now` is passed in."""

    def decide(self, attempt: BindAttempt, bound_sessions: int, now: float) -> BindVerdict:
        """Judge a bind; `bound_sessions` is how many sessions the system_id holds right now."""
        ...

    def admit(self, system_id: str, parts: int, now: float) -> bool:
        """Charge `parts` message parts to the account; False answers ESME_RTHROTTLED (0x58)."""
        ...


class SubmitHandler(Protocol):
    """Answers the requests of bound sessions (the message pipeline, or a stand-in)."""

    def parts(self, request: SubmitRequest) -> int:
        """How many message parts the request costs against the account's throughput.

        0 for requests that carry no message (query_sm, cancel_sm): they are not charged.
        A long message counts by parts and submit_multi by parts times destinations, so an
        ESME cannot beat the limit with fewer, longer requests.
        """
        ...

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        """The response to `request` (its `*_resp` or a generic_nack).

        The server sets the response's sequence_number to the request's, so a handler need
        not. An exception is logged once with the session id and answered ESME_RSYSERR (0x08)
        for that request alone; the bind stays up.
        """
        ...

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        """True while the request's `task` is in a step that cannot be abandoned half-way
        (an iSMS request, which may already have been received and cannot be recalled).

        When a connection ends the server cancels its requests' tasks but these: they run to
        their end, and their answers, having nobody to go to, are logged as answer_lost.
        """
        ...

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        """`response`, the answer `handle` returned, was handed to the session's transport
        (or, its connection being gone, never will be). A deliver_sm that carries the
        response's message_id may be written from now on (SMPP 3.4 Appendix B: an ESME
        matches a receipt against the ids its responses gave it)."""
        ...


class SessionListener(Protocol):
    """Hears each bind that succeeds and each bound session that ends."""

    def session_bound(self, context: SessionContext) -> None: ...

    def session_closed(self, context: SessionContext) -> None: ...
