"""Intents: what the bridge is about to ask iSMS, committed before the request leaves.

A crash can come at any moment of a message's way, and iSMS charges per request, so after a
restart the bridge must know, for every message it was working on, whether iSMS may have it.

Rules:
1. Before the first request of a message leaves for iSMS, an intent record is committed
   (kind `intent`, one per message): the account, the addresses, the PDU, when it came, its
   reference, and the long message it completes. A submit_sm or data_sm commits it once its
   iSMS account's slot is had, right before the request; a submit_multi before its batches
   wait for their slots. If it cannot be committed, nothing is sent (StateUnavailable: the
   ESME is answered ESME_RSYSERR and may retry).
2. The intent is deleted in the same commit that settles the message: its record and its
   receipts, or the long message kept for the ESME's retry.
3. The long message a part completes is kept, in the same atomic step that completes it
   (the store's `KeepGroup`), as a record of kind `completing/<account>` until that commit
   deletes it. It is never claimed by a resend while it is there: a resend of a part whose
   message is at iSMS is no retry.
4. At start, what is left tells the case a crash left (`Intents.recover`):
   - an intent: the request may have reached iSMS. The message is settled as an unknown
     outcome is at runtime: a long message's earlier parts are kept for the ESME's resend of
     its last part when `unknown_outcome_status` is ESME_RSYSERR (that resend is sent, as
     after any unknown outcome of a completing part), and are otherwise given their final
     state (UNKNOWN, err 255) and their receipts. Either way a record with the intent's
     reference is written for the operator (`isms-bridge messages`), a warning is logged
     (`event=intent_unsettled`) and it is counted (`state_recovered ... intents=N`).
   - a completing long message without an intent: no request left. It is kept for the
     ESME's retry of its last part, as after ESME_RSYSERR (retries.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from itertools import count
from typing import Any

from bridge.pdu import SmeAddress
from bridge.pipeline.reassembly import Complete, LongMessageKey, MessageOrigin, group_name
from bridge.state import RecordStore

INTENT_KIND = "intent"
COMPLETING_KIND_PREFIX = "completing/"
# Intents and completing long messages live only while their message is at iSMS (sessions x
# windows at most); the bound only keeps a store that is never swept from growing for ever.
MAX_OPEN = 100_000
# Kept across a restart for at least this long (a bridge down longer settles them at start).
KEEP_S = 7 * 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """One message on its way to iSMS, as committed before its request (rule 1)."""

    key: str
    origin: MessageOrigin
    pdu: str
    parts: int
    received_at: float  # Unix seconds
    reference: str
    group: str | None  # the long message it completes (its completing record's key)


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
        """The intent of a message (that completes `complete`, if any), to `open`."""
        group = None
        if complete is not None:
            key = LongMessageKey.of(origin, reference=complete.reference, total=complete.total)
            group = group_name(key)
        return Intent(
            key=f"{self._prefix}-{next(self._names)}",
            origin=origin,
            pdu=pdu,
            parts=1 if complete is None else complete.total,
            received_at=received_at if complete is None else complete.first_part_at,
            reference=reference,
            group=group,
        )

    async def open(self, intent: Intent, *, now: float) -> None:
        """Commit `intent` before its message's first request leaves (rule 1); raises
        StateUnavailable when it cannot be (nothing is sent)."""
        await self._state.put_record(
            INTENT_KIND,
            intent.key,
            _encode(intent),
            now=now,
            expires_at=now + KEEP_S,
            max_records=MAX_OPEN,
        )

    def closed(self, intent: Intent) -> list[Coroutine[Any, Any, object]]:
        """The deletions that settle `intent` (rule 2), to start with the settling writes."""
        deletions: list[Coroutine[Any, Any, object]] = [
            self._state.delete_record(INTENT_KIND, intent.key)
        ]
        if intent.group is not None:
            deletions.append(self.completing_done(intent.origin.account, intent.group))
        return deletions

    def completing_done(self, account: str, group: str) -> Coroutine[Any, Any, bool]:
        return self._state.delete_record(COMPLETING_KIND_PREFIX + account, group)

    async def left_over(self, *, now: float) -> tuple[Intent, ...]:
        """The intents a crash left, oldest first."""
        records = await self._state.scan_records(INTENT_KIND, now=now)
        return tuple(_decode(r.key, r.value) for r in reversed(records))

    async def forget(self, intent: Intent) -> None:
        await self._state.delete_record(INTENT_KIND, intent.key)


def _encode(intent: Intent) -> bytes:
    origin = intent.origin
    return json.dumps(
        {
            "account": origin.account,
            "source": [origin.source_addr_ton, origin.source_addr_npi, origin.source_addr],
            "destinations": [
                [d.dest_addr_ton, d.dest_addr_npi, d.destination_addr] for d in origin.destinations
            ],
            "pdu": intent.pdu,
            "parts": intent.parts,
            "received_at": intent.received_at,
            "reference": intent.reference,
            "group": intent.group,
        },
        separators=(",", ":"),
    ).encode("utf-8")


def _decode(key: str, value: bytes) -> Intent:
    fields = json.loads(value)
    ton, npi, source = fields["source"]
    return Intent(
        key=key,
        origin=MessageOrigin(
            account=fields["account"],
            source_addr_ton=ton,
            source_addr_npi=npi,
            source_addr=source,
            destinations=tuple(
                SmeAddress(dest_addr_ton=t, dest_addr_npi=n, destination_addr=a)
                for t, n, a in fields["destinations"]
            ),
        ),
        pdu=fields["pdu"],
        parts=fields["parts"],
        received_at=fields["received_at"],
        reference=fields["reference"],
        group=fields["group"],
    )
