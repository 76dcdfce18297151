"""Duplicate suppression per account: a resend of a message within the account's window.

A message's fingerprint is a hash (BLAKE2b, 128 bits) of its account, source_addr, iSMS
numbers, data_coding and text octets; with `duplicates_key = "user_message_reference"`
a submit carrying that TLV is known by it instead (the ESME's own idempotency key). It is
kept as a record of kind `duplicate/<account>` for `duplicates_window_s` from the first
submit, so every instance sharing a Redis sees it. Rules:
1. The first submit claims the fingerprint as pending, in the store step that commits its
   intent and reserves its caps (`claim_and_put`: of several at once, exactly one gets it);
   once its answer is settled, in the put of its message record, the claim becomes the
   answer (`sent`: its message_id, final state and failed destinations), or
   `unknown` (the outcome is not known: iSMS may have it), or is deleted (iSMS refused it,
   was not reached, or the bridge refused it: nothing was charged, a resend is a new try).
2. `flag`: a resend is sent, counted (`flagged`) and its record names the first.
3. `suppress`: a resend of a `sent` message is answered ESME_ROK with the first's
   message_id (a submit_multi_resp with its failed destinations), nothing is sent, and the
   receipt it asks for is queued again with the first's final state (`suppressed`). A
   resend while the first is pending waits for it (polling the record), then is answered
   so, or is sent when the first's claim was deleted.
4. A resend of an `unknown` message follows `after_unknown`: "send_again" sends it again
   (a second SMS and charge when the first did reach iSMS; `sent_again`), "assume_sent"
   answers ESME_ROK with a new message_id in state UNKNOWN and sends nothing (a lost
   message when the first did not reach iSMS; `assumed_sent`), which later resends get too.
5. A claim still pending after `PENDING_WAIT_S` belongs to a process that died mid-request:
   it is taken as `unknown` (rule 4). On a store one process alone holds (SQLite, memory),
   a claim left pending by an earlier run of the bridge (its `owner` is not this run's)
   is taken as `unknown` at once: that run is over, and its request's outcome with it.
6. A long message sent in parts is known by its whole text and its number of parts, once
   its last part completes it; its UDH or SAR reference is left out, since ESMEs pick a new
   one each time they split a text again (smpplib and go-smpp pick it at random). A part
   resent while its message is incomplete, or a completing part resent within the
   reassembly timeout, is handled by reassembly before this (long_messages/). A
   suppressed long message answers its completing part with the first's message_id; the
   parts it had answered get their receipts with the first's final state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

import orjson

from bridge.pdu import SmeAddress, UnsuccessSme
from bridge.pipeline.policy.settings import DuplicateRules
from bridge.state import Record, RecordStore, RecordWrite

KIND_PREFIX = "duplicate/"
PENDING, SENT, UNKNOWN = "pending", "sent", "unknown"
# At most this many fingerprints per account (the oldest dropped first).
MAX_FINGERPRINTS = 1_000_000
# How long a resend waits for its first's result (no iSMS request lasts nearly as long).
PENDING_WAIT_S = 180.0
_POLL_S = (0.02, 0.05, 0.1, 0.25, 0.5)


@dataclass(slots=True, kw_only=True)
class Earlier:
    """What the first submit of a fingerprint came to (rule 1)."""

    state: Final[str]
    message_id: Final[str]
    message_state: Final[int]
    error_code: Final[int]
    unsuccess: Final[tuple[UnsuccessSme, ...]]
    reference: Final[str]
    first_at: Final[float]
    owner: Final[str] = ""  # of a pending claim: the run of the bridge that took it


def fingerprint(
    *,
    account: str,
    source_addr: str,
    numbers: tuple[str, ...],
    data_coding: int,
    octets: bytes,
    user_message_reference: int | None,
    rules: DuplicateRules,
    parts: int = 1,
) -> str:
    """`octets`: the whole message's, `parts` the number it came in (rule 6)."""
    if rules.key == "user_message_reference" and user_message_reference is not None:
        return f"umr:{user_message_reference}"
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\x00".join((account, source_addr, *numbers, str(data_coding))).encode())
    digest.update(b"\x00" if parts == 1 else f"\x00{parts}\x00".encode())
    digest.update(octets)
    return digest.hexdigest()


def _encode(earlier: Earlier) -> bytes:
    return orjson.dumps(
        (
            earlier.state,
            earlier.message_id,
            earlier.message_state,
            earlier.error_code,
            [
                (u.dest_addr_ton, u.dest_addr_npi, u.destination_addr, u.error_status_code)
                for u in earlier.unsuccess
            ],
            earlier.reference,
            earlier.first_at,
            earlier.owner,
        )
    )


def _decode(value: bytes) -> Earlier:
    # A claim written before claims named their owner has seven fields.
    state, message_id, message_state, error_code, failed, reference, first_at, *owner = (
        orjson.loads(value)
    )
    return Earlier(
        state=state,
        message_id=message_id,
        message_state=message_state,
        error_code=error_code,
        unsuccess=tuple(
            UnsuccessSme(
                dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr, error_status_code=s
            )
            for ton, npi, addr, s in failed
        ),
        reference=reference,
        first_at=first_at,
        owner=str(owner[0]) if owner else "",
    )


