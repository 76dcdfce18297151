"""Operations sent to Redis in pipelines: everything of one event-loop turn in one round trip.

The Redis twin of the SQLite group commit: `call(script, *args)` queues one script run (or
one plain command) and the first call of a loop turn schedules the send; while a pipeline is
on the wire, new calls gather for the next one. So a submit whose writes are started
together (asyncio.gather, or simply in the same turn) costs one round trip, and so do a
hundred submits arriving at once.

Scripts run by EVALSHA; a server that does not know one (it restarted, or SCRIPT FLUSH)
answers NOSCRIPT without running anything, and those calls are sent again after SCRIPT LOAD.
Nothing else is ever retried: a pipeline that fails after it was written may have run, and a
second run of an enqueue would enqueue twice. Failures become StateUnavailable.

A `BatchCheck` rides at the head of every pipeline (the epoch marker, losses.py): one
more command in the same round trip, answered before any caller of that pipeline is.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from bridge.state.errors import StateUnavailable
from bridge.state.store import CommitObserver

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Script:
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        object.__setattr__(self, "sha", digest)


@dataclass(frozen=True, slots=True)
class _Call:
    script: Script | None
    args: tuple[Any, ...]
    future: asyncio.Future[Any]


class BatchCheck(Protocol):
    """A command sent at the head of every pipeline, and told its reply (or its error)."""

    def command(self) -> tuple[Script, tuple[Any, ...]]: ...

    def answered(self, reply: Any) -> None: ...


class BeforeSend(Protocol):
    """Awaited before each pipeline is sent (Sentinel: follow a moved primary); an error fails
    that pipeline's calls as StateUnavailable, as the pipeline's own would."""

    async def __call__(self) -> None: ...


def unavailable(exc: BaseException) -> StateUnavailable:
    return StateUnavailable(f"redis: {exc or type(exc).__name__}")


class RedisPipe:
    def __init__(
        self,
        client: Redis,
        *,
        observer: CommitObserver,
        check: BatchCheck | None = None,
        before: BeforeSend | None = None,
    ) -> None:
        self._client = client
        self._observer = observer
        self._check = check
        self._before = before
        self._turn: list[_Call] = []
        self._scheduled = False
        self._sending: asyncio.Task[None] | None = None
        self._closed = False
        self.round_trips = 0

    def call(self, script: Script | None, *args: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._closed:
            future.set_exception(StateUnavailable("the state store is closed"))
            return future
        self._turn.append(_Call(script, args, future))
        if not self._scheduled and self._sending is None:
            self._scheduled = True
            loop.call_soon(self._send_turn)
        return future

    async def aclose(self) -> None:
        self._closed = True
        while self._sending is not None or self._turn:
            if self._sending is None:
                self._send_turn()
            if self._sending is not None:
                await asyncio.shield(self._sending)

    def _send_turn(self) -> None:
        self._scheduled = False
        if self._sending is not None or not self._turn:
            return
        batch, self._turn = self._turn, []
        self._sending = asyncio.get_running_loop().create_task(self._send(batch))

    async def _send(self, batch: list[_Call]) -> None:
        try:
            started = time.perf_counter()
            calls = batch
            if self._check is not None:
                script, args = self._check.command()
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                calls = [_Call(script, args, future), *batch]
            try:
                if self._before is not None:
                    await self._before()
                replies = await self._execute(calls)
            except (RedisError, OSError) as exc:
                failure = unavailable(exc)
                self._observer.commit_failed(reason=failure.reason)
                for call in batch:
                    if not call.future.done():
                        call.future.set_exception(failure)
                return
            self._observer.committed(seconds=time.perf_counter() - started, operations=len(batch))
            if self._check is not None:
                try:
                    self._check.answered(replies[0])
                except Exception:  # a bug in the check must not strand the callers
                    log.exception("event=state_check_failed backend=redis")
                replies = replies[1:]
            for call, reply in zip(batch, replies, strict=True):
                if call.future.done():
                    continue  # its caller was cancelled
                if isinstance(reply, Exception):
                    call.future.set_exception(unavailable(reply))
                else:
                    call.future.set_result(reply)
        finally:
            self._sending = None
            if self._turn:
                self._send_turn()

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        replies = await self._pipeline(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            scripts = {batch[i].script for i in missing}
            pipe = self._client.pipeline(transaction=False)
            for script in scripts:
                assert script is not None
                pipe.execute_command("SCRIPT", "LOAD", script.source)
            await pipe.execute()
            self.round_trips += 1
            again = await self._pipeline([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, calls: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for call in calls:
            if call.script is None:
                pipe.execute_command(*call.args)
            else:
                pipe.execute_command("EVALSHA", call.script.sha, 0, *call.args)
        self.round_trips += 1
        return list(await pipe.execute(raise_on_error=False))
