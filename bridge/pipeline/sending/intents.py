"""Intents: what the bridge is about to ask iSMS, committed before the request leaves.

A crash can come at any moment of a message's way, and iSMS charges per request, so after a
restart the bridge must know, for every message it was working on, whether iSMS may have it.

Rules:
1. Before the request of every message leaves for iSMS, an intent record is committed
   (kind `intent`): the account, the addresses, the PDU, when it (or its first part) came,
   its reference, and the long message it completes, if any. A submit_sm or data_sm
   commits it once its iSMS account's slot is had, right before the request; a submit_multi
   before its batches wait for their slots; one of an account with caps or duplicate
   suppression with its claim and reservations, in one store step before it waits for its
   slot (policy/gate.py; deleted when it never gets one). Intents made in the same loop
   turn share one group commit (state/sqlite/writer.py). If it cannot be committed, nothing is sent
   (StateUnavailable: the ESME is answered ESME_RSYSERR and may retry).
2. The intent is deleted in the same atomic step that settles the message: the put of its
   message record deletes it (the store's `deleting`), committed with its receipts; a long
   message kept for the ESME's retry deletes it with that keep.
3. The long message a part completes is kept, in the same atomic step that completes it
   (the store's `KeepGroup`), as a record of kind `completing/<account>` until that commit
   deletes it. It is never claimed by a resend while it is there: a resend of a part whose
   message is at iSMS is no retry.
4. A settled long message's answer is kept until its reassembly deadline (kind
   `settled/<account>`, written in its settling commit): the ESME's resend of its completing
   part, which a crash or a lost connection left unanswered, gets that answer again and
   nothing is sent (long_messages/assembly.py).
5. What a crash left is settled by `outcome/unsettled.py`: at start when this process owns
   the store alone (memory, SQLite: everything in it was this process's), and otherwise
   (Redis, shared with instances that are alive) at its expiry (`INTENT_S`), which only a
   record whose process died reaches. The cases:
   - an intent: the request may have reached iSMS. The message is settled as an unknown
     outcome is at runtime: a long message's earlier parts are kept for the ESME's resend of
     its last part when `unknown_outcome_status` is ESME_RSYSERR (that resend is sent, as
     after any unknown outcome of a completing part), and are otherwise given their final
     state (UNKNOWN, err 255) and their receipts. Either way a record with the intent's
     reference is written for the operator (`isms-bridge messages`), a warning is logged
     (`event=intent_unsettled`) and it is counted (`state_recovered ... intents=N`).
   - a completing long message without an intent: no request left. It is kept for the
     ESME's retry of its last part, as after ESME_RSYSERR (long_messages/retries.py).
"""

from __future__ import annotations

import os
from collections.abc import Coroutine
from dataclasses import dataclass
from itertools import count
from operator import attrgetter
from typing import Any, Final

import orjson

from bridge.pdu import SmeAddress
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.long_messages.reassembly import Complete, LongMessageKey, group_name
from bridge.state import Record, RecordStore, RecordWrite

INTENT_KIND = "intent"
COMPLETING_KIND_PREFIX = "completing/"
SETTLED_KIND_PREFIX = "settled/"
# Intents and completing long messages live only while their message is at iSMS (sessions x
# windows at most); the bound only keeps a store that is never swept from growing for ever.
MAX_OPEN = 100_000
# An intent still there this long after it was made belongs to a process that died (no
# request lasts nearly as long: `[isms] timeout_s` is at most 120 s): its expiry is how a
# store shared with other instances settles it (rule 5). Its long message's completing record
# expires a minute later, so that the intent's settlement still finds it.
INTENT_S = 600.0
KEEP_S = INTENT_S + 60.0


@dataclass(slots=True, kw_only=True)
class Intent:
    """One message on its way to iSMS, as committed before its request (rule 1)."""

    key: Final[str]
    origin: Final[MessageOrigin]
    pdu: Final[str]
    parts: Final[int]
    received_at: Final[float]  # Unix seconds
    reference: Final[str]
    group: Final[str | None]  # the long message it completes (its completing record's key)