def pending(reference: str, first_at: float, owner: str = "") -> Earlier:
    return Earlier(
        state=PENDING,
        message_id="",
        message_state=0,
        error_code=0,
        unsuccess=(),
        reference=reference,
        first_at=first_at,
        owner=owner,
    )


class Duplicates:
    """The fingerprints of one store (module docstring)."""

    __slots__ = ("_alone", "_clock", "_owner", "_sleep", "_store")

    def __init__(
        self,
        store: RecordStore,
        clock: Callable[[], float],
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        *,
        owner: str = "",
        alone: bool = False,
    ) -> None:
        """`owner`: this run of the bridge; `alone`: no other process uses the store (rule
        5: a claim another run left pending is then that of a run that is over)."""
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._owner = owner
        self._alone = alone

    async def claim(
        self, account: str, key: str, rules: DuplicateRules, reference: str
    ) -> Earlier | None:
        """None: this submit is the first (its claim is pending); else the earlier one's."""
        now = self._clock()
        held = await self._store.claim_record(
            KIND_PREFIX + account,
            key,
            _encode(pending(reference, now, self._owner)),
            now=now,
            expires_at=now + rules.window_s,
            max_records=MAX_FINGERPRINTS,
        )
        return None if held is None else _decode(held.value)

    @staticmethod
    def earlier_of(held: Record) -> Earlier:
        return _decode(held.value)

    def claim_write(
        self, account: str, key: str, rules: DuplicateRules, reference: str, now: float
    ) -> RecordWrite:
        """The claim of a first submit (pending), for the store's `claim_and_put`: None
        there means this submit is the first; else it gives the earlier one's record."""
        return RecordWrite(
            kind=KIND_PREFIX + account,
            key=key,
            # _encode(pending(reference, now, owner)), without the Earlier made per message.
            value=orjson.dumps((PENDING, "", 0, 0, (), reference, now, self._owner)),
            expires_at=now + rules.window_s,
            max_records=MAX_FINGERPRINTS,
        )

    def settled_write(
        self, account: str, key: str, rules: DuplicateRules, earlier: Earlier, now: float
    ) -> RecordWrite:
        """`settle` as a record put with the message's own (its `also`)."""
        return RecordWrite(
            kind=KIND_PREFIX + account,
            key=key,
            value=_encode(earlier),
            expires_at=max(earlier.first_at + rules.window_s, now + 1.0),
            max_records=MAX_FINGERPRINTS,
        )

    async def take_over(
        self, account: str, key: str, rules: DuplicateRules, reference: str
    ) -> None:
        """Claim it anew, over an `unknown` or abandoned first (rule 4, send_again)."""
        now = self._clock()
        await self._store.put_record(
            KIND_PREFIX + account,
            key,
            _encode(pending(reference, now, self._owner)),
            now=now,
            expires_at=now + rules.window_s,
            max_records=MAX_FINGERPRINTS,
        )

    async def settled_of(self, account: str, key: str, earlier: Earlier) -> Earlier | None:
        """Wait while `earlier` is pending (rule 3): what it came to, None when its claim
        was deleted or expired, or it as `unknown` past PENDING_WAIT_S (rule 5)."""
        waited, step = 0.0, 0
        while earlier.state == PENDING:
            if waited >= PENDING_WAIT_S or self._ended(earlier):
                return _as_unknown(earlier)
            pause = _POLL_S[min(step, len(_POLL_S) - 1)]
            await self._sleep(pause)
            waited, step = waited + pause, step + 1
            found = await self._store.get_record(KIND_PREFIX + account, key, now=self._clock())
            if found is None:
                return None
            earlier = _decode(found.value)
        return earlier

    def _ended(self, earlier: Earlier) -> bool:
        """A pending claim of an earlier run, on a store this process alone uses (rule 5)."""
        return self._alone and bool(earlier.owner) and earlier.owner != self._owner

    def settle(
        self, account: str, key: str, rules: DuplicateRules, earlier: Earlier
    ) -> Coroutine[Any, Any, object]:
        """The write that makes a claim `earlier` (sent or unknown), to join a group commit;
        it keeps the first submit's window."""
        now = self._clock()
        return self._store.put_record(
            KIND_PREFIX + account,
            key,
            _encode(earlier),
            now=now,
            expires_at=max(earlier.first_at + rules.window_s, now + 1.0),
            max_records=MAX_FINGERPRINTS,
        )

    def forget(self, account: str, key: str) -> Coroutine[Any, Any, bool]:
        """The write that deletes a claim: nothing was charged (rule 1)."""
        return self._store.delete_record(KIND_PREFIX + account, key)


def _as_unknown(earlier: Earlier) -> Earlier:
    return Earlier(
        state=UNKNOWN,
        message_id="",
        message_state=0,
        error_code=0,
        unsuccess=(),
        reference=earlier.reference,
        first_at=earlier.first_at,
    )


def accepted_addresses(
    destinations: tuple[SmeAddress, ...], unsuccess: tuple[UnsuccessSme, ...]
) -> tuple[SmeAddress, ...]:
    """The destinations not among the failed ones (a resend's receipts go to these)."""
    failed = {u.destination_addr for u in unsuccess}
    return tuple(d for d in destinations if d.destination_addr not in failed)
