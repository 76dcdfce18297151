"""Delivery receipts on their way to the ESME: queued in the state store until confirmed.

Rules (SMPP 3.4 Appendix B):
1. A receipt goes to the oldest receiver or transceiver session of the account that sent the
   message (`ReceiverRegistry.deliver` picks it). It is queued per account in the state
   store first (its encoded deliver_sm), and the submit that owes it is answered only once
   that is committed, so a crash loses no receipt the ESME was promised.
2. Any instance holding a receiver or transceiver bind of the account drains that
   account's queue: a local enqueue or bind wakes it at once, and every housekeeping sweep
   asks the store whether entries made elsewhere (another instance sharing Redis, or a
   lease that lapsed) are due. Entries are leased to this instance while it delivers them
   (`LEASE_S`); one whose lease ends unacknowledged (its instance died) is due again.
3. No receiver can take it now (LookupError): it goes back, due at once, and waits for a
   bind. The queue is bounded per account (`max_held_per_account`, the oldest dropped) and
   by age (`max_held_age_s`, from when the receipt was made).
4. Sent, but no deliver_sm_resp within the session's response timer (ConnectionError), or
   a temporary refusal (throttled, queue full, temporary app error, system error): due
   again after `retry_delay_s`, `attempts` times in all, then dropped with a log line. Any
   other error status means the ESME refuses that receipt for good: dropped, logged.
5. An entry leaves the queue only by ESME_ROK, a refusal, a bound, or its attempts: at least
   once, so a crash between the deliver_sm and its acknowledgement sends it again.
6. Receipts flow as a sliding window: an account's drain keeps as many deliver_sm in flight
   as the windows of its receiver and transceiver sessions here allow (`[smpp] window` each),
   and a slot that frees takes the next due receipt at once. An unanswered receipt costs
   only its own slot until its response timer fires, and its retry, due `retry_delay_s`
   later, holds no newer receipt back.
7. The wire order: a deliver_sm carrying message_id X is written only after the response
   carrying X was written to the session that submitted it (ESMEs match a receipt against
   the ids their responses gave them, and drop one they do not know yet). The receipt is
   queued before that response is written (rule 1), so its delivery waits for
   `answer_written(X)`, which the server calls once the response was handed to its
   transport. An answer that is never written (its task ended another way) holds its
   receipts back at most `ANSWER_WAIT_S`. This holds for receipts this process delivers;
   in a cluster another instance finds a receipt only at its next sweep.
Nothing here blocks a submit beyond the enqueue: deliveries run as tasks of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bridge.pdu import CommandStatus, DeliverSm, PduError, Tag, decode, encode, status_name
from bridge.pipeline.outcome.records import (
    RECEIPT_CONFIRMED,
    RECEIPT_DROPPED,
    RECEIPT_HELD,
    RECEIPT_REFUSED,
    RECEIPT_SENT,
)
from bridge.pipeline.seams import ReceiverRegistry, SessionInfo
from bridge.pipeline.settings import ReceiptSettings
from bridge.pipeline.upkeep import PipelineCounters
from bridge.smpp import BindType
from bridge.state import QueueEntry, QueueStore, StateError

log = logging.getLogger(__name__)

# deliver_sm_resp statuses that mean "not now" rather than "never" (SMPP 3.4 §5.1.3).
_TEMPORARY_REFUSALS = frozenset(
    {
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RSYSERR,
    }
)
_RECEIVING = frozenset({BindType.RECEIVER, BindType.TRANSCEIVER})
# At most this many receipts are taken from the store in one request (a receiver's window
# may be far larger; the drain takes again as soon as they are on their way).
_TAKE_AT_MOST = 64
# How long an instance holds the receipts it is delivering: longer than any response timer
# (a deliver_sm_resp later than this may see the receipt sent twice, which at-least-once
# allows), short enough that a dead instance's receipts are soon due again elsewhere.
LEASE_S = 120.0
# How long a receipt waits for its response to be written (rule 7) before it goes anyway: an
# answer is written within a turn of the event loop after its receipt is queued, so only an
# answer that was never written (a bug, a task that ended another way) waits this long.
ANSWER_WAIT_S = 5.0
# Receipts waiting for their answer, at most: far more than sessions x windows in flight.
_MAX_UNWRITTEN = 100_000

# Told the fate of a receipt once it left the queue: (account, message_id, fate).
ReceiptFate = Callable[[str, str, str], Awaitable[None]]


class ReceiptOutbox:
    __slots__ = (
        "_clock",
        "_closed",
        "_counters",
        "_draining",
        "_fate",
        "_owner",
        "_receivers",
        "_registry",
        "_settings",
        "_state",
        "_tasks",
        "_unwritten",
    )

    def __init__(
        self,
        registry: ReceiverRegistry,
        settings: ReceiptSettings,
        state: QueueStore,
        *,
        owner: str,
        counters: PipelineCounters,
        clock: Callable[[], float],
        fate: ReceiptFate,
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._state = state
        self._owner = owner
        self._counters = counters
        self._clock = clock
        self._fate = fate
        self._tasks: set[asyncio.Task[object]] = set()
        self._draining: dict[str, _Drain] = {}
        self._unwritten: dict[str, asyncio.Future[None]] = {}
        self._closed = False
        # Receiver and transceiver binds of each account held by this instance.
        self._receivers: dict[str, int] = {}

    async def held(self, system_id: str | None = None) -> int:
        """Receipts queued and not yet confirmed (held, or sent and unconfirmed)."""
        counts = await self._state.queue_counts(now=self._clock(), queue=system_id)
        return counts.ready + counts.leased

    async def oldest_held_at(self, system_id: str | None = None) -> float | None:
        """When the oldest of the receipts `held` counts was made (None: none is held)."""
        counts = await self._state.queue_counts(now=self._clock(), queue=system_id)
        return counts.oldest_made_at

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drop_held(self, system_id: str) -> int:
        """An operator drops the account's held receipts: every one due now (waiting for a
        receiver); those on their way to a receiver or waiting out a retry delay stay. How
        many were dropped (each logged in one receipts_dropped line, its fate recorded)."""
        owner = f"{self._owner}/drop"
        dropped: list[QueueEntry] = []
        while entries := await self._state.take(
            system_id, owner=owner, now=self._clock(), lease_s=LEASE_S, limit=_TAKE_AT_MOST
        ):
            for entry in entries:
                if await self._state.ack(system_id, entry.entry_id, owner=owner):
                    dropped.append(entry)
        if dropped:
            await self._dropped(tuple(dropped), "dropped by an operator")
        return len(dropped)

    async def send(self, system_id: str, pdu: DeliverSm) -> None:
        """Queue a receipt (committed when this returns; raises StateUnavailable when it
        cannot be), and wake this instance's delivery of it if a receiver is bound here."""
        enqueued = await self._state.enqueue(
            system_id,
            encode(pdu),
            now=self._clock(),
            max_entries=self._settings.max_held_per_account,
        )
        if enqueued.dropped:
            await self._dropped(
                enqueued.dropped, "too many receipts held for the account (oldest dropped)"
            )
        if not self._receivers.get(system_id):
            self._counters.receipts_held += 1
        self._wake(system_id)

    # --- SessionListener (bridge.server calls these for every bind and close) -------------

    def session_bound(self, context: SessionInfo) -> None:
        if context.bind_type in _RECEIVING:
            account = context.system_id
            self._receivers[account] = self._receivers.get(account, 0) + 1
            self._wake(account)

    def session_closed(self, context: SessionInfo) -> None:
        """Receipts in flight to that session fail over by themselves (rule 3)."""
        if context.bind_type in _RECEIVING:
            account = context.system_id
            left = self._receivers.get(account, 0) - 1
            if left > 0:
                self._receivers[account] = left
            else:
                self._receivers.pop(account, None)

    # --- housekeeping ---------------------------------------------------------------------

    async def sweep(self) -> None:
        """Drop receipts held too long; deliver what became due (made elsewhere, a lease
        that lapsed, a retry whose delay passed) to the receivers bound here."""
        now = self._clock()
        dropped = await self._state.drop_entries(made_before=now - self._settings.max_held_age_s)
        if dropped:
            await self._dropped(dropped, "held longer than max_held_age_s with no receiver bound")
        for account in tuple(self._receivers):
            if await self._state.has_ready(account, now=now):
                self._wake(account)

    async def recover(self, *, shared: bool) -> int:
        """At start: receipts sent but not confirmed before a crash are due again at once.
        A store this process owns alone (memory, SQLite) had only this process's leases;
        a shared one's lapse by themselves (rule 2). Returns how many receipts are due."""
        if not shared:
            await self._state.release_leases()
        for account in tuple(self._receivers):
            self._wake(account)
        return await self.held()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [*self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the work -------------------------------------------------------------------------

    def _wake(self, account: str) -> None:
        if self._closed or not self._receivers.get(account):
            return
        drain = self._draining.get(account)
        if drain is None or drain.ended:
            drain = _Drain()
            self._draining[account] = drain
            task = self._spawn(self._drain(account, drain))
            task.add_done_callback(lambda _: self._drained(account, drain))
        # A drain already running may have asked the store before this entry was there:
        # it asks once more before it waits or ends.
        drain.woken.set()

    def _drained(self, account: str, drain: _Drain) -> None:
        if self._draining.get(account) is drain:
            del self._draining[account]

    def _spawn(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _drain(self, account: str, drain: _Drain) -> None:
        """Rule 6: as many deliveries in flight as the account's receivers here have room
        for in their windows; the next due receipt starts as soon as one of them ends."""
        sending: set[asyncio.Task[object]] = set()
        stalled = False  # a receiver could not take one now: start no more, then end
        try:
            while self._receivers.get(account):
                drain.woken.clear()
                room = self._registry.delivery_window(account) - len(sending)
                if room > 0 and not stalled:
                    entries = await self._state.take(
                        account,
                        owner=self._owner,
                        now=self._clock(),
                        lease_s=LEASE_S,
                        limit=min(room, _TAKE_AT_MOST),
                    )
                    for entry in entries:
                        task = self._spawn(self._deliver(entry))
                        sending.add(task)
                        task.add_done_callback(drain.delivered)
                    if entries:
                        continue
                if not sending and (stalled or not drain.woken.is_set()):
                    break  # nothing due and nothing in flight: an enqueue or a bind wakes it
                await drain.woken.wait()
                for task in [task for task in sending if task.done()]:
                    sending.discard(task)
                    if not self._delivery_went_on(account, task):
                        stalled = True
        except StateError as exc:
            # The next sweep tries again; the entries stay queued (leases lapse by themselves).
            log.warning("event=receipt_queue_unavailable system_id=%s error=%r", account, str(exc))
        finally:
            # Synchronously with the decision to end, so that a wake from now on starts a
            # new drain instead of setting this one's event unheard.
            drain.ended = True

    def _delivery_went_on(self, account: str, task: asyncio.Task[object]) -> bool:
        """False when a delivery says this account's receipts cannot go out here now: no
        receiver could take it, or the store failed (it is logged here)."""
        if task.cancelled():
            return False
        exc = task.exception()
        if isinstance(exc, StateError):
            log.warning("event=receipt_queue_unavailable system_id=%s error=%r", account, str(exc))
            return False
        if exc is not None:
            log.error("event=receipt_failed system_id=%s", account, exc_info=exc)
            return False
        return bool(task.result())

    # --- the wire order rule (rule 7) -----------------------------------------------------

    def answer_pending(self, message_id: str) -> None:
        """A receipt for `message_id` is about to be queued while the response carrying that
        id is not written yet: its deliver_sm waits for `answer_written`."""
        gates = self._unwritten
        if len(gates) >= _MAX_UNWRITTEN:
            # Far more than can be in flight (sessions x windows): an answer that was never
            # written (its task ended another way) no longer holds its receipt back.
            self.answer_written(next(iter(gates)))
        gates[message_id] = asyncio.get_running_loop().create_future()

    def answer_written(self, message_id: str) -> None:
        """The response carrying `message_id` was handed to its session's transport (or
        could not be, its connection being gone): its receipts may go out."""
        gate = self._unwritten.pop(message_id, None)
        if gate is not None and not gate.done():
            gate.set_result(None)

    @property
    def awaits_answers(self) -> bool:
        return bool(self._unwritten)

    async def _after_answer(self, message_id: str) -> None:
        gate = self._unwritten.get(message_id)
        if gate is None:
            return
        await asyncio.wait((gate,), timeout=ANSWER_WAIT_S)
        if not gate.done():
            log.warning(
                "event=receipt_answer_not_written message_id=%s waited_s=%.0f",
                message_id,
                ANSWER_WAIT_S,
            )
            self.answer_written(message_id)

    async def _deliver(self, entry: QueueEntry) -> bool:
        """Deliver one receipt once; False when no receiver could take it now."""
        account = entry.queue
        try:
            pdu = decode(entry.body)
        except PduError:
            pdu = None
        if not isinstance(pdu, DeliverSm):
            await self._finish(entry, "?", RECEIPT_DROPPED, "not a stored deliver_sm")
            return True
        message_id = _receipted_id(pdu)
        if self._unwritten:
            await self._after_answer(message_id)
        # Written before the deliver_sm goes out, so that whatever becomes of it (written
        # after) is the fate that stays.
        await self._fate(account, message_id, RECEIPT_SENT)
        try:
            response = await self._registry.deliver(account, pdu)
        except LookupError:
            self._counters.receipts_held += 1
            await self._release(entry, not_before=self._clock(), attempts=entry.attempts)
            await self._fate(account, message_id, RECEIPT_HELD)
            return False
        except ConnectionError as exc:
            problem = str(exc) or "no deliver_sm_resp"
        except Exception:
            # A bug costs this receipt (counted, logged once), never the other receipts.
            log.exception("event=receipt_failed system_id=%s message_id=%s", account, message_id)
            await self._finish(entry, message_id, RECEIPT_DROPPED, "internal error")
            return True
        else:
            status = response.command_status
            if status == CommandStatus.ESME_ROK:
                self._counters.receipts_sent += 1
                await self._finish(entry, message_id, RECEIPT_CONFIRMED)
                return True
            problem = f"deliver_sm_resp {status_name(status)}"
            if status not in _TEMPORARY_REFUSALS:
                self._counters.receipts_refused += 1
                log.info(
                    "event=receipt_refused system_id=%s message_id=%s status=%s",
                    account,
                    message_id,
                    status_name(status),
                )
                await self._finish(entry, message_id, RECEIPT_REFUSED)
                return True
        attempts = entry.attempts + 1
        if attempts >= self._settings.attempts:
            reason = f"no confirmation after {self._settings.attempts} attempts"
            await self._finish(entry, message_id, RECEIPT_DROPPED, reason)
            return True
        self._counters.receipts_retried += 1
        log.info(
            "event=receipt_retry system_id=%s message_id=%s attempt=%d reason=%r",
            account,
            message_id,
            attempts,
            problem,
        )
        delay = self._settings.retry_delay_s
        await self._release(entry, not_before=self._clock() + delay, attempts=attempts)
        await self._fate(account, message_id, RECEIPT_HELD)
        # Due again after the delay: woken then, not at the next sweep.
        asyncio.get_running_loop().call_later(delay, self._wake, account)
        return True

    async def _release(self, entry: QueueEntry, *, not_before: float, attempts: int) -> None:
        await self._state.release(
            entry.queue, entry.entry_id, owner=self._owner, not_before=not_before, attempts=attempts
        )

    async def _finish(
        self, entry: QueueEntry, message_id: str, fate: str, reason: str = ""
    ) -> None:
        await self._state.ack(entry.queue, entry.entry_id, owner=self._owner)
        if fate == RECEIPT_DROPPED:
            self._counters.receipts_dropped += 1
            log.warning(
                "event=receipts_dropped count=1 reason=%r message_id=%s", reason, message_id
            )
        await self._fate(entry.queue, message_id, fate)

    async def _dropped(self, entries: tuple[QueueEntry, ...], reason: str) -> None:
        self._counters.receipts_dropped += len(entries)
        log.warning("event=receipts_dropped count=%d reason=%r", len(entries), reason)
        for entry in entries:
            try:
                pdu = decode(entry.body)
            except PduError:
                continue
            if isinstance(pdu, DeliverSm):
                await self._fate(entry.queue, _receipted_id(pdu), RECEIPT_DROPPED)


def _receipted_id(pdu: DeliverSm) -> str:
    value = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    return value if isinstance(value, str) else "?"


class _Drain:
    """One account's delivery loop, as its wakers see it."""

    __slots__ = ("ended", "woken")

    def __init__(self) -> None:
        self.woken = asyncio.Event()  # set by an enqueue, a bind, a delivery that ended
        self.ended = False

    def delivered(self, _task: asyncio.Task[object]) -> None:
        self.woken.set()
