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
Nothing here blocks a submit beyond the enqueue: deliveries run as tasks of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bridge.pdu import CommandStatus, DeliverSm, PduError, Tag, decode, encode, status_name
from bridge.pipeline.counters import PipelineCounters
from bridge.pipeline.records import (
    RECEIPT_CONFIRMED,
    RECEIPT_DROPPED,
    RECEIPT_HELD,
    RECEIPT_REFUSED,
    RECEIPT_SENT,
)
from bridge.pipeline.seams import ReceiverRegistry, SessionInfo
from bridge.pipeline.settings import ReceiptSettings
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
# Receipts are taken this many at a time (the receiver's window bounds how many can be in
# flight anyway; a busy receiver just leaves the rest due again).
_BATCH = 32
# How long an instance holds the receipts it is delivering: longer than any response timer
# (a deliver_sm_resp later than this may see the receipt sent twice, which at-least-once
# allows), short enough that a dead instance's receipts are soon due again elsewhere.
LEASE_S = 120.0

# Told the fate of a receipt once it left the queue: (account, message_id, fate).
ReceiptFate = Callable[[str, str, str], Awaitable[None]]


class ReceiptOutbox:
    __slots__ = (
        "_clock",
        "_counters",
        "_draining",
        "_fate",
        "_owner",
        "_receivers",
        "_registry",
        "_settings",
        "_state",
        "_tasks",
        "_woken",
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
        self._draining: dict[str, asyncio.Task[object]] = {}
        self._woken: set[str] = set()
        # Receiver and transceiver binds of each account held by this instance.
        self._receivers: dict[str, int] = {}

    async def held(self, system_id: str | None = None) -> int:
        """Receipts queued and not yet confirmed (held, or sent and unconfirmed)."""
        counts = await self._state.queue_counts(now=self._clock(), queue=system_id)
        return counts.ready + counts.leased

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

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
        tasks = [*self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the work -------------------------------------------------------------------------

    def _wake(self, account: str) -> None:
        if not self._receivers.get(account):
            return
        # A drain already running may have asked the store before this entry was there:
        # it asks once more before it ends.
        self._woken.add(account)
        running = self._draining.get(account)
        if running is None or running.done():
            task = self._spawn(self._drain(account))
            self._draining[account] = task
            task.add_done_callback(lambda done: self._drained(account, done))

    def _drained(self, account: str, task: asyncio.Task[object]) -> None:
        if self._draining.get(account) is task:
            del self._draining[account]

    def _spawn(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _drain(self, account: str) -> None:
        try:
            while self._receivers.get(account):
                self._woken.discard(account)
                entries = await self._state.take(
                    account, owner=self._owner, now=self._clock(), lease_s=LEASE_S, limit=_BATCH
                )
                if not entries:
                    if account in self._woken:
                        continue
                    return
                outcomes = await asyncio.gather(*(self._deliver(entry) for entry in entries))
                if not all(outcomes):
                    return  # nobody here can take them now: they are due again
        except StateError as exc:
            # The next sweep tries again; the entries stay queued (leases lapse by themselves).
            log.warning("event=receipt_queue_unavailable system_id=%s error=%s", account, exc)

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
            "event=receipt_retry system_id=%s message_id=%s attempt=%d reason=%s",
            account,
            message_id,
            attempts,
            problem,
        )
        not_before = self._clock() + self._settings.retry_delay_s
        await self._release(entry, not_before=not_before, attempts=attempts)
        await self._fate(account, message_id, RECEIPT_HELD)
        return True

    async def _release(self, entry: QueueEntry, *, not_before: float, attempts: int) -> None:
        await self._state.release(
            entry.queue, entry.entry_id, owner=self._owner, not_before=not_before, attempts=attempts
        )

    async def _finish(
        self, entry: QueueEntry, message_id: str, fate: str, reason: str = ""
    ) -> None:
        await self._state.ack(entry.queue, entry.entry_id)
        if fate == RECEIPT_DROPPED:
            self._counters.receipts_dropped += 1
            log.warning(
                "event=receipts_dropped count=1 reason=%s message_id=%s", reason, message_id
            )
        await self._fate(entry.queue, message_id, fate)

    async def _dropped(self, entries: tuple[QueueEntry, ...], reason: str) -> None:
        self._counters.receipts_dropped += len(entries)
        log.warning("event=receipts_dropped count=%d reason=%s", len(entries), reason)
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
