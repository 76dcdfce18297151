"""Long messages whose completing part was answered "try again", kept for that retry.

The earlier parts of a long message were answered ESME_ROK when they came (reassembly.py,
rule 3). If the part that completes it is answered ESME_RSYSERR (iSMS unreachable, or an
outcome the operator chose to call temporary), the ESME resends THAT part only, as SMPP
clients do. Without this store the resent part would start a new message that can never
complete, and the text the ESME was told is accepted would silently never leave.

Rules:
1. The whole message (its joined octets and the parts already answered) is kept under the
   reassembly key until the original reassembly deadline; no new deadline is granted.
2. The same part again (same seqnum, same octets) claims it: the message is sent again whole.
3. A different part under that key means the ESME is sending the whole message anew: the
   kept one is superseded and settled as failed (the new parts make a new message).
4. At most `max_per_account` kept per account; past it the oldest kept, and at its
   deadline each, is settled as failed, with failure receipts for the parts answered.

Kept in the state store as records of kind `retry/<account>` (the store bounds each kind),
keyed by the long message's key, expiring at the deadline: a message kept for a retry
survives a restart, and the retry after it is still sent whole.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.pdu import SmeAddress
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.checks.udh import ConcatenatedPart
from bridge.pipeline.long_messages.reassembly import (
    AnsweredPart,
    Complete,
    LongMessageKey,
    group_name,
    kept_complete,
)
from bridge.pipeline.outcome.receipts import ERR_UNKNOWN, MessageState
from bridge.state import KeepGroup, Put, Record, RecordStore, decode_kept_group

RETRY_KIND_PREFIX = "retry/"


@dataclass(frozen=True, slots=True, kw_only=True)
class AwaitingRetry:
    complete: Complete
    seqnum: int
    payload: bytes
    deadline: float
    # How to settle the answered parts if the retry never comes.
    message_state: MessageState
    error_code: int


def retry_key(complete: Complete) -> LongMessageKey:
    return LongMessageKey.of(complete.origin, reference=complete.reference, total=complete.total)


def is_retry_record(record: Record) -> bool:
    return record.kind.startswith(RETRY_KIND_PREFIX)


class AwaitingRetries:
    __slots__ = ("_state", "max_per_account")

    def __init__(self, state: RecordStore, *, max_per_account: int) -> None:
        if max_per_account < 1:
            raise ValueError("max_per_account must be positive")
        self._state = state
        self.max_per_account = max_per_account

    async def count(self, account: str) -> int:
        return await self._state.record_count(RETRY_KIND_PREFIX + account)

    async def keep(
        self,
        entry: AwaitingRetry,
        *,
        now: float,
        also: Sequence[Coroutine[Any, Any, object]] = (),
    ) -> list[AwaitingRetry]:
        """Keep `entry` for its retry, committed together with `also`; returns what must be
        settled now instead (an older one it replaced, or the account's oldest past its
        bound). Raises StateUnavailable."""
        key = retry_key(entry.complete)
        put_record = self._state.put_record(
            RETRY_KIND_PREFIX + key.account,
            group_name(key),
            encode_retry(entry),
            now=now,
            expires_at=max(entry.deadline, now + 1.0),
            max_records=self.max_per_account,
        )
        # Started together, so that they share one commit.
        put, *others = await asyncio.gather(put_record, *also, return_exceptions=True)
        for result in (put, *others):
            if isinstance(result, BaseException):
                raise result
        assert isinstance(put, Put)
        displaced = [put.replaced] if put.replaced is not None else []
        return [decode_retry(record.value) for record in (*displaced, *put.dropped)]

    async def claim(
        self, key: LongMessageKey, part: ConcatenatedPart, *, now: float, keep: KeepGroup
    ) -> tuple[AwaitingRetry | None, AwaitingRetry | None]:
        """(the kept message this part retries, a kept message this part supersedes).

        A retried message is copied to `keep` (its completing record) before it leaves the
        retries, so that a crash in between leaves it in one of them or both, never in
        neither; of several callers exactly one claims it."""
        kind, group = RETRY_KIND_PREFIX + key.account, group_name(key)
        found = await self._state.get_record(kind, group, now=now)
        if found is None:
            return None, None
        entry = decode_retry(found.value)
        retried = part.seqnum == entry.seqnum and part.payload == entry.payload
        if retried:
            await self._state.put_record(
                keep.kind,
                keep.key,
                found.value,
                now=now,
                expires_at=keep.expires_at,
                max_records=keep.max_records,
            )
        if await self._state.take_record(kind, group, now=now) is None:
            # Another caller claimed it first; the completing copy is the same record as
            # that caller's (same key and value), which its settlement deletes.
            return None, None
        return (entry, None) if retried else (None, entry)


def encode_retry(entry: AwaitingRetry) -> bytes:
    complete, origin = entry.complete, entry.complete.origin
    return json.dumps(
        {
            "account": origin.account,
            "source": [origin.source_addr_ton, origin.source_addr_npi, origin.source_addr],
            "destinations": [
                [d.dest_addr_ton, d.dest_addr_npi, d.destination_addr] for d in origin.destinations
            ],
            "reference": complete.reference,
            "total": complete.total,
            "data_coding": complete.data_coding,
            "octets": complete.octets.hex(),
            "answered": [
                [a.seqnum, a.message_id, a.registered_delivery, a.user_message_reference]
                for a in complete.answered
            ],
            "first_part_at": complete.first_part_at,
            "seqnum": entry.seqnum,
            "payload": entry.payload.hex(),
            "deadline": entry.deadline,
            "message_state": int(entry.message_state),
            "error_code": entry.error_code,
        },
        separators=(",", ":"),
    ).encode("utf-8")


def decode_retry(value: bytes) -> AwaitingRetry:
    fields = json.loads(value)
    ton, npi, source = fields["source"]
    origin = MessageOrigin(
        account=fields["account"],
        source_addr_ton=ton,
        source_addr_npi=npi,
        source_addr=source,
        destinations=tuple(
            SmeAddress(dest_addr_ton=t, dest_addr_npi=n, destination_addr=a)
            for t, n, a in fields["destinations"]
        ),
    )
    complete = Complete(
        origin=origin,
        reference=fields["reference"],
        total=fields["total"],
        data_coding=fields["data_coding"],
        octets=bytes.fromhex(fields["octets"]),
        answered=tuple(
            AnsweredPart(
                seqnum=seqnum,
                message_id=message_id,
                registered_delivery=registered_delivery,
                user_message_reference=umr,
            )
            for seqnum, message_id, registered_delivery, umr in fields["answered"]
        ),
        first_part_at=fields["first_part_at"],
    )
    return AwaitingRetry(
        complete=complete,
        seqnum=fields["seqnum"],
        payload=bytes.fromhex(fields["payload"]),
        deadline=fields["deadline"],
        message_state=MessageState(fields["message_state"]),
        error_code=fields["error_code"],
    )


def decode_completing(group: str, value: bytes) -> AwaitingRetry:
    """A completing record (sending/intents.py, rule 3): the group the store kept as it
    completed, or a retry's record claimed for its resend. Its deadline and fate are the
    caller's to set: here they are those of a message that was not sent."""
    if value.startswith(b"{"):
        return decode_retry(value)
    complete, seqnum, payload = kept_complete(group, decode_kept_group(value))
    return AwaitingRetry(
        complete=complete,
        seqnum=seqnum,
        payload=payload,
        deadline=complete.first_part_at,
        message_state=MessageState.UNDELIVERABLE,
        error_code=ERR_UNKNOWN,
    )
