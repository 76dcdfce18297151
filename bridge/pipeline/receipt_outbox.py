"""Delivery receipts on their way to the ESME: sent, held while nobody can take them, retried.

Rules (SMPP 3.4 Appendix B):
1. A receipt goes to the oldest receiver or transceiver session of the account that sent the
   message (`ReceiverRegistry.deliver` picks it).
2. No such session (LookupError): the receipt is held (held_receipts.py bounds count and age)
   and sent when a receiver or transceiver of that account binds, or at the next sweep when
   one has room again. While receipts are held, new ones queue behind them.
3. Sent, but no deliver_sm_resp within the session's response timer (ConnectionError): sent
   again after `retry_delay_s`, `attempts` times in all, then dropped with a log line.
4. Answered with an error status: a temporary one (throttled, queue full, temporary app
   error, system error) counts as an attempt and is retried like rule 3; any other means the
   ESME refuses that receipt for good, and it is dropped with a log line.
Nothing here blocks a submit: receipts run as tasks of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bridge.pdu import CommandStatus, DeliverSm, Tag, status_name
from bridge.pipeline.counters import PipelineCounters
from bridge.pipeline.held_receipts import HeldReceipt, HeldReceipts
from bridge.pipeline.seams import ReceiverRegistry, SessionInfo
from bridge.pipeline.settings import ReceiptSettings
from bridge.smpp import BindType

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
# Held receipts are sent this many at a time once a receiver is back (its window bounds
# how many can be in flight anyway; a busy receiver just holds the rest again).
_FLUSH_BATCH = 32


class ReceiptOutbox:
    __slots__ = ("_clock", "_counters", "_flushing", "_held", "_registry", "_settings", "_tasks")

    def __init__(
        self,
        registry: ReceiverRegistry,
        settings: ReceiptSettings,
        *,
        counters: PipelineCounters,
        clock: Callable[[], float],
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._counters = counters
        self._clock = clock
        self._held = HeldReceipts(
            max_per_account=settings.max_held_per_account, max_age_s=settings.max_held_age_s
        )
        self._tasks: set[asyncio.Task[object]] = set()
        self._flushing: dict[str, asyncio.Task[object]] = {}

    def held(self, system_id: str | None = None) -> int:
        return len(self._held) if system_id is None else self._held.count(system_id)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def send(self, system_id: str, pdu: DeliverSm) -> None:
        """Send a receipt to the account's receiver (in the background); hold it if none."""
        receipt = HeldReceipt(system_id=system_id, pdu=pdu, made_at=self._clock())
        if self._held.count(system_id) or system_id in self._flushing:
            self._hold(receipt)  # behind the ones already waiting (rule 2)
            return
        self._spawn(self._deliver(receipt))

    # --- SessionListener (bridge.server calls these for every bind and close) -------------

    def session_bound(self, context: SessionInfo) -> None:
        if context.bind_type in _RECEIVING and self._held.count(context.system_id):
            self._flush(context.system_id)

    def session_closed(self, context: SessionInfo) -> None:
        """Nothing to do: receipts in flight to that session fail over by themselves."""

    # --- housekeeping ---------------------------------------------------------------------

    def sweep(self) -> None:
        """Drop receipts held too long; retry held ones (a busy receiver may have room now)."""
        dropped = self._held.expire(now=self._clock())
        if dropped:
            self._dropped(dropped, "held longer than max_held_age_s with no receiver bound")
        for system_id in self._held.accounts():
            self._flush(system_id)

    async def aclose(self) -> None:
        tasks = [*self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        held = self._held.clear()
        if held:
            log.warning("event=receipts_lost_at_stop held=%d (no receiver was bound)", held)
            self._counters.receipts_dropped += held

    # --- the work -------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _flush(self, system_id: str) -> None:
        if system_id not in self._flushing:
            task = self._spawn(self._flush_account(system_id))
            self._flushing[system_id] = task
            task.add_done_callback(lambda _task: self._flushing.pop(system_id, None))

    async def _flush_account(self, system_id: str) -> None:
        while True:
            batch: list[HeldReceipt] = []
            while len(batch) < _FLUSH_BATCH:
                receipt, dropped = self._held.take(system_id, now=self._clock())
                if dropped:
                    self._dropped(dropped, "held longer than max_held_age_s")
                if receipt is None:
                    break
                batch.append(receipt)
            if not batch:
                return
            outcomes = await asyncio.gather(*(self._deliver(receipt) for receipt in batch))
            if not all(outcomes):
                return  # some went back on hold: nobody can take them now

    async def _deliver(self, receipt: HeldReceipt) -> bool:
        """Deliver one receipt with its retries; False when it went (back) on hold."""
        settings = self._settings
        message_id = _receipted_id(receipt.pdu)
        for attempt in range(1, settings.attempts + 1):
            try:
                response = await self._registry.deliver(receipt.system_id, receipt.pdu)
            except LookupError:
                self._hold(receipt)
                return False
            except ConnectionError as exc:
                problem = str(exc) or "no deliver_sm_resp"
            except Exception:
                # A bug costs this receipt (counted, logged once), never the other receipts.
                log.exception(
                    "event=receipt_failed system_id=%s message_id=%s", receipt.system_id, message_id
                )
                self._dropped(1, "internal error", message_id)
                return True
            else:
                status = response.command_status
                if status == CommandStatus.ESME_ROK:
                    self._counters.receipts_sent += 1
                    return True
                problem = f"deliver_sm_resp {status_name(status)}"
                if status not in _TEMPORARY_REFUSALS:
                    self._counters.receipts_refused += 1
                    log.info(
                        "event=receipt_refused system_id=%s message_id=%s status=%s",
                        receipt.system_id,
                        message_id,
                        status_name(status),
                    )
                    return True
            if attempt < settings.attempts:
                self._counters.receipts_retried += 1
                log.info(
                    "event=receipt_retry system_id=%s message_id=%s attempt=%d reason=%s",
                    receipt.system_id,
                    message_id,
                    attempt,
                    problem,
                )
                await asyncio.sleep(settings.retry_delay_s)
        self._dropped(1, f"no confirmation after {settings.attempts} attempts", message_id)
        return True

    def _hold(self, receipt: HeldReceipt) -> None:
        self._counters.receipts_held += 1
        dropped = self._held.hold(receipt, now=self._clock())
        if dropped:
            self._dropped(dropped, "too many receipts held for the account (oldest dropped)")

    def _dropped(self, count: int, reason: str, message_id: str = "") -> None:
        self._counters.receipts_dropped += count
        log.warning(
            "event=receipts_dropped count=%d reason=%s%s",
            count,
            reason,
            f" message_id={message_id}" if message_id else "",
        )


def _receipted_id(pdu: DeliverSm) -> str:
    value = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    return value if isinstance(value, str) else "?"
