"""Long messages between their parts and their one iSMS request.

`LongMessages` puts each part into the reassembly store (reassembly.py), answers non-final
parts, hands on the message a part completes, keeps a message whose completing part was
answered ESME_RSYSERR for the ESME's retry (retries.py), and tells the settlement
(outcome/settlement.py, the one owner of what happens to message_ids) when a message whose
parts were answered is abandoned: refused when whole, expired incomplete, or never retried.
A PDU that is not part of a long message (or is "part 1 of 1") passes straight through.
What a PDU comes to is an `Assembled`: the whole message to send, or the answer for a part
that completes none.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bridge.pdu import CommandStatus
from bridge.pipeline.checks.submission import MessageOrigin, Refusal
from bridge.pipeline.checks.udh import ConcatenatedPart
from bridge.pipeline.long_messages.reassembly import (
    AnsweredPart,
    Complete,
    Expired,
    LongMessageKey,
    Pending,
    Reassembly,
    group_name,
)
from bridge.pipeline.long_messages.retries import (
    AwaitingRetries,
    AwaitingRetry,
    decode_completing,
    decode_retry,
    is_retry_record,
    retry_key,
)
from bridge.pipeline.outcome.receipts import (
    ERR_REASSEMBLY_TIMEOUT,
    ERR_REFUSED_BY_BRIDGE,
    MessageState,
)
from bridge.pipeline.outcome.settlement import FinalState, Settlement, Trace
from bridge.pipeline.outcome.statuses import SubmitStatus
from bridge.pipeline.sending.intents import (
    COMPLETING_KIND_PREFIX,
    KEEP_S,
    MAX_OPEN,
    SETTLED_KIND_PREFIX,
)
from bridge.pipeline.settings import AccountRoute, PipelineSettings
from bridge.pipeline.upkeep import PipelineCounters, WallClock
from bridge.state import KeepGroup, Record, StateStore

log = logging.getLogger(__name__)

_REFUSED_BY_BRIDGE = FinalState(
    message_state=MessageState.REJECTED, error_code=ERR_REFUSED_BY_BRIDGE
)
_EXPIRED = FinalState(message_state=MessageState.EXPIRED, error_code=ERR_REASSEMBLY_TIMEOUT)


@dataclass(slots=True, kw_only=True)
class Assembled:
    """What one message PDU comes to: a whole message to send, or (`answer` set) the answer
    for a part that completes none, nothing to send (the other fields then say nothing).

    A whole message has its octets, ready to decode, and the long message it completes, if
    any (`complete`, with `part`, the completing part).
    """

    answer: Final[SubmitStatus | None] = None
    octets: Final[bytes] = b""
    complete: Final[Complete | None] = None
    part: Final[ConcatenatedPart | None] = None
    submitted_at: Final[float] = 0.0  # Unix seconds, on the wall clock


class LongMessages:
    def __init__(
        self,
        settings: PipelineSettings,
        *,
        state: StateStore,
        settlement: Settlement,
        route_of: Callable[[str], AccountRoute | None],
        new_message_id: Callable[[], str],
        counters: PipelineCounters,
        clock: Callable[[], float],
        wall: WallClock,
    ) -> None:
        self._timeout = settings.reassembly.timeout
        self._state = state
        self.reassembly = Reassembly(
            state, limits=settings.reassembly, new_message_id=new_message_id
        )
        self._retries = AwaitingRetries(
            state, max_per_account=settings.reassembly.max_pending_per_account
        )
        self._settlement = settlement
        self._route_of = route_of
        self._counters = counters
        self._clock = clock
        self._wall = wall

    def whole(self, octets: bytes) -> Assembled:
        """A PDU that carries a whole message (no UDH or SAR concatenation)."""
        return Assembled(octets=octets, submitted_at=self._wall.now())

    async def assemble(
        self,
        origin: MessageOrigin,
        part: ConcatenatedPart,
        *,
        data_coding: int,
        registered_delivery: int,
        user_message_reference: int | None,
        trace: Trace,
    ) -> Assembled:
        """The whole message `part` completes, or the answer for a part that does not
        complete one (given only once the part and its record are committed)."""
        now = self._clock()
        if part.total == 1:
            return Assembled(octets=part.payload, part=part, submitted_at=self._wall.now())
        key = LongMessageKey.of(origin, reference=part.reference, total=part.total)
        completing = KeepGroup(
            kind=COMPLETING_KIND_PREFIX + origin.account,
            key=group_name(key),
            expires_at=now + KEEP_S,
            max_records=MAX_OPEN,
        )
        retried, superseded = await self._retries.claim(key, part, now=now, keep=completing)
        if superseded is not None:
            await self._give_up(superseded, now)
        if retried is not None:
            log.info(
                "event=long_message_retried account=%s reference=%d", key.account, part.reference
            )
            return self._whole(retried.complete, part, now)
        again = await self._answered_before(key, part, now)
        if again is not None:
            log.info(
                "event=long_message_answered_again account=%s reference=%d message_id=%s",
                key.account,
                part.reference,
                again.message_id,
            )
            return Assembled(answer=again)
        added = await self.reassembly.add(
            part,
            origin=origin,
            data_coding=data_coding,
            registered_delivery=registered_delivery,
            user_message_reference=user_message_reference,
            now=now,
            keep=completing,
        )
        match added:
            case Pending():
                if not added.duplicate:
                    await self._settlement.part_answered(origin, added.message_id, trace, now=now)
                return Assembled(
                    answer=SubmitStatus(
                        command_status=CommandStatus.ESME_ROK, message_id=added.message_id
                    )
                )
            case Complete():
                self._counters.long_messages += 1
                return self._whole(added, part, now)
            case _:
                raise Refusal(added.command_status, added.reason, kind="reassembly")

    async def retries_for(self, account: str) -> int:
        """Messages of `account` kept for the ESME's retry."""
        return await self._retries.count(account)

    async def refused(self, route: AccountRoute, whole: Assembled) -> None:
        """The bridge refused the completed message: its answered parts are REJECTED."""
        if whole.complete is not None:
            complete = whole.complete
            await self._abandoned(
                route,
                complete.origin,
                complete.answered,
                _REFUSED_BY_BRIDGE,
                whole.submitted_at,
                also=[self.completing_done(complete)],
            )

    def completing_done(self, complete: Complete) -> Coroutine[Any, Any, bool]:
        """The deletion of `complete`'s completing record (sending/intents.py, rule 3)."""
        key = retry_key(complete)
        return self._state.delete_record(COMPLETING_KIND_PREFIX + key.account, group_name(key))

    async def keep_for_retry(
        self,
        whole: Assembled,
        failure: FinalState,
        *,
        also: Sequence[Coroutine[Any, Any, object]] = (),
    ) -> None:
        """After ESME_RSYSERR on a completing part: keep the message for the ESME's retry
        (committed with `also`, the writes that settle its intent)."""
        complete, part = whole.complete, whole.part
        assert complete is not None and part is not None  # only a completing part has one
        await self._keep(complete, part.seqnum, part.payload, failure, also=also)

    def settled(self, whole: Assembled, status: SubmitStatus) -> Coroutine[Any, Any, object]:
        """The write that remembers `whole`'s answer until its deadline, committed with its
        settlement: the resend of its completing part gets that answer again, nothing sent
        (an ESME resends what a crash or a lost connection left unanswered)."""
        complete, part = whole.complete, whole.part
        assert complete is not None and part is not None
        return self.answered(complete, part.seqnum, part.payload, status)

    def answered(
        self, complete: Complete, seqnum: int, payload: bytes, status: SubmitStatus
    ) -> Coroutine[Any, Any, object]:
        """As `settled`, for the completing part `seqnum` with `payload`."""
        key = retry_key(complete)
        value = json.dumps(
            [seqnum, payload.hex(), int(status.command_status), status.message_id]
        ).encode()
        return self._state.put_record(
            SETTLED_KIND_PREFIX + key.account,
            group_name(key),
            value,
            now=self._clock(),
            expires_at=max(complete.first_part_at + self._timeout, self._clock() + 1.0),
            max_records=MAX_OPEN,
        )

    async def _answered_before(
        self, key: LongMessageKey, part: ConcatenatedPart, now: float
    ) -> SubmitStatus | None:
        found = await self._state.get_record(
            SETTLED_KIND_PREFIX + key.account, group_name(key), now=now
        )
        if found is None:
            return None
        seqnum, payload, command_status, message_id = json.loads(found.value)
        if seqnum != part.seqnum or bytes.fromhex(payload) != part.payload:
            return None  # another part under a key used again: a new message
        return SubmitStatus(command_status=CommandStatus(command_status), message_id=message_id)

    async def keep_recovered(self, entry: AwaitingRetry, failure: FinalState) -> None:
        """A completing long message left by a crash: kept for the ESME's retry."""
        await self._keep(entry.complete, entry.seqnum, entry.payload, failure, also=())

    async def left_completing(self, account: str) -> list[AwaitingRetry]:
        """The long messages of `account` a crash left between completion and settlement."""
        records = await self._state.scan_records(
            COMPLETING_KIND_PREFIX + account, now=self._clock()
        )
        return [self.completing_entry(record) for record in records]

    async def take_completing(self, account: str, group: str) -> AwaitingRetry | None:
        found = await self._state.take_record(
            COMPLETING_KIND_PREFIX + account, group, now=self._clock()
        )
        return None if found is None else self.completing_entry(found)

    def completing_entry(self, record: Record) -> AwaitingRetry:
        entry = decode_completing(record.key, record.value)
        return dataclasses.replace(entry, deadline=entry.complete.first_part_at + self._timeout)

    async def _keep(
        self,
        complete: Complete,
        seqnum: int,
        payload: bytes,
        failure: FinalState,
        *,
        also: Sequence[Coroutine[Any, Any, object]],
    ) -> None:
        now = self._clock()
        displaced = await self._retries.keep(
            AwaitingRetry(
                complete=complete,
                seqnum=seqnum,
                payload=payload,
                deadline=complete.first_part_at + self._timeout,
                message_state=failure.message_state,
                error_code=failure.error_code,
            ),
            now=now,
            also=[self.completing_done(complete), *also],
        )
        for entry in displaced:
            await self._give_up(entry, now)

    async def sweep(self, now: float, expired_records: Sequence[Record]) -> None:
        """Expire long messages past their deadline; give up the retries whose records
        expired (`expired_records`: what the store's expiry returned, of any kind)."""
        for expired in await self.reassembly.expire(now):
            await self._expired(expired, now)
        for record in expired_records:
            if is_retry_record(record):
                await self._give_up(decode_retry(record.value), now)

    def _whole(self, complete: Complete, part: ConcatenatedPart, now: float) -> Assembled:
        return Assembled(
            octets=complete.octets,
            complete=complete,
            part=part,
            submitted_at=self._wall_at(complete.first_part_at, now),
        )

    async def _give_up(self, entry: AwaitingRetry, now: float) -> None:
        complete = entry.complete
        log.info(
            "event=long_message_not_retried account=%s reference=%d state=%s",
            complete.origin.account,
            complete.reference,
            entry.message_state.stat,
        )
        route = self._route_of(complete.origin.account)
        if route is not None:
            state = FinalState(message_state=entry.message_state, error_code=entry.error_code)
            submitted_at = self._wall_at(complete.first_part_at, now)
            await self._abandoned(route, complete.origin, complete.answered, state, submitted_at)

    async def _expired(self, expired: Expired, now: float) -> None:
        self._counters.reassembly_expired += 1
        origin = expired.origin
        log.warning(
            "event=long_message_expired account=%s reference=%d parts=%d/%d",
            origin.account,
            expired.reference,
            expired.parts_received,
            expired.total,
        )
        route = self._route_of(origin.account)
        if route is not None:
            submitted_at = self._wall_at(expired.first_part_at, now)
            await self._abandoned(route, origin, expired.answered, _EXPIRED, submitted_at)

    async def _abandoned(
        self,
        route: AccountRoute,
        origin: MessageOrigin,
        answered: tuple[AnsweredPart, ...],
        state: FinalState,
        submitted_at: float,
        *,
        also: Sequence[Coroutine[Any, Any, object]] = (),
    ) -> None:
        await self._settlement.abandoned(
            route,
            origin=origin,
            answered=answered,
            state=state,
            submitted_at=submitted_at,
            now=self._clock(),
            also=also,
        )

    def _wall_at(self, moment: float, now: float) -> float:
        """The wall-clock time of `moment` on the store's clock (a receipt's submit date)."""
        return self._wall.now() - max(0.0, now - moment)
