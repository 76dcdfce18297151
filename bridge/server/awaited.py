"""The ESME's responses that our own requests (deliver_sm, data_sm) wait for.

Each waits by sequence_number until its response arrives, its response timer expires, or
the connection ends; the last two fail it with DeliveryNotConfirmed (the ESME may or may
not have taken the message, so the receipt stays owed).
"""

from __future__ import annotations

import asyncio

from bridge.pdu import Pdu, command_name
from bridge.server.registry import DeliveryNotConfirmed


class AwaitedResponses:
    __slots__ = ("_loop", "_waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiting: dict[int, asyncio.Future[Pdu]] = {}

    def expect(self, sequence_number: int) -> asyncio.Future[Pdu]:
        """A future for the response to `sequence_number`; `forget` it once awaited."""
        waiter: asyncio.Future[Pdu] = self._loop.create_future()
        self._waiting[sequence_number] = waiter
        return waiter

    def forget(self, sequence_number: int) -> None:
        self._waiting.pop(sequence_number, None)

    def answered(self, request: Pdu, response: Pdu) -> None:
        waiter = self._waiting.get(request.sequence_number)
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def timed_out(self, request: Pdu) -> None:
        waiter = self._waiting.get(request.sequence_number)
        if waiter is not None and not waiter.done():
            waiter.set_exception(
                DeliveryNotConfirmed(
                    f"no {command_name(request.command_id)}_resp within the response timer"
                )
            )

    def closed(self, reason: str) -> None:
        """The connection ended: nothing still waiting will be answered."""
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(DeliveryNotConfirmed(reason))
