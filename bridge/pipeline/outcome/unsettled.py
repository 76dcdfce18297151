"""At start: the messages a crash left between their intent and their settlement.

sending/intents.py says what is kept and why; this settles it, once, before any ESME binds:
1. An intent left: iSMS may have the message. It gets what an unknown outcome gets at
   runtime (the same status mapping, `unknown_outcome_status`): a long message it completed
   is kept for the ESME's resend of its last part when that status is ESME_RSYSERR (the
   resend is sent, as after any unknown outcome of a completing part); otherwise its
   earlier parts get their final state (UNKNOWN, err 255) and the receipts they asked for,
   and the resend of its last part gets that status again, nothing sent.
   A record with the intent's reference and status `UNSETTLED` tells the operator
   (`isms-bridge messages`), and `event=intent_unsettled` is logged with what is needed to
   reconcile with iSMS's own report (account, reference, addresses, when it came).
2. A completing long message without an intent never left: it is kept for the ESME's retry
   of its last part, as after ESME_RSYSERR.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from bridge.pdu import CommandStatus
from bridge.pipeline.long_messages.assembly import LongMessages
from bridge.pipeline.long_messages.reassembly import AnsweredPart
from bridge.pipeline.outcome.settlement import Delivery, Settlement, Trace, final_state
from bridge.pipeline.outcome.statuses import StatusMapping, SubmitStatus
from bridge.pipeline.sending.intents import (
    Intent,
    Intents,
    intent_of,
    is_completing_record,
    is_intent_record,
)
from bridge.pipeline.settings import AccountRoute
from bridge.pipeline.upkeep import PipelineCounters
from bridge.state import Record
from bridge.upstream import Outcome, SendResult

log = logging.getLogger(__name__)

UNSETTLED = "UNSETTLED"  # a message record's status: the bridge stopped during its request
_CRASHED = SendResult(
    outcome=Outcome.UNKNOWN,
    code=None,
    trx_id=None,
    mirror="",
    elapsed_s=0.0,
    attempts=1,
    reason="the bridge stopped while the request was at iSMS",
)
_NOT_SENT_RESULT = SendResult(
    outcome=Outcome.NOT_SENT,
    code=None,
    trx_id=None,
    mirror="",
    elapsed_s=0.0,
    attempts=0,
    reason="the bridge stopped before the request left",
)


class Unsettled:
    """Settles what a crash left (module docstring); `settle` returns how many intents."""

    __slots__ = (
        "_clock",
        "_counters",
        "_intents",
        "_long",
        "_new_id",
        "_routes",
        "_settlement",
        "_statuses",
    )

    def __init__(
        self,
        *,
        intents: Intents,
        long: LongMessages,
        settlement: Settlement,
        routes: Callable[[], Mapping[str, AccountRoute]],
        statuses: StatusMapping,
        new_message_id: Callable[[], str],
        clock: Callable[[], float],
        counters: PipelineCounters,
    ) -> None:
        self._counters = counters
        self._intents = intents
        self._long = long
        self._settlement = settlement
        self._routes = routes
        self._statuses = statuses
        self._new_id = new_message_id
        self._clock = clock

    async def settle(self) -> int:
        """At start, on a store this process owns alone: everything left is a crash's."""
        left = await self._intents.left_over(now=self._clock())
        for intent in left:
            await self._unknown_outcome(intent)
        not_sent = final_state(_NOT_SENT_RESULT, report_delivered=False)
        for account in self._routes():
            for entry in await self._long.left_completing(account):
                await self._long.keep_recovered(entry, not_sent)
        return len(left)

    async def expired(self, records: Sequence[Record]) -> None:
        """Of the records the store's expiry returned (any kind), the intents and completing
        records: their process died (sending/intents.py, rule 5). Intents come first: each takes its
        completing record, which expires later; a completing record without one was never
        sent."""
        for record in records:
            if is_intent_record(record):
                await self._unknown_outcome(intent_of(record))
        not_sent = final_state(_NOT_SENT_RESULT, report_delivered=False)
        for record in records:
            if is_completing_record(record):
                entry = self._long.completing_entry(record)
                await self._long.keep_recovered(entry, not_sent)

    async def _unknown_outcome(self, intent: Intent) -> None:
        self._counters.intents_unsettled += 1
        origin = intent.origin
        status = self._statuses.submit_status(_CRASHED, self._new_id).command_status
        log.warning(
            "event=intent_unsettled system_id=%s reference=%s pdu=%s source=%r "
            "destinations=%s parts=%d received_at=%.3f answer=%s",
            origin.account,
            intent.reference,
            intent.pdu,
            origin.source_addr,
            ",".join(d.destination_addr for d in origin.destinations),
            intent.parts,
            intent.received_at,
            status.name,
        )
        entry = None
        if intent.group is not None:
            entry = await self._long.take_completing(origin.account, intent.group)
        route = self._routes().get(origin.account)
        if route is None:  # the account was removed from the config meanwhile
            await self._intents.forget(intent)
            return
        state = final_state(_CRASHED, report_delivered=route.report_delivered)
        trace = Trace(
            pdu=intent.pdu,
            parts=intent.parts,
            received_at=intent.received_at,
            reference=intent.reference,
        )
        earlier: tuple[AnsweredPart, ...] = ()
        also = self._intents.closed(intent)
        if entry is not None:
            if status == CommandStatus.ESME_RSYSERR:
                await self._long.keep_recovered(entry, state)
            else:
                earlier = entry.complete.answered
                # The resend of the last part gets the unknown outcome's answer, not a new
                # message that could only expire.
                answer = SubmitStatus(command_status=status, message_id="")
                also.append(
                    self._long.answered(entry.complete, entry.seqnum, entry.payload, answer)
                )
        await self._settlement.concluded(
            route,
            origin=origin,
            answered=None,
            status=UNSETTLED,
            earlier=earlier,
            overall=state,
            deliveries=[Delivery(destination=d, state=state) for d in origin.destinations],
            text="",
            submitted_at=intent.received_at,
            trace=trace,
            now=self._clock(),
            also=also,
            settles=self._intents.record_of(intent),
        )
