"""The two places an operator's decisions meet SMPP traffic, consulted without I/O:

- `SteeredAuthority` (a `BindAuthority`) refuses a bind the account's rules accept with
  ESME_RBINDFAIL while this instance drains or the account is suspended (mode
  refuse_binds); every other decision, and throughput, is the account authority's.
- `SteeredHandler` (a `SubmitHandler`) answers a message of an account suspended in the
  softer mode (throttle_submits) ESME_RTHROTTLED before the pipeline sees it; query_sm and
  the others still reach it.
"""

from __future__ import annotations

import asyncio

from bridge.app.admin.steering import Steering
from bridge.pdu import CommandStatus, DataSm, Pdu, SubmitMulti, SubmitSm
from bridge.server import (
    AccountAuthority,
    BindAttempt,
    BindVerdict,
    SessionContext,
    SubmitHandler,
    SubmitRequest,
)
from bridge.smpp import error_answer

_MESSAGES = (SubmitSm, SubmitMulti, DataSm)


class SteeredAuthority:
    __slots__ = ("_authority", "_steering")

    def __init__(self, authority: AccountAuthority, steering: Steering) -> None:
        self._authority = authority
        self._steering = steering

    def decide(self, attempt: BindAttempt, bound_sessions: int, now: float) -> BindVerdict:
        verdict = self._authority.decide(attempt, bound_sessions, now)
        # Only a bind the account's rules accept hears of a suspension or a drain: a wrong
        # password keeps its own answer and slowdown.
        refusal = self._steering.bind_refusal(attempt.system_id) if verdict.accepted else None
        if refusal is None:
            return verdict
        return BindVerdict(command_status=CommandStatus.ESME_RBINDFAIL, reason=refusal)

    def admit(self, system_id: str, parts: int, now: float) -> bool:
        return self._authority.admit(system_id, parts, now)


class SteeredHandler:
    __slots__ = ("_handler", "_steering")

    def __init__(self, handler: SubmitHandler, steering: Steering) -> None:
        self._handler = handler
        self._steering = steering

    @property
    def inner(self) -> SubmitHandler:
        """The handler every request the steering lets through goes to (the pipeline)."""
        return self._handler

    def parts(self, request: SubmitRequest) -> int:
        return self._handler.parts(request)

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        if self._steering.throttles(context.system_id) and isinstance(request, _MESSAGES):
            return error_answer(
                request.command_id, request.sequence_number, CommandStatus.ESME_RTHROTTLED
            )
        return await self._handler.handle(context, request)

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return self._handler.must_finish(task)

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        self._handler.answer_written(context, response)
