"""`PolicyGate`: an account's policy applied to one whole message, between its text and its
iSMS request, and settled with its answer.

The pipeline calls it only for an account that has a policy (its route's `policy` is not
None: the one attribute tested per message when every policy is off). In order:
1. RM0 (rm0.py): the text gets its "RM0.00 " or the message is refused; an inserted tag is
   counted in the length check and in the credits.
2. Credits (credits.py): the estimate per destination, for the caps and the record.
3. Duplicates (duplicates.py): a resend may be answered here, nothing sent; the first
   message claims its fingerprint, reserves its caps and commits its intent in ONE store
   step (`claim_and_put`: all of it or nothing), before it waits for its slot.
4. Caps (caps.py): the message reserves its amounts (with its claim, or alone in one
   `reserve_all`, its intent then put in its slot), or is refused (nothing reserved).
Number lists are checked earlier, on each destination with the other address checks
(checks/submission.py), before any part of a long message is taken.
`settled` gives the writes that settle the claim and the reservations with the message's
answer (in its group commit; the claim's settlement, when kept, goes in the put of the
message's record as its `also`: one write); `unsent` undoes them when the message failed before or
while its request was made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.pdu import CommandStatus, Pdu
from bridge.pipeline.checks.submission import Refusal, Submission, check_length
from bridge.pipeline.long_messages.assembly import Assembled, LongMessages
from bridge.pipeline.outcome.answers import Answer, submitted
from bridge.pipeline.outcome.receipts import ERR_UNKNOWN, MessageState
from bridge.pipeline.outcome.settlement import FinalState, IssuedId, Settlement, Trace
from bridge.pipeline.outcome.statuses import SubmitStatus
from bridge.pipeline.policy.caps import CapBook, CapRefused, Held
from bridge.pipeline.policy.credits import pages
from bridge.pipeline.policy.duplicates import (
    SENT,
    UNKNOWN,
    Duplicates,
    Earlier,
    accepted_addresses,
    fingerprint,
)
from bridge.pipeline.policy.rm0 import RM0_REFUSED, with_rm0
from bridge.pipeline.policy.settings import AccountPolicy, Caps, DuplicateRules
from bridge.pipeline.seams import MessagePdu
from bridge.pipeline.sending.intents import Intent, Intents, intent_write
from bridge.pipeline.settings import AccountRoute, PipelineSettings
from bridge.pipeline.upkeep import PipelineCounters
from bridge.state import Record, RecordWrite, Reservation, StateError, StateStore
from bridge.upstream import IsmsMessage, Outcome, SendResult

log = logging.getLogger(__name__)

_ROK = CommandStatus.ESME_ROK
_UNKNOWN = Outcome.UNKNOWN
# Cap use is read from the store this often (other instances reserve too).
MEASURE_EVERY_S = 10.0


@dataclass(slots=True, kw_only=True)
class Admitted:
    """A message the policy lets go to iSMS, with what it holds until it is settled."""

    account: str
    text: str
    per_number: int  # estimated credits per destination
    held: Held | None = None
    claim: str | None = None  # the fingerprint it claimed
    rules: DuplicateRules | None = None
    first_at: float = 0.0
    reference: str = ""
    duplicate: tuple[str, str] | None = None  # (flagged | sent_again, the first's id)
    intent: Intent | None = None  # committed here, with the claim and the reservations
    folded: RecordWrite | None = None  # the claim's settlement, put with the message record


class PolicyGate:
    __slots__ = (
        "_clock",
        "_counters",
        "_credits",
        "_duplicates",
        "_long",
        "_max_text",
        "_measured_at",
        "_new_id",
        "_settlement",
        "_store",
        "caps",
    )

    def __init__(
        self,
        state: StateStore,
        *,
        settlement: Settlement,
        counters: PipelineCounters,
        new_message_id: Callable[[], str],
        clock: Callable[[], float],
        settings: PipelineSettings,
        long: LongMessages,
        owner: str = "",
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
    ) -> None:
        """`long` settles the answered parts of a long message the policy refuses or
        answers as a resend; `owner` names this run of the bridge on its claims."""
        self._store = state
        self.caps = CapBook(state)
        # Only Redis is shared by several processes (duplicates.py, rule 5).
        alone = state.backend != "redis"
        self._duplicates = Duplicates(state, clock, sleep, owner=owner, alone=alone)
        self._settlement = settlement
        self._counters = counters
        self._new_id = new_message_id
        self._clock = clock
        self._credits = settings.credits
        self._max_text = settings.max_text_length
        self._long = long
        self._measured_at = 0.0

    async def admit(
        self,
        route: AccountRoute,
        policy: AccountPolicy,
        pdu: MessagePdu,
        submission: Submission,
        whole: Assembled,
        text: str,
        name: str,
        reference: str,
        intent: Intent,
    ) -> Admitted | Pdu:
        """The message as it goes (rules 1 to 4 of the module docstring), or the answer to
        a resend that is not sent; raises Refusal (the parts a long message had answered
        settled)."""
        try:
            return await self._admit(
                route, policy, pdu, submission, whole, text, name, reference, intent
            )
        except Refusal:
            await self._long.refused(route, whole)
            raise

    async def _admit(
        self,
        route: AccountRoute,
        policy: AccountPolicy,
        pdu: MessagePdu,
        submission: Submission,
        whole: Assembled,
        text: str,
        name: str,
        reference: str,
        intent: Intent,
    ) -> Admitted | Pdu:
        received_at = self._clock()
        if policy.rm0 != "off":
            tagged = with_rm0(text, policy.rm0)
            if tagged is None:
                raise Refusal(
                    RM0_REFUSED,
                    'the text does not start with "RM0.00 " (rm0 = require)',
                    kind="rm0",
                )
            if tagged is not text:
                check_length(tagged, self._max_text)
            text = tagged
        account = route.system_id
        admitted = Admitted(account=account, text=text, per_number=pages(text, self._credits))
        rules, caps = policy.duplicates, policy.caps
        if rules is None and caps is None:
            return admitted  # its intent goes as with no policy (sending/intents.py)
        wanted = (
            []
            if caps is None
            else self.caps.wanted(
                account,
                caps,
                numbers=len(submission.numbers),
                per_number=admitted.per_number,
                now=self._clock(),
            )
        )
        try:
            if rules is not None:
                answer = await self._duplicate(
                    route, rules, pdu, submission, whole, admitted, name, reference,
                    received_at, (intent, caps, wanted),
                )  # fmt: skip
                if answer is not None:
                    return answer
            if admitted.intent is None and caps is not None:
                # Caps alone: one `reserve_all` now, and the intent in its slot as with no
                # policy (a put the SQLite writer inserts with the others of its group,
                # cheaper there than the intent in `claim_and_put`: docs/policy.md).
                got = await self._store.reserve_all(wanted, now=self._clock())
                admitted.held = self.caps.taken(account, caps, wanted, got, admitted.per_number)
        except CapRefused as refused:
            await self.unsent(admitted, sent=False)  # a claim taken over, if any, given back
            raise Refusal(refused.status, refused.reason, kind="cap") from None
        except BaseException:
            await self.unsent(admitted, sent=False)
            raise
        return admitted

    async def _open(
        self,
        admitted: Admitted,
        opening: tuple[Intent, Caps | None, Sequence[Reservation]],
        claim: RecordWrite | None,
    ) -> Record | None:
        """Commit the message's intent with its claim and its reservations in one store
        step (`claim_and_put`): the live record its claim found (nothing done), or None
        with all of it held; CapRefused when a cap would be passed (nothing done)."""
        intent, caps, wanted = opening
        now = self._clock()
        record = intent_write(intent, now)
        got = await self._store.claim_and_put(
            record.kind, record.key, record.value, now=now, expires_at=record.expires_at,
            max_records=record.max_records, claim=claim, reservations=wanted,
        )  # fmt: skip
        if got.held is not None:
            return got.held
        if caps is not None:  # CapRefused when not granted
            admitted.held = self.caps.taken(
                admitted.account, caps, wanted, got.reserved, admitted.per_number
            )
        admitted.intent = intent
        return None

    async def _duplicate(
        self,
        route: AccountRoute,
        rules: DuplicateRules,
        pdu: MessagePdu,
        submission: Submission,
        whole: Assembled,
        admitted: Admitted,
        name: str,
        reference: str,
        received_at: float,
        opening: tuple[Intent, Caps | None, Sequence[Reservation]],
    ) -> Pdu | None:
        """A resend's answer, or None with the message's claim or flag set on `admitted`
        (a first submit's claim committed with its intent and reservations: `_open`)."""
        account = route.system_id
        key = fingerprint(
            account=account,
            source_addr=pdu.source_addr,
            numbers=submission.numbers,
            data_coding=pdu.data_coding,
            octets=whole.octets,
            user_message_reference=submission.user_message_reference,
            rules=rules,
            parts=1 if whole.complete is None else whole.complete.total,
        )
        books = self._duplicates
        for _attempt in range(3):
            claim = books.claim_write(account, key, rules, reference, self._clock())
            held = await self._open(admitted, opening, claim)
            if held is None:
                break
            earlier = books.earlier_of(held)
            if rules.mode == "flag":
                self._count(account, "flagged")
                admitted.duplicate = ("flagged", earlier.message_id or earlier.reference)
                return None
            settled = await books.settled_of(account, key, earlier)
            if settled is None:
                continue  # the first's claim was deleted: nothing charged, try again
            if settled.state == SENT:
                self._count(account, "suppressed")
                return await self._repeat(
                    route,
                    pdu,
                    submission,
                    whole,
                    admitted,
                    settled,
                    name,
                    reference,
                    received_at,
                    "suppressed",
                )
            if settled.state == UNKNOWN and rules.after_unknown == "assume_sent":
                assumed = Earlier(
                    state=SENT,
                    message_id=self._new_id(),
                    message_state=int(MessageState.UNKNOWN),
                    error_code=ERR_UNKNOWN,
                    unsuccess=(),
                    reference=settled.reference,
                    first_at=settled.first_at,
                )
                await books.settle(account, key, rules, assumed)
                self._count(account, "assumed_sent")
                return await self._repeat(
                    route,
                    pdu,
                    submission,
                    whole,
                    admitted,
                    assumed,
                    name,
                    reference,
                    received_at,
                    "assumed_sent",
                )
            await books.take_over(account, key, rules, reference)
            self._count(account, "sent_again")
            admitted.duplicate = ("sent_again", settled.reference)
            break
        else:
            return None  # claimed and deleted under it three times: sent unclaimed
        admitted.claim, admitted.rules = key, rules
        admitted.first_at, admitted.reference = self._clock(), reference
        return None

    async def _repeat(
        self,
        route: AccountRoute,
        pdu: MessagePdu,
        submission: Submission,
        whole: Assembled,
        admitted: Admitted,
        earlier: Earlier,
        name: str,
        reference: str,
        received_at: float,
        action: str,
    ) -> Pdu:
        """Answer a resend with `earlier`'s message_id, its receipts queued again (and a
        long message's: those of the parts it had answered, its answer kept for a resend
        of its completing part, rule 6 of duplicates.py)."""
        origin = submission.origin
        status = SubmitStatus(command_status=_ROK, message_id=earlier.message_id)
        complete = whole.complete
        closing: list[Coroutine[Any, Any, object]] = []
        if complete is not None:
            closing = [self._long.completing_done(complete), self._long.settled(whole, status)]
        await self._settlement.repeated(
            route,
            origin=origin,
            issued=IssuedId(
                message_id=earlier.message_id,
                registered_delivery=pdu.registered_delivery,
                user_message_reference=submission.user_message_reference,
            ),
            earlier=() if complete is None else complete.answered,
            state=FinalState(
                message_state=MessageState(earlier.message_state), error_code=earlier.error_code
            ),
            to=accepted_addresses(origin.destinations, earlier.unsuccess),
            text=admitted.text,
            also=closing,
            trace=Trace(
                pdu=name,
                parts=1 if complete is None else complete.total,
                received_at=received_at,
                reference=reference,
                credits=admitted.per_number * len(submission.numbers),
                duplicate=action,
                duplicate_of=earlier.message_id,
            ),
            now=self._clock(),
        )
        return submitted(pdu, status, earlier.unsuccess)

    def settled(
        self,
        admitted: Admitted,
        requests: Sequence[IsmsMessage],
        results: Sequence[SendResult],
        answer: Answer,
    ) -> list[Coroutine[Any, Any, object]]:
        """The writes that settle the message's claim and reservations with its answer."""
        writes: list[Coroutine[Any, Any, object]] = []
        key, rules = admitted.claim, admitted.rules
        if key is not None and rules is not None:
            books, account = self._duplicates, admitted.account
            status = answer.status
            if status.command_status == _ROK:
                overall = answer.overall
                earlier = Earlier(
                    state=SENT,
                    message_id=status.message_id,
                    message_state=int(overall.message_state),
                    error_code=overall.error_code,
                    unsuccess=answer.unsuccess,
                    reference=admitted.reference,
                    first_at=admitted.first_at,
                )
                # Put with the message's record (never kept for a retry: a claim is a
                # whole message's, never a part's).
                admitted.folded = books.settled_write(account, key, rules, earlier, self._clock())
            elif any(result.outcome is _UNKNOWN for result in results):
                unknown = self._unknown(admitted)
                admitted.folded = books.settled_write(account, key, rules, unknown, self._clock())
            else:
                writes.append(books.forget(account, key))
        if admitted.held is not None:
            given_back = self.caps.settled(admitted.held, requests, results, now=self._clock())
            if given_back is not None:
                writes.append(given_back)
        return writes

    async def unsent(
        self, admitted: Admitted, *, failure: BaseException | None = None, sent: bool = True
    ) -> None:
        """The message failed before its answer. No request left when the store refused its
        intent or its task was cancelled while it waited for a slot (a request in flight is
        never cancelled: sending/sender.py): its claim and reservations are given back.
        Any other `failure` may have come after the request left: its claim becomes unknown
        and its reservations stay. A store that fails here too is logged, not raised: the
        failure that brought the message here is what its answer reports."""
        if failure is not None:
            sent = not isinstance(failure, StateError | asyncio.CancelledError)
        try:
            await self._undo(admitted, sent=sent)
        except StateError as exc:
            log.warning(
                "event=policy_not_released system_id=%s error=%r", admitted.account, str(exc)
            )

    async def _undo(self, admitted: Admitted, *, sent: bool) -> None:
        key, rules = admitted.claim, admitted.rules
        if key is not None and rules is not None:
            books = self._duplicates
            if sent:
                await books.settle(admitted.account, key, rules, self._unknown(admitted))
            else:
                await books.forget(admitted.account, key)
        if admitted.held is not None and not sent:
            await self.caps.unsent(admitted.held, now=self._clock())
        if admitted.intent is not None and not sent:  # it never had its slot
            await self._store.delete_record(*Intents.record_of(admitted.intent))

    async def measure(self, routes: Iterable[AccountRoute]) -> None:
        """Read every capped account's use for the gauges, at most every MEASURE_EVERY_S."""
        now = self._clock()
        if now - self._measured_at < MEASURE_EVERY_S:
            return
        self._measured_at = now
        for route in routes:
            policy = route.policy
            if policy is not None and policy.caps is not None:
                await self.caps.measure(route.system_id, policy.caps, now=now)

    def _unknown(self, admitted: Admitted) -> Earlier:
        return Earlier(
            state=UNKNOWN,
            message_id="",
            message_state=int(MessageState.UNKNOWN),
            error_code=ERR_UNKNOWN,
            unsuccess=(),
            reference=admitted.reference,
            first_at=admitted.first_at,
        )

    def _count(self, account: str, action: str) -> None:
        self._counters.duplicates[(account, action)] += 1
