"""`MessagePipeline`: the one place where an SMPP request meets an iSMS request.

It satisfies `bridge.server.SubmitHandler` (`parts`, `handle`) and `SessionListener`
(`session_bound`, `session_closed`) without importing the server (which sits beside it,
not below):

    pipeline = MessagePipeline(sender=isms_client, registry=session_registry, routes=routes,
                               settings=PipelineSettings(...))
    registry.subscribe(pipeline)                # held receipts go out when a receiver binds
    SmppServer(..., handler=pipeline, registry=registry)
    ...
    await pipeline.aclose()                     # after the server has stopped

Theory of operation: submit_sm, data_sm and submit_multi take one way (`_submit`), a
submit_sm or data_sm being a message with one destination; the subpackages are its steps.
1. Refuse what iSMS cannot take before anything is taken: the account's route, the UDH/SAR
   fields, the data_coding, the destination(s) (checks/).
2. A part of a long message goes into the reassembly store; a non-final part is answered at
   once with its own message_id (the one documented exception to "never ack a message not
   handed to iSMS"); the completing part carries the whole message on (long_messages/).
3. The joined octets are decoded (so a pair cut between parts survives) and the length
   checked (checks/); then iSMS gets ONE request per batch of destinations, at most
   `upstream_concurrency` per iSMS account in flight, urgent submits first, each after the
   message's intent is committed, and a -1012 refusal of type 1 is sent once more as type 2
   (sending/).
4. The answer maps the iSMS results (outcome/statuses.py, outcome/answers.py); every
   message_id given out gets its fate recorded for query_sm and a receipt when asked
   (outcome/settlement.py). A completing part answered ESME_RSYSERR keeps its message for
   the ESME's retry (long_messages/retries.py).
5. The answer leaves only once what it obliges is committed to the state store (the
   message record, the receipts it owes, the part it kept): `handle` returns after the
   store's commit. When the store cannot commit (StateUnavailable), that answer is
   ESME_RSYSERR and, until a probe finds the store writable again, every submit is
   answered ESME_RSYSERR before anything is sent to iSMS.
An unexpected exception answers ESME_RSYSERR for that request alone, logged once; in one
batch of a submit_multi it fails that batch's destinations alone (sending/sender.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from bridge.pdu import (
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitSm,
    status_name,
)
from bridge.pipeline.checks.submission import (
    Refusal,
    Submission,
    check_length,
    checked,
    parts_of,
    text,
)
from bridge.pipeline.long_messages.assembly import Assembled, LongMessages
from bridge.pipeline.outcome.answers import Answer, answer_of, none_sent, response, submitted
from bridge.pipeline.outcome.message_ids import MessageIdGenerator
from bridge.pipeline.outcome.message_store import MessageStore, absolute_time
from bridge.pipeline.outcome.receipt_outbox import ReceiptOutbox
from bridge.pipeline.outcome.records import MESSAGE_KIND, RECEIPT_HELD, decode_record, record_key
from bridge.pipeline.outcome.refusals import RefusalRecords
from bridge.pipeline.outcome.resend import receipts_again
from bridge.pipeline.outcome.settlement import IssuedId, Settlement, Trace, message_trace
from bridge.pipeline.outcome.statuses import SubmitStatus
from bridge.pipeline.outcome.unsettled import Unsettled
from bridge.pipeline.policy.credits import pages, spent
from bridge.pipeline.policy.gate import Admitted, PolicyGate
from bridge.pipeline.refusal_log import RefusalLog
from bridge.pipeline.seams import MessagePdu, PipelineRequest, ReceiverRegistry, SessionInfo
from bridge.pipeline.sending.intents import Intent, Intents
from bridge.pipeline.sending.requests import isms_requests
from bridge.pipeline.sending.sender import SlottedSender
from bridge.pipeline.sending.slots import PrioritySlots
from bridge.pipeline.settings import URGENT_PRIORITY, AccountRoute, PipelineSettings
from bridge.pipeline.upkeep import (
    LocalTime,
    PipelineCounters,
    Recovered,
    StoreSizes,
    WallClock,
)
from bridge.state import MemoryState, RecordWrite, StateError, StateStore, StateUnavailable
from bridge.upstream import IsmsSender

log = logging.getLogger(__name__)

_OK = CommandStatus.ESME_ROK
_RETRY_LATER = CommandStatus.ESME_RSYSERR
# The `pdu` of a message's intent, trace and record.
_PDU_NAMES: dict[type[MessagePdu], str] = {
    SubmitSm: "submit_sm",
    DataSm: "data_sm",
    SubmitMulti: "submit_multi",
}


class MessagePipeline:
    def __init__(
        self,
        *,
        sender: IsmsSender,
        registry: ReceiverRegistry,
        routes: Iterable[AccountRoute],
        settings: PipelineSettings | None = None,
        state: StateStore | None = None,
        instance: str = "bridge",
        clock: Callable[[], float] = time.time,
        wall_clock: WallClock | None = None,
        new_message_id: Callable[[], str] | None = None,
    ) -> None:
        """`state` holds what answers oblige (default: in memory, lost at exit); `instance`
        names this process to it (the owner of the receipts it is delivering); `clock` is
        the store's clock, Unix seconds (stored deadlines must outlive a reboot)."""
        self.settings = settings = settings or PipelineSettings()
        self.counters = PipelineCounters()
        self.state = state = state if state is not None else MemoryState()
        self.store_writable = True
        self.sizes = StoreSizes()
        self.recovered = Recovered(receipts=0, long_messages=0, retries=0, records=0, intents=0)
        self._clock = clock
        self._wall = wall = wall_clock or LocalTime()
        self._routes = {route.system_id: route for route in routes}
        self._new_id = new_message_id or MessageIdGenerator(clock=time.time).new_id
        self.store = MessageStore(
            state, max_messages=settings.store_max_messages, max_age=settings.store_max_age_s
        )
        self._refusals_kept = RefusalRecords(
            state, max_records=settings.store_max_messages, max_age=settings.store_max_age_s
        )
        self.outbox = ReceiptOutbox(
            registry,
            settings.receipts,
            state,
            owner=instance,
            counters=self.counters,
            clock=clock,
            fate=self._receipt_fate,
        )
        self.slots = PrioritySlots(settings.upstream_concurrency)
        self._sending = SlottedSender(sender, self.slots, self.counters)
        self._settlement = Settlement(self.store, self.outbox, wall)
        self.long = LongMessages(
            settings,
            state=state,
            settlement=self._settlement,
            route_of=self._routes_get,
            new_message_id=self._new_id,
            counters=self.counters,
            clock=clock,
            wall=wall,
        )
        self._refusals = RefusalLog(clock)
        self._intents = Intents(state)
        # Account policy (policy/gate.py); its cap use feeds the gauges.
        self.gate = PolicyGate(
            state,
            settlement=self._settlement,
            counters=self.counters,
            new_message_id=self._new_id,
            clock=clock,
            settings=settings,
            long=self.long,
            owner=instance,
        )
        self._unsettled = Unsettled(
            intents=self._intents,
            long=self.long,
            settlement=self._settlement,
            routes=lambda: self._routes,
            statuses=settings.statuses,
            new_message_id=self._new_id,
            clock=clock,
            counters=self.counters,
        )
        self._housekeeping: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def update_routes(self, routes: Iterable[AccountRoute]) -> None:
        """Adopt a reloaded account table (SIGHUP); messages in flight keep their route."""
        self._routes = {route.system_id: route for route in routes}

    def _routes_get(self, system_id: str) -> AccountRoute | None:
        return self._routes.get(system_id)

    async def start(self) -> None:
        """Recover what the store holds, then start sweeping (expired long messages, held
        receipts); the one way it starts."""
        if self._housekeeping is not None:
            raise RuntimeError("this pipeline was already started")
        self.recovered = await self.recover()
        await self.gate.measure(self._routes.values())  # the cap gauges, from the start
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeep())

    async def aclose(self) -> None:
        """Stop sweeping and delivering (call after the server has stopped); what is held
        stays in the store (lost with it only for the memory backend)."""
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        await self._sending.aclose()
        await self.outbox.aclose()
        self._refusals.write_summaries(final=True)
        if self.state.backend == "memory":
            held = await self.outbox.held()
            if held:
                log.warning("event=receipts_lost_at_stop held=%d (backend memory)", held)

    def session_bound(self, context: SessionInfo) -> None:
        self.outbox.session_bound(context)

    def session_closed(self, context: SessionInfo) -> None:
        self.outbox.session_closed(context)

    async def sweep(self) -> None:
        """Expire long messages, kept retries and records past their deadline, and held
        receipts past their age; deliver receipts that became due; probe a failed store
        (expiry runs first: deleting is what makes room in a full one)."""
        self._refusals.write_summaries()
        now = self._clock()
        try:
            expired = await self.state.expire_records(now=now)
            await self._unsettled.expired(expired)
            await self.long.sweep(now, expired)
            await self.outbox.sweep()
            await self.gate.measure(self._routes.values())
        except StateError as exc:
            self._store_failed(exc)
        if not self.store_writable and await self.state.writable():
            self.store_writable = True
            log.warning("event=state_writable_again backend=%s", self.state.backend)
        await self._measure()

    async def _measure(self) -> None:
        parts = await self.state.part_counts()
        receipts = await self.state.queue_counts(now=self._clock())
        self.sizes = StoreSizes(
            long_messages=parts.groups,
            long_message_octets=parts.octets,
            receipts_held=receipts.ready,
            receipts_sent=receipts.leased,
        )

    async def recover(self) -> Recovered:
        """At start: what the store holds from before (receipts due again, incomplete long
        messages, messages awaiting a retry); those past their deadline are settled at the
        first sweep. Logged once as `event=state_recovered`."""
        receipts = await self.outbox.recover(shared=self.state.backend == "redis")
        # A shared store holds live instances' messages too: settled at expiry there.
        intents = 0 if self.state.backend == "redis" else await self._unsettled.settle()
        parts = await self.state.part_counts()
        retries = 0
        for system_id in self._routes:
            retries += await self.long.retries_for(system_id)
        messages = await self.state.record_count(MESSAGE_KIND)
        await self._measure()
        recovered = Recovered(
            receipts=receipts, long_messages=parts.groups, retries=retries, records=messages,
            intents=intents,
        )  # fmt: skip
        log.info(
            "event=state_recovered backend=%s receipts=%d long_messages=%d retries=%d records=%d"
            " intents=%d",
            self.state.backend, recovered.receipts, recovered.long_messages, recovered.retries,
            recovered.records, recovered.intents,
        )  # fmt: skip
        return recovered

    async def resend_receipts(self, account: str, message_id: str) -> int:
        """Queue the receipts of a message with a final state again (outcome/resend.py);
        how many. LookupError: no such message (or account); ValueError: not final yet."""
        route = self._routes.get(account)
        found = await self.state.get_record(
            MESSAGE_KIND, record_key(account, message_id), now=self._clock()
        )
        if route is None or found is None:
            raise LookupError(f"no message {message_id} of {account} is kept")
        receipts = receipts_again(decode_record(found.value), route, self._wall)
        for receipt in receipts:
            await self.outbox.send(account, receipt)
        await self._receipt_fate(account, message_id, RECEIPT_HELD)
        return len(receipts)

    async def _receipt_fate(self, account: str, message_id: str, fate: str) -> None:
        try:
            await self.store.receipt_fate(account, message_id, fate, now=self._clock())
        except StateError as exc:
            log.warning(
                "event=receipt_fate_not_recorded system_id=%s message_id=%s fate=%s error=%r",
                account,
                message_id,
                fate,
                str(exc),
            )

    # --- SubmitHandler --------------------------------------------------------------------

    def parts(self, request: PipelineRequest) -> int:
        match request:
            case SubmitSm() | DataSm() | SubmitMulti():
                return parts_of(request)
            case QuerySm() | CancelSm() | ReplaceSm():
                return 0

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        """True while the request's `task` has an iSMS request in flight: the server lets
        it run to its end when the ESME leaves (sending/sender.py)."""
        return self._sending.must_finish(task)

    def answer_written(self, context: SessionInfo, response: Pdu) -> None:
        """The response is on its way to the ESME: the receipts for its message_id may
        follow it (outcome/receipt_outbox.py, rule 7)."""
        outbox = self.outbox
        if outbox.awaits_answers:
            message_id = getattr(response, "message_id", "")
            if message_id:
                outbox.answer_written(message_id)

    async def handle(self, context: SessionInfo, request: PipelineRequest) -> Pdu:
        try:
            match request:
                case SubmitSm() | DataSm() | SubmitMulti():
                    if not self.store_writable:
                        raise StateUnavailable(
                            "the state store failed a commit and is not back yet"
                        )
                    try:
                        return await self._submit(context, request)
                    except Refusal as refusal:
                        self._refused(context, request, refusal)
                        await self._refusals_kept.keep(context, request, refusal, now=self._clock())
                        status = SubmitStatus(command_status=refusal.command_status, message_id="")
                        return response(request, status)
                case QuerySm():
                    return await self._query(context, request)
                case CancelSm():
                    # iSMS has no way to recall a message it took (SMPP 3.4 §4.9: cancel
                    # failed).
                    return CancelSmResp(command_status=CommandStatus.ESME_RCANCELFAIL)
                case ReplaceSm():
                    return ReplaceSmResp(command_status=CommandStatus.ESME_RREPLACEFAIL)
        except StateError as exc:
            # Never acknowledge what could not be recorded: "try again later" is honest.
            self._store_failed(exc)
        except Exception:
            # One failure costs one answer (ESME_RSYSERR), never the bind.
            log.exception(
                "event=pipeline_failed session=%s system_id=%s seq=%d",
                context.session_id,
                context.system_id,
                request.sequence_number,
            )
        return response(request, SubmitStatus(command_status=_RETRY_LATER, message_id=""))

    # --- submit_sm, data_sm and submit_multi: one message, one way ------------------------

    async def _submit(self, context: SessionInfo, pdu: MessagePdu) -> Pdu:
        """The steps of the module docstring, for one message to one destination or several."""
        received_at = self._clock()
        route = self._route(context)
        # 1. The checks: a Refusal answers the request, nothing taken.
        policy = route.policy  # None: every policy off (policy/)
        lists = None if policy is None else policy.lists
        submission = checked(pdu, route, self.settings.numbers, lists)
        several = submission.several
        if several is not None and several.refused:  # a submit_multi's, one by one
            self._refusals.destinations_refused(context, pdu.sequence_number, several)
            if not submission.numbers:
                return none_sent(pdu, several)
        name = _PDU_NAMES[type(pdu)]
        # 2. Long messages: a part that completes no message is answered now.
        part = submission.part
        if part is None:
            assembled = self.long.whole(submission.octets)
        else:
            assembled = await self.long.assemble(
                submission.origin,
                part,
                data_coding=pdu.data_coding,
                registered_delivery=pdu.registered_delivery,
                user_message_reference=submission.user_message_reference,
                trace=Trace(pdu=name, parts=part.total, received_at=received_at),
            )
            if assembled.answer is not None:
                return submitted(pdu, assembled.answer, submission.unsuccess)
        # 3. The text, then one iSMS request per batch of destinations.
        message_text = await self._text(route, pdu.data_coding, assembled)
        reference = f"{context.system_id}/{context.session_id}/{pdu.sequence_number}"
        admitted: Admitted | None = None
        intent = self._intents.prepare(
            submission.origin, name, assembled.complete, received_at, reference
        )
        if policy is not None:  # RM0, duplicates, caps (policy/gate.py)
            gated = await self.gate.admit(
                route, policy, pdu, submission, assembled, message_text, name, reference, intent
            )
            if not isinstance(gated, Admitted):
                return gated  # a resend answered, nothing sent
            admitted, message_text = gated, gated.text
        requests = isms_requests(
            route,
            submission.numbers,
            text=message_text,
            source_addr=pdu.source_addr,
            reference=reference,
            per_request=None if several is None else self.settings.max_destinations_per_request,
        )
        urgent = not isinstance(pdu, DataSm) and pdu.priority_flag >= URGENT_PRIORITY
        opened = admitted is not None and admitted.intent is not None  # with its claim
        try:
            if several is not None:
                # Its intent goes before its batches wait for their slots; they go apart, so
                # that none is cut short by another's failure or by the ESME leaving.
                if not opened:
                    await self._intents.open(intent, now=self._clock())
                sent_at = self._clock()
                results = await self._sending.send_batches(requests, urgent=urgent)
            else:
                # Its intent goes once the account's slot is had, right before the request.
                sent_at = self._clock()
                result = await self._sending.send(
                    requests[0],
                    urgent=urgent,
                    before=None
                    if opened
                    else lambda: self._intents.open(intent, now=self._clock()),
                )
                results = [result]
        except BaseException as exc:
            if admitted is not None:
                await self.gate.unsent(admitted, failure=exc)
            raise
        # 4-5. The answer, given once the message is settled (or kept for the ESME's retry).
        answer = answer_of(
            submission,
            requests,
            results,
            self.settings.statuses,
            self._new_id,
            report_delivered=route.report_delivered,
        )
        per_number = (
            pages(message_text, self.settings.credits) if admitted is None else admitted.per_number
        )
        self.counters.credits[context.system_id] += spent(requests, results, per_number)
        kept = message_text if self.settings.record_text else None
        trace = message_trace(
            name, assembled.complete, received_at, sent_at, answer.traced, kept, reference,
            credits=per_number * len(submission.numbers),
            duplicate=None if admitted is None else admitted.duplicate,
        )  # fmt: skip
        settles = [] if admitted is None else self.gate.settled(admitted, requests, results, answer)
        await self._conclude(
            route, pdu, submission, assembled, answer,
            text=message_text, trace=trace, intent=intent, also=settles,
            with_record=None if admitted is None else admitted.folded,
        )  # fmt: skip
        return submitted(pdu, answer.status, answer.unsuccess)

    # --- the flow's steps that need the pipeline's own state ------------------------------

    def _route(self, context: SessionInfo) -> AccountRoute:
        route = self._routes.get(context.system_id)
        if route is None:
            raise Refusal(
                CommandStatus.ESME_RSUBMITFAIL,
                "the account is no longer configured (removed by a reload)",
                kind="account",
            )
        return route

    async def _text(self, route: AccountRoute, data_coding: int, whole: Assembled) -> str:
        """The decoded, length-checked text; a refusal settles the parts already answered."""
        try:
            message_text = text(data_coding, whole.octets, route)
            check_length(message_text, self.settings.max_text_length)
        except Refusal:
            await self.long.refused(route, whole)
            raise
        return message_text

    async def _conclude(
        self,
        route: AccountRoute,
        pdu: MessagePdu,
        submission: Submission,
        whole: Assembled,
        answer: Answer,
        *,
        text: str,
        trace: Trace,
        intent: Intent,
        also: list[Coroutine[Any, Any, object]],
        with_record: RecordWrite | None,
    ) -> None:
        """Settle the message, or keep it for the ESME's retry, with its intent
        (sending/intents.py, rule 2) and `also` (its policy's writes)."""
        status = answer.status
        closed = self._intents.closed(intent) + also
        if whole.complete is not None:
            # A completing part told "try again" keeps its message for the ESME's retry.
            if status.command_status == _RETRY_LATER:
                closed.append(self._intents.forget(intent))
                await self.long.keep_for_retry(whole, answer.overall, also=closed)
                return
            closed.append(self.long.settled(whole, status))
        answered = (
            IssuedId(
                message_id=status.message_id,
                registered_delivery=pdu.registered_delivery,
                user_message_reference=submission.user_message_reference,
            )
            if status.command_status == _OK
            else None
        )
        await self._settlement.concluded(
            route,
            origin=submission.origin,
            answered=answered,
            status=status_name(status.command_status),
            earlier=() if whole.complete is None else whole.complete.answered,
            overall=answer.overall,
            deliveries=answer.deliveries,
            text=text,
            submitted_at=whole.submitted_at,
            trace=trace,
            now=self._clock(),
            also=closed,
            settles=self._intents.record_of(intent),
            with_record=with_record,
        )

    # --- query_sm, and what goes wrong ----------------------------------------------------

    async def _query(self, context: SessionInfo, pdu: QuerySm) -> QuerySmResp:
        stored = await self.store.lookup(
            account=context.system_id,
            message_id=pdu.message_id,
            now=self._clock(),
            zone=self._wall.local(self._wall.now()).tzinfo,
        )
        if stored is None:
            # SMPP 3.4 §4.8: unknown, too old, or another account's message.
            return QuerySmResp(command_status=CommandStatus.ESME_RQUERYFAIL, message_id=None)
        return QuerySmResp(
            message_id=stored.message_id,
            final_date="" if stored.final_date is None else absolute_time(stored.final_date),
            message_state=int(stored.message_state),
            error_code=stored.error_code,
        )

    def _store_failed(self, error: StateError) -> None:
        if self.store_writable:
            self.store_writable = False
            log.error(
                "event=state_unavailable backend=%s error=%r action=submits_answered_ESME_RSYSERR",
                self.state.backend,
                str(error),
            )

    def _refused(self, context: SessionInfo, pdu: Pdu, refusal: Refusal) -> None:
        self.counters.refusals[refusal.kind] += 1
        log.info(
            "event=submit_refused session=%s system_id=%s seq=%d status=%s reason=%r",
            context.session_id,
            context.system_id,
            pdu.sequence_number,
            status_name(refusal.command_status),
            refusal.reason,
        )

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.housekeeping_interval_s)
            try:
                await self.sweep()
            except StateError as exc:
                self._store_failed(exc)
            except Exception:
                log.exception("event=sweep_failed")