class Intents:
    __slots__ = ("_names", "_prefix", "_state")

    def __init__(self, state: RecordStore) -> None:
        self._state = state
        # Keys unique across restarts and instances sharing one store: a random prefix per
        # process, then a counter.
        self._prefix = os.urandom(6).hex()
        self._names = count(1)

    def prepare(
        self,
        origin: MessageOrigin,
        pdu: str,
        complete: Complete | None,
        received_at: float,
        reference: str,
    ) -> Intent:
        """The intent of a message (completing `complete`, if not None), to `open`."""
        key = f"{self._prefix}-{next(self._names)}"
        if complete is None:
            return Intent(
                key=key,
                origin=origin,
                pdu=pdu,
                parts=1,
                received_at=received_at,
                reference=reference,
                group=None,
            )
        long_message = LongMessageKey.of(origin, reference=complete.reference, total=complete.total)
        return Intent(
            key=key,
            origin=origin,
            pdu=pdu,
            parts=complete.total,
            received_at=complete.first_part_at,
            reference=reference,
            group=group_name(long_message),
        )

    async def open(self, intent: Intent, *, now: float) -> None:
        """Commit `intent` before its message's first request leaves (rule 1); raises
        StateUnavailable when it cannot be (nothing is sent)."""
        await self._state.put_record(
            INTENT_KIND,
            intent.key,
            _encode(intent),
            now=now,
            expires_at=now + INTENT_S,
            max_records=MAX_OPEN,
        )

    def closed(self, intent: Intent) -> list[Coroutine[Any, Any, object]]:
        """The writes that settle `intent` beside the one that deletes it (rule 2), to start
        with the settling writes: the deletion of its long message's completing record."""
        if intent.group is None:
            return []
        return [self.completing_done(intent.origin.account, intent.group)]

    @staticmethod
    def record_of(intent: Intent) -> tuple[str, str]:
        """`intent`'s record (kind, key): what the put settling it deletes (rule 2)."""
        return (INTENT_KIND, intent.key)

    def completing_done(self, account: str, group: str) -> Coroutine[Any, Any, bool]:
        return self._state.delete_record(COMPLETING_KIND_PREFIX + account, group)

    async def left_over(self, *, now: float) -> tuple[Intent, ...]:
        """The intents a crash left, oldest first."""
        records = await self._state.scan_records(INTENT_KIND, now=now)
        return tuple(_decode(r.key, r.value) for r in reversed(records))

    async def forget(self, intent: Intent) -> None:
        await self._state.delete_record(INTENT_KIND, intent.key)


def intent_write(intent: Intent, now: float) -> RecordWrite:
    """`intent`'s record as `open` puts it, for a store step that commits more with it."""
    return RecordWrite(
        kind=INTENT_KIND,
        key=intent.key,
        value=_encode(intent),
        expires_at=now + INTENT_S,
        max_records=MAX_OPEN,
    )


def is_intent_record(record: Record) -> bool:
    return record.kind == INTENT_KIND


def is_completing_record(record: Record) -> bool:
    return record.kind.startswith(COMPLETING_KIND_PREFIX)


def intent_of(record: Record) -> Intent:
    return _decode(record.key, record.value)


# (dest_addr_ton, dest_addr_npi, destination_addr) of an SME address, without a Python frame.
_ADDRESS = attrgetter("dest_addr_ton", "dest_addr_npi", "destination_addr")


def _encode(intent: Intent) -> bytes:
    """One JSON array (orjson: one is written per message). Addresses come as the PDU decoder
    gives them (latin-1: any octet but NUL), which JSON keeps exactly."""
    origin = intent.origin
    return orjson.dumps(
        (
            origin.account,
            origin.source_addr_ton,
            origin.source_addr_npi,
            origin.source_addr,
            intent.pdu,
            intent.parts,
            intent.received_at,
            intent.reference,
            intent.group,
            list(map(_ADDRESS, origin.destinations)),
        )
    )


def _decode(key: str, value: bytes) -> Intent:
    account, ton, npi, source, pdu, parts, received_at, reference, group, to = orjson.loads(value)
    return Intent(
        key=key,
        origin=MessageOrigin(
            account=account,
            source_addr_ton=ton,
            source_addr_npi=npi,
            source_addr=source,
            destinations=tuple(
                SmeAddress(dest_addr_ton=t, dest_addr_npi=n, destination_addr=a) for t, n, a in to
            ),
        ),
        pdu=pdu,
        parts=parts,
        received_at=received_at,
        reference=reference,
        group=group,
    )
