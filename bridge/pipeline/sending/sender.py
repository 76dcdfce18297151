"""One iSMS request per batch of a message, inside its account's slot, never abandoned
half-way.

`SlottedSender.send` waits for a slot of the iSMS account (slots.py: urgent first when all
are busy), sends once, and resends once as type 2 after a -1012 refusal of type 1 (iSMS
refused before sending, so nothing was charged: outcome/statuses.py).

A request must never be cancelled once written: iSMS may already have the message, and
cancelling would leave it with no record anywhere. The server cancels a request's task when
its ESME disconnects, so there are two ways of sending:
- `send` runs the request in the caller's task (one task per submit) and, from the moment
  the slot is taken until the result is in, `must_finish` says so for that task: the server
  then leaves it to run to its end (its message record is kept, its answer goes to no one),
  while a task still waiting for a slot is cancelled and sends nothing.
- `send_apart` runs it in a task of its own that the caller's cancellation does not reach,
  for the requests a submit_multi makes at once (its batches run in tasks of asyncio.gather,
  which the server's task cancels with it). From the moment one batch has its slot,
  `must_finish` says so for the submit_multi's own task (`owner`): the server then leaves it
  to run to its end, all its batches, and its record is kept, as for `send` (one message to
  several destinations is completed, not cut between batches). A request whose caller was
  cancelled anyway ends all the same, and its outcome is logged with the message's
  reference and trx_id, so an operator can reconcile what the ESME will probably resend.
`aclose` waits for both kinds.

`send_batches` sends a submit_multi's batches together with `send_apart`. One batch failing
must not cost the others their answers: those iSMS accepted stay accepted, or the ESME's
retry of the whole request would send them twice. A batch whose request raised (a bug, not
an iSMS answer) may have reached iSMS: its destinations fail as an unknown outcome, logged
once with its reference, and the other batches keep their answers (the ESME resends only
what failed).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bridge.pipeline.outcome.statuses import unicode_retry
from bridge.pipeline.sending.slots import PrioritySlots
from bridge.pipeline.upkeep import PipelineCounters
from bridge.upstream import IsmsMessage, IsmsSender, Outcome, SendResult

log = logging.getLogger(__name__)


class SlottedSender:
    __slots__ = (
        "_counters",
        "_in_flight",
        "_orphans",
        "_owners",
        "_sender",
        "_slots",
        "_unfinished",
    )

    def __init__(
        self, sender: IsmsSender, slots: PrioritySlots, counters: PipelineCounters
    ) -> None:
        self._sender = sender
        self._slots = slots
        self._counters = counters
        # Tasks whose request is in flight (send), and every task that has sent, until it
        # ends: what aclose waits for.
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._unfinished: set[asyncio.Future[Any]] = set()
        # Tasks with send_apart requests in flight on their behalf, and how many.
        self._owners: dict[asyncio.Future[Any], int] = {}
        # send_apart's requests still running for ESMEs that have gone.
        self._orphans: set[asyncio.Future[SendResult]] = set()

    def must_finish(self, task: asyncio.Future[Any]) -> bool:
        """True while `task` has an iSMS request in flight (sent with `send`, or with
        `send_apart` on its behalf)."""
        return task in self._in_flight or task in self._owners

    async def send(
        self,
        message: IsmsMessage,
        *,
        urgent: bool,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> SendResult:
        """Send in the calling task, which `must_finish` protects while the request runs;
        `before` (the message's intent) is committed once the slot is had, before the
        request leaves, so that a message still waiting for its slot is known not sent."""
        account = message.credentials.username
        await self._slots.acquire(account, urgent=urgent)
        if before is not None:
            try:
                await before()
            except BaseException:
                self._slots.release(account)
                raise
        task = asyncio.current_task()
        assert task is not None  # always called from a request's task
        self._in_flight.add(task)
        self._track(task)
        try:
            return await self._send_in_slot(message)
        finally:
            self._in_flight.discard(task)
            self._slots.release(account)

    async def send_apart(
        self, message: IsmsMessage, *, urgent: bool, owner: asyncio.Future[Any]
    ) -> SendResult:
        """Send in a task of its own, which cancelling the caller does not cancel; `owner`
        (the request's task) must be finished while it runs."""
        account = message.credentials.username
        await self._slots.acquire(account, urgent=urgent)
        self._owners[owner] = self._owners.get(owner, 0) + 1
        self._track(owner)
        loop = asyncio.get_running_loop()
        sending = loop.create_task(self._send_in_slot(message))
        sending.add_done_callback(functools.partial(self._disowned, owner))
        # What asyncio.shield does, with one callback instead of three per message: the
        # outcome future is what this (cancellable) task waits on; the request task is not.
        outcome: asyncio.Future[SendResult] = loop.create_future()
        sending.add_done_callback(functools.partial(self._sent, account, outcome))
        try:
            return await outcome
        except asyncio.CancelledError:
            self._orphans.add(sending)
            sending.add_done_callback(self._orphan_done(message))
            raise

    async def send_batches(
        self, messages: Sequence[IsmsMessage], *, urgent: bool
    ) -> list[SendResult]:
        """Send each batch apart, all at once, on behalf of the calling task; each batch's
        result, a batch that raised an Exception as an unknown outcome (module docstring)."""
        owner = asyncio.current_task()
        assert owner is not None  # always called from a request's task
        sent = await asyncio.gather(
            *(self.send_apart(message, urgent=urgent, owner=owner) for message in messages),
            return_exceptions=True,
        )
        return batch_results(messages, sent)

    async def aclose(self) -> None:
        """Wait for the tasks that sent and for orphaned requests (each bounded by the
        client's own timeout); never cancels them."""
        # Not the closing task itself, if it sent (as a test does): it cannot wait for itself.
        waiting = (self._unfinished | self._orphans) - {asyncio.current_task()}
        if waiting:
            await asyncio.wait(waiting)

    def _track(self, task: asyncio.Future[Any]) -> None:
        """Keep `task` in what aclose waits for, until it ends."""
        if task not in self._unfinished:
            self._unfinished.add(task)
            task.add_done_callback(self._unfinished.discard)

    def _disowned(self, owner: asyncio.Future[Any], sending: asyncio.Future[SendResult]) -> None:
        left = self._owners[owner] - 1
        if left:
            self._owners[owner] = left
        else:
            del self._owners[owner]

    async def _send_in_slot(self, message: IsmsMessage) -> SendResult:
        result = await self._sender.send(message)
        retry = unicode_retry(message, result)
        if retry is not None:
            self._counters.unicode_retries += 1
            log.info("event=unicode_retry ref=%s", message.reference)
            result = await self._sender.send(retry)
        return result

    def _sent(
        self,
        account: str,
        outcome: asyncio.Future[SendResult],
        sending: asyncio.Future[SendResult],
    ) -> None:
        """The request ended: free its slot and pass its result on (unless nobody waits)."""
        self._slots.release(account)
        if outcome.done():  # cancelled: the ESME left; _orphan_done logs the result
            return
        if sending.cancelled():
            outcome.cancel()
        elif (error := sending.exception()) is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(sending.result())

    def _orphan_done(self, message: IsmsMessage) -> Callable[[asyncio.Future[SendResult]], None]:
        def done(sending: asyncio.Future[SendResult]) -> None:
            self._orphans.discard(sending)
            if sending.cancelled():
                return
            result = None if sending.exception() is not None else sending.result()
            log.warning(
                "event=answer_lost ref=%s outcome=%s code=%s trx_id=%s destinations=%s "
                "note='the ESME left before iSMS answered; it may resend'",
                message.reference,
                "error" if result is None else result.outcome.value,
                None if result is None else result.code,
                None if result is None else result.trx_id,
                ";".join(message.destinations),
            )

        return done


def batch_results(
    messages: Sequence[IsmsMessage], sent: Sequence[SendResult | BaseException]
) -> list[SendResult]:
    """Each batch's result from `asyncio.gather(..., return_exceptions=True)`.

    A batch that raised an Exception becomes an UNKNOWN outcome: its request may have been
    written. A CancelledError (or any other BaseException) is re-raised, never taken for
    a failed batch: the request is being cancelled, not answered.
    """
    for outcome in sent:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome
    return [
        _raised(message, outcome) if isinstance(outcome, BaseException) else outcome
        for message, outcome in zip(messages, sent, strict=True)
    ]


def _raised(message: IsmsMessage, error: BaseException) -> SendResult:
    log.error(
        "event=batch_failed ref=%s account=%s destinations=%s error=%s "
        "note='iSMS may have sent it: check the iSMS portal before resending'",
        message.reference,
        message.credentials.username,
        ";".join(message.destinations),
        type(error).__name__,
        exc_info=error,
    )
    return SendResult(
        outcome=Outcome.UNKNOWN,
        code=None,
        trx_id=None,
        mirror="",
        elapsed_s=0.0,
        attempts=0,
        reason=f"the bridge failed sending it ({type(error).__name__})",
    )
