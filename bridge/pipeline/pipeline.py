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

Theory of operation, for submit_sm / data_sm / submit_multi:
1. Refuse what iSMS cannot take before anything is taken: the account's route, the UDH/SAR
   fields, the data_coding, the destination(s) (submission.py, multi.py).
2. A part of a long message goes into the reassembly store; a non-final part is answered at
   once with its own message_id (the one documented exception to "never ack a message not
   handed to iSMS"); the completing part carries the whole message on.
3. The joined octets are decoded (so a pair cut between parts survives) and the length
   checked; then iSMS gets ONE request per batch of destinations, at most
   `upstream_concurrency` per iSMS account in flight, urgent submits first (priority.py),
   and a -1012 refusal of type 1 is sent once more as type 2 (statuses.py).
4. The answer maps the iSMS result (statuses.py); every message_id given out gets its fate
   recorded for query_sm and a receipt when asked (settlement.py). A completing part
   answered ESME_RSYSERR keeps its message for the ESME's retry (retries.py).
5. The answer leaves only once what it obliges is committed to the state store (the
   message record, the receipts it owes, the part it kept): `handle` returns after the
   store's commit. When the store cannot commit (StateUnavailable), that answer is
   ESME_RSYSERR and, until a probe finds the store writable again, every submit is
   answered ESME_RSYSERR before anything is sent to iSMS.
An unexpected exception answers ESME_RSYSERR for that request alone, logged once; in one
batch of a submit_multi it fails that batch's destinations alone (multi.py, rule 3).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

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
    SubmitMultiResp,
    SubmitSm,
    status_name,
)
from bridge.pipeline import answers, multi, submission
from bridge.pipeline.counters import PipelineCounters
from bridge.pipeline.intents import Intent, Intents
from bridge.pipeline.long_messages import LongMessages, WholeMessage
from bridge.pipeline.message_ids import MessageIdGenerator
from bridge.pipeline.message_store import MessageStore, absolute_time
from bridge.pipeline.priority import PrioritySlots
from bridge.pipeline.reassembly import MessageOrigin
from bridge.pipeline.receipt_outbox import ReceiptOutbox
from bridge.pipeline.records import MESSAGE_KIND
from bridge.pipeline.refusal_log import RefusalLog
from bridge.pipeline.seams import PipelineRequest, ReceiverRegistry, SessionInfo
from bridge.pipeline.sending import SlottedSender
from bridge.pipeline.settings import URGENT_PRIORITY, AccountRoute, PipelineSettings
from bridge.pipeline.settlement import (
    Delivery,
    FinalState,
    IssuedId,
    Settlement,
    Trace,
    final_state,
    message_trace,
)
from bridge.pipeline.statuses import SubmitStatus
from bridge.pipeline.submission import Refusal
from bridge.pipeline.unsettled import Unsettled
from bridge.pipeline.upkeep import LocalTime, Recovered, StoreSizes, WallClock
from bridge.state import MemoryState, StateError, StateStore, StateUnavailable
from bridge.upstream import IsmsSender, SendResult, split_destinations

log = logging.getLogger(__name__)

_OK = CommandStatus.ESME_ROK
_RETRY_LATER = CommandStatus.ESME_RSYSERR


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
        self._unsettled = Unsettled(
            intents=self._intents,
            long=self.long,
            settlement=self._settlement,
            routes=lambda: self._routes,
            statuses=settings.statuses,
            new_message_id=self._new_id,
            clock=clock,
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

    async def _receipt_fate(self, account: str, message_id: str, fate: str) -> None:
        try:
            await self.store.receipt_fate(account, message_id, fate, now=self._clock())
        except StateError as exc:
            log.warning(
                "event=receipt_fate_not_recorded system_id=%s message_id=%s fate=%s error=%s",
                account,
                message_id,
                fate,
                exc,
            )

    # --- SubmitHandler --------------------------------------------------------------------

    def parts(self, request: PipelineRequest) -> int:
        match request:
            case SubmitSm() | DataSm():
                return submission.parts_of(request)
            case SubmitMulti():
                return submission.parts_of(request) * submission.destinations_count(request)
            case QuerySm() | CancelSm() | ReplaceSm():
                return 0

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        """True while the request's `task` has an iSMS request in flight: the server lets
        it run to its end when the ESME leaves (sending.py)."""
        return self._sending.must_finish(task)

    def answer_written(self, context: SessionInfo, response: Pdu) -> None:
        """The response is on its way to the ESME: the receipts for its message_id may
        follow it (receipt_outbox.py, rule 7)."""
        outbox = self.outbox
        if outbox.awaits_answers:
            message_id = getattr(response, "message_id", "")
            if message_id:
                outbox.answer_written(message_id)

    async def handle(self, context: SessionInfo, request: PipelineRequest) -> Pdu:
        try:
            response = await self._answer(context, request)
        except StateError as exc:
            # Never acknowledge what could not be recorded: "try again later" is honest.
            self._store_failed(exc)
            response = answers.response(
                request, SubmitStatus(command_status=_RETRY_LATER, message_id="")
            )
        except Exception:
            # One failure costs one answer (ESME_RSYSERR), never the bind.
            log.exception(
                "event=pipeline_failed session=%s system_id=%s seq=%d",
                context.session_id,
                context.system_id,
                request.sequence_number,
            )
            response = answers.response(
                request, SubmitStatus(command_status=_RETRY_LATER, message_id="")
            )
        return response

    async def _answer(self, context: SessionInfo, request: PipelineRequest) -> Pdu:
        match request:
            case SubmitSm() | DataSm() | SubmitMulti():
                if not self.store_writable:
                    raise StateUnavailable("the state store failed a commit and is not back yet")
                try:
                    if isinstance(request, SubmitMulti):
                        return await self._submit_multi(context, request)
                    return answers.response(request, await self._submit(context, request))
                except Refusal as refusal:
                    self._refused(context, request, refusal)
                    return answers.response(
                        request, SubmitStatus(command_status=refusal.command_status, message_id="")
                    )
            case QuerySm():
                return await self._query(context, request)
            case CancelSm():
                # iSMS has no way to recall a message it took (SMPP 3.4 §4.9: cancel failed).
                return CancelSmResp(command_status=CommandStatus.ESME_RCANCELFAIL)
            case ReplaceSm():
                return ReplaceSmResp(command_status=CommandStatus.ESME_RREPLACEFAIL)

    # --- submit_sm and data_sm ------------------------------------------------------------

    async def _submit(self, context: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitStatus:
        received_at = self._clock()
        route = self._route(context)
        data = submission.user_data(pdu)
        if data.part is not None:
            # Refuse a coding iSMS cannot carry before a part is taken (a whole message is
            # decoded, and refused, below).
            submission.check_coding(pdu.data_coding, route)
        number = submission.destination(
            pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr, self.settings.numbers
        )
        umr = submission.user_message_reference(pdu)
        origin = submission.origin(route.system_id, pdu)
        name = "submit_sm" if isinstance(pdu, SubmitSm) else "data_sm"
        if data.part is None:
            whole = self.long.whole(data)
        else:
            assembled = await self.long.assemble(
                origin,
                data,
                data_coding=pdu.data_coding,
                registered_delivery=pdu.registered_delivery,
                user_message_reference=umr,
                trace=Trace(pdu=name, parts=data.part.total, received_at=received_at),
            )
            if isinstance(assembled, SubmitStatus):
                return assembled
            whole = assembled
        text = await self._text(route, pdu.data_coding, whole)
        message = submission.isms_message(
            route,
            destinations=(number,),
            message_text=text,
            source_addr=pdu.source_addr,
            reference=_reference(context, pdu),
        )
        urgent = isinstance(pdu, SubmitSm) and pdu.priority_flag >= URGENT_PRIORITY
        intent = self._intents.prepare(origin, name, whole.complete, received_at, message.reference)
        sent_at = self._clock()
        result = await self._sending.send(
            message, urgent=urgent, before=lambda: self._intents.open(intent, now=self._clock())
        )
        status = self.settings.statuses.submit_status(result, self._new_id)
        state = final_state(result, report_delivered=route.report_delivered)
        deliveries = [Delivery(destination=origin.destinations[0], state=state)]
        trace = self._trace(name, whole, received_at, sent_at, result, text, message.reference)
        await self._conclude(
            route, origin, whole, status, pdu, umr, overall=state, deliveries=deliveries,
            text=text, trace=trace, intent=intent,
        )  # fmt: skip
        return status

    # --- submit_multi ---------------------------------------------------------------------

    async def _submit_multi(self, context: SessionInfo, pdu: SubmitMulti) -> SubmitMultiResp:
        received_at = self._clock()
        route = self._route(context)
        data = submission.user_data(pdu)
        if data.part is not None:
            submission.check_coding(pdu.data_coding, route)
        destinations = multi.resolve(pdu, self.settings.numbers)
        self._refusals.destinations_refused(context, pdu.sequence_number, destinations)
        unsuccess = tuple(destinations.refused[i] for i in sorted(destinations.refused))
        if not destinations.numbers:
            answer = multi.answer(pdu, destinations, ())
            return answers.multi_response(answer.command_status, "", answer.unsuccess_sme)
        umr = submission.user_message_reference(pdu)
        origin = multi.message_origin(route.system_id, pdu, destinations)
        parts = 1 if data.part is None else data.part.total
        whole = await self.long.assemble(
            origin,
            data,
            data_coding=pdu.data_coding,
            registered_delivery=pdu.registered_delivery,
            user_message_reference=umr,
            trace=Trace(pdu="submit_multi", parts=parts, received_at=received_at),
        )
        if isinstance(whole, SubmitStatus):
            return answers.multi_response(whole.command_status, whole.message_id, unsuccess)
        text = await self._text(route, pdu.data_coding, whole)
        urgent = pdu.priority_flag >= URGENT_PRIORITY
        batches = list(
            split_destinations(destinations.numbers, self.settings.max_destinations_per_request)
        )
        reference = _reference(context, pdu)
        messages = [
            submission.isms_message(
                route,
                destinations=batch,
                message_text=text,
                source_addr=pdu.source_addr,
                reference=f"{reference}/batch{index + 1}",
            )
            for index, batch in enumerate(batches)
        ]
        multi_pdu = "submit_multi"  # its intent goes before its batches wait for their slots
        intent = self._intents.prepare(origin, multi_pdu, whole.complete, received_at, reference)
        await self._intents.open(intent, now=self._clock())
        sent_at = self._clock()
        owner = asyncio.current_task()
        assert owner is not None  # always called from a request's task
        # One batch failing must not cost the others their answers: those iSMS accepted
        # stay accepted, or the ESME's retry of the whole request would send them twice.
        sent = await asyncio.gather(
            *(
                self._sending.send_apart(message, urgent=urgent, owner=owner)
                for message in messages
            ),
            return_exceptions=True,
        )
        results = multi.batch_results(messages, sent)
        outcomes = [
            multi.BatchOutcome(
                numbers=batch, status=self.settings.statuses.submit_status(result, self._new_id)
            )
            for batch, result in zip(batches, results, strict=True)
        ]
        answer = multi.answer(pdu, destinations, outcomes)
        states = [final_state(r, report_delivered=route.report_delivered) for r in results]
        deliveries = [
            Delivery(destination=destinations.address_of[number], state=state)
            for batch, state in zip(batches, states, strict=True)
            for number in batch
        ]
        accepted = [state for state in states if state.message_state.is_success]
        overall = accepted[0] if accepted else states[0]
        status = SubmitStatus(command_status=answer.command_status, message_id=answer.message_id)
        first_accepted = next((r for r in results if r.trx_id), results[0])
        trace = self._trace(
            "submit_multi", whole, received_at, sent_at, first_accepted, text, reference
        )
        await self._conclude(
            route, origin, whole, status, pdu, umr, overall=overall, deliveries=deliveries,
            text=text, trace=trace, intent=intent,
        )  # fmt: skip
        return answers.multi_response(
            answer.command_status, answer.message_id, answer.unsuccess_sme
        )

    # --- shared steps ---------------------------------------------------------------------

    def _route(self, context: SessionInfo) -> AccountRoute:
        route = self._routes.get(context.system_id)
        if route is None:
            raise Refusal(
                CommandStatus.ESME_RSUBMITFAIL,
                "the account is no longer configured (removed by a reload)",
                kind="account",
            )
        return route

    def _trace(
        self, pdu: str, whole: WholeMessage, received_at: float, sent_at: float,
        result: SendResult, text: str, reference: str,
    ) -> Trace:  # fmt: skip
        kept = text if self.settings.record_text else None
        return message_trace(pdu, whole.complete, received_at, sent_at, result, kept, reference)

    async def _conclude(
        self,
        route: AccountRoute,
        origin: MessageOrigin,
        whole: WholeMessage,
        status: SubmitStatus,
        pdu: SubmitSm | DataSm | SubmitMulti,
        user_message_reference: int | None,
        *,
        overall: FinalState,
        deliveries: list[Delivery],
        text: str,
        trace: Trace,
        intent: Intent,
    ) -> None:
        """Settle the message, or keep it for the ESME's retry, with its intent (rule 2)."""
        closed = self._intents.closed(intent)
        if whole.complete is not None:
            # A completing part told "try again" keeps its message for the ESME's retry.
            if status.command_status == _RETRY_LATER:
                closed.append(self._intents.forget(intent))
                await self.long.keep_for_retry(whole, overall, also=closed)
                return
            closed.append(self.long.settled(whole, status))
        answered = (
            IssuedId(
                message_id=status.message_id,
                registered_delivery=pdu.registered_delivery,
                user_message_reference=user_message_reference,
            )
            if status.command_status == _OK
            else None
        )
        await self._settlement.concluded(
            route,
            origin=origin,
            answered=answered,
            status=status_name(status.command_status),
            earlier=() if whole.complete is None else whole.complete.answered,
            overall=overall,
            deliveries=deliveries,
            text=text,
            submitted_at=whole.submitted_at,
            trace=trace,
            now=self._clock(),
            also=closed,
            settles=self._intents.record_of(intent),
        )

    async def _text(self, route: AccountRoute, data_coding: int, whole: WholeMessage) -> str:
        """The decoded, length-checked text; a refusal settles the parts already answered."""
        try:
            text = submission.text(data_coding, whole.octets, route)
            submission.check_length(text, self.settings.max_text_length)
        except Refusal:
            await self.long.refused(route, whole)
            raise
        return text

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
                "event=state_unavailable backend=%s error=%s action=submits_answered_ESME_RSYSERR",
                self.state.backend,
                error,
            )

    def _refused(self, context: SessionInfo, pdu: Pdu, refusal: Refusal) -> None:
        self.counters.refusals[refusal.kind] += 1
        log.info(
            "event=submit_refused session=%s system_id=%s seq=%d status=%s reason=%s",
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


def _reference(context: SessionInfo, pdu: Pdu) -> str:
    return f"{context.system_id}/{context.session_id}/{pdu.sequence_number}"
