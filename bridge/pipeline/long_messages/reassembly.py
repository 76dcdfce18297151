"""The bounded store that turns the parts of a long message back into one message.

Rules (SMPP 3.4 §5.3.2.22-24, 3GPP TS 23.040 §9.2.3.24.1):
1. A message is keyed by `LongMessageKey`: (account, source_addr, the destination
   addresses, reference, total). Parts whose total differs are parts of a different message
   (an 8-bit reference repeats every 256 messages, so two long messages to one handset may
   share it). TON/NPI are not in the key: an ESME may send them differently per part.
2. Parts arrive in any order. The RAW payload octets are kept and joined in seqnum order
   when the last one arrives; the caller decodes the joined octets, so an ESC pair or a
   UTF-16 surrogate pair cut across two parts survives.
3. A non-final part is answered at once with a message_id of its own (`Pending`). The part
   that completes the message gets `Complete`, answered by the caller once iSMS has.
4. A duplicate (same seqnum, same octets) is answered again with the message_id it got the
   first time, and stored once. The same seqnum with different octets is refused
   (ESME_RSUBMITFAIL) and the first copy kept: it is most likely a second message reusing
   the reference, and mixing the two would send a text nobody wrote.
5. Every part of one message must share a data_coding: the octets are joined before
   decoding, so a mixed message has no meaning. A mismatching part is refused (ESME_RSUBMITFAIL).
6. Bounds, each refused with ESME_RMSGQFUL ("message queue full": the ESME may retry later,
   which ESME_RTHROTTLED would wrongly frame as a rate problem): pending messages per
   account, and octets buffered over all accounts (each kept part's payload and the ~24
   octets that record its message_id and receipt request). A part that completes its
   message is never refused for space, since it frees what its message holds.
7. A message still incomplete `limits.timeout` seconds after its FIRST part is dropped by
   `expire(now)`, which returns what the caller needs for a log line, a metric and failure
   receipts for the parts already answered. The deadline does not slide with later parts,
   so no peer can hold memory longer than the timeout.

The parts live in the state store (a `PartStore`), so a message whose earlier parts were
answered ESME_ROK survives a restart and completes when its last part comes after it, and
one that is past its deadline by then is expired as usual. Time is passed in (`now`, Unix
seconds, a wall clock: a stored deadline must mean the same after a reboot);
`first_part_at` is on that same clock.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass

from bridge.pdu import CommandStatus, SmeAddress
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.checks.udh import ConcatenatedPart
from bridge.pipeline.settings import ReassemblyLimits
from bridge.state import (
    GroupComplete,
    KeepGroup,
    KeptGroup,
    PartAdded,
    PartConflict,
    PartDuplicate,
    PartKept,
    PartLimits,
    PartRefused,
    PartStore,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LongMessageKey:
    """Which long message a part belongs to (rule 1): the one key of the reassembly store,
    of the messages kept for a retry, and of what is stored for both."""

    account: str
    source_addr: str
    destinations: tuple[str, ...]
    reference: int
    total: int

    @classmethod
    def of(cls, origin: MessageOrigin, *, reference: int, total: int) -> LongMessageKey:
        return cls(
            account=origin.account,
            source_addr=origin.source_addr,
            destinations=tuple(address.destination_addr for address in origin.destinations),
            reference=reference,
            total=total,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AnsweredPart:
    """A non-final part, already answered with its own message_id.

    Each part carries its own registered_delivery and user_message_reference, so a
    receipt for that message_id can honour them.
    """

    seqnum: int
    message_id: str
    registered_delivery: int
    user_message_reference: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """Answer this part now with `message_id` (ESME_ROK); the message is not complete."""

    message_id: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Complete:
    """This part completed the message: `octets` are all payloads joined in seqnum order."""

    origin: MessageOrigin
    reference: int
    total: int
    data_coding: int
    octets: bytes
    answered: tuple[AnsweredPart, ...]
    first_part_at: float

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(part.message_id for part in self.answered)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Answer this part with `command_status`; `reason` is for the log line."""

    command_status: CommandStatus
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Expired:
    """A message dropped at its deadline with `parts_received` of `total` parts."""

    origin: MessageOrigin
    reference: int
    total: int
    parts_received: int
    answered: tuple[AnsweredPart, ...]
    first_part_at: float

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(part.message_id for part in self.answered)


AddResult = Pending | Complete | Rejected

# A kept part's value: its message_id, registered_delivery and user_message_reference, then
# the payload octets.
_PART_HEAD = struct.Struct(">BBBH")  # id length, registered_delivery, has umr, umr


def _part_value(
    message_id: str, registered_delivery: int, umr: int | None, payload: bytes
) -> bytes:
    ident = message_id.encode("ascii")
    head = _PART_HEAD.pack(len(ident), registered_delivery & 0xFF, umr is not None, umr or 0)
    return head + ident + payload


def _part_of(seqnum: int, value: bytes) -> tuple[AnsweredPart | None, bytes]:
    """(the answered part, None when the value holds no message_id; its payload)."""
    length, registered_delivery, has_umr, umr = _PART_HEAD.unpack_from(value)
    start = _PART_HEAD.size
    message_id = value[start : start + length].decode("ascii")
    payload = value[start + length :]
    if not message_id:
        return None, payload
    answered = AnsweredPart(
        seqnum=seqnum,
        message_id=message_id,
        registered_delivery=registered_delivery,
        user_message_reference=umr if has_umr else None,
    )
    return answered, payload


def _meta(origin: MessageOrigin, data_coding: int) -> bytes:
    """What the first part fixes for its message: data_coding and the addresses."""
    return json.dumps(
        [
            data_coding,
            origin.account,
            origin.source_addr_ton,
            origin.source_addr_npi,
            origin.source_addr,
            [[d.dest_addr_ton, d.dest_addr_npi, d.destination_addr] for d in origin.destinations],
        ],
        separators=(",", ":"),
    ).encode("utf-8")


def _from_meta(meta: bytes) -> tuple[int, MessageOrigin]:
    data_coding, account, ton, npi, source, destinations = json.loads(meta)
    origin = MessageOrigin(
        account=account,
        source_addr_ton=ton,
        source_addr_npi=npi,
        source_addr=source,
        destinations=tuple(
            SmeAddress(dest_addr_ton=t, dest_addr_npi=n, destination_addr=a)
            for t, n, a in destinations
        ),
    )
    return data_coding, origin


def group_name(key: LongMessageKey) -> str:
    """The store's name of a long message: its key, written unambiguously."""
    return json.dumps(
        [key.account, key.source_addr, list(key.destinations), key.reference, key.total],
        separators=(",", ":"),
    )


class Reassembly:
    """Pending long messages of every account, in the state store, bounded by `limits`."""

    def __init__(
        self,
        state: PartStore,
        *,
        limits: ReassemblyLimits,
        new_message_id: Callable[[], str],
    ) -> None:
        self._state = state
        self._limits = limits
        self._part_limits = PartLimits(
            max_groups_per_scope=limits.max_pending_per_account,
            max_bytes=limits.max_buffered_bytes,
        )
        self._new_message_id = new_message_id

    async def counts(self) -> tuple[int, int]:
        """(incomplete messages, octets held) over every account."""
        counts = await self._state.part_counts()
        return counts.groups, counts.octets

    async def pending_for(self, account: str) -> int:
        return (await self._state.part_counts(scope=account)).groups

    async def add(
        self,
        part: ConcatenatedPart,
        *,
        origin: MessageOrigin,
        data_coding: int,
        registered_delivery: int = 0,
        user_message_reference: int | None = None,
        now: float,
        keep: KeepGroup | None = None,
    ) -> AddResult:
        """Take one part of a message of two or more parts (a "part 1 of 1" is no long
        message: the caller passes it straight through). Raises StateUnavailable when the
        part cannot be committed (nothing was kept). With `keep`, a message this part
        completes is kept as that record in the same step (`kept_complete` reads it)."""
        key = LongMessageKey.of(origin, reference=part.reference, total=part.total)
        group = group_name(key)
        meta = _meta(origin, data_coding)
        # Only the completing part can be told apart after the store answers, so every part
        # is stored with an id; the completing one's id is simply never given out.
        message_id = self._new_message_id()
        value = _part_value(message_id, registered_delivery, user_message_reference, part.payload)
        added = await self._add(group, part, value, meta, origin.account, now, keep)
        if isinstance(added, PartConflict):
            stored_coding, _ = _from_meta(added.meta)
            if stored_coding != data_coding:
                return Rejected(
                    command_status=CommandStatus.ESME_RSUBMITFAIL,
                    reason=(
                        f"part {part.seqnum} has data_coding 0x{data_coding:02X}, earlier "
                        f"parts 0x{stored_coding:02X}"
                    ),
                )
            # Same data_coding, other TON/NPI (not part of the key, rule 1): the first
            # part's addresses stand.
            added = await self._add(group, part, value, added.meta, origin.account, now, keep)
        match added:
            case PartKept():
                return Pending(message_id=message_id)
            case PartDuplicate():
                held, payload = _part_of(part.seqnum, added.stored)
                if payload != part.payload or held is None:
                    return Rejected(
                        command_status=CommandStatus.ESME_RSUBMITFAIL,
                        reason=(
                            f"part {part.seqnum} of {part.total} (reference {part.reference})"
                            " was already received with different content"
                        ),
                    )
                return Pending(message_id=held.message_id, duplicate=True)
            case PartRefused():
                return Rejected(
                    command_status=CommandStatus.ESME_RMSGQFUL, reason=self._full(added)
                )
            case GroupComplete():
                return _complete(key, added, completing=part.seqnum)
            case PartConflict():
                return Rejected(
                    command_status=CommandStatus.ESME_RSUBMITFAIL,
                    reason=f"part {part.seqnum} does not match the earlier parts of its message",
                )

    async def expire(self, now: float) -> list[Expired]:
        """Drop every message whose deadline is at or before `now`, oldest first."""
        expired: list[Expired] = []
        for group in await self._state.expire_groups(now=now):
            _, origin = _from_meta(group.meta)
            key_fields = json.loads(group.group)
            answered = [_part_of(seqnum, value)[0] for seqnum, value in group.parts]
            expired.append(
                Expired(
                    origin=origin,
                    reference=key_fields[3],
                    total=group.total,
                    parts_received=len(group.parts),
                    answered=tuple(a for a in answered if a is not None),
                    first_part_at=group.first_at,
                )
            )
        return expired

    async def _add(
        self,
        group: str,
        part: ConcatenatedPart,
        value: bytes,
        meta: bytes,
        scope: str,
        now: float,
        keep: KeepGroup | None,
    ) -> PartAdded:
        return await self._state.add_part(
            group,
            part.seqnum,
            value,
            total=part.total,
            scope=scope,
            meta=meta,
            now=now,
            expires_at=now + self._limits.timeout,
            limits=self._part_limits,
            keep=keep,
        )

    def _full(self, refused: PartRefused) -> str:
        if refused.reason == "groups":
            limit = self._limits.max_pending_per_account
            return f"account already has {limit} incomplete long messages"
        limit = self._limits.max_buffered_bytes
        return f"reassembly buffer full ({limit} octets held for incomplete messages)"


def _complete(key: LongMessageKey, done: GroupComplete, *, completing: int) -> Complete:
    data_coding, origin = _from_meta(done.meta)
    answered: list[AnsweredPart] = []
    payloads: list[bytes] = []
    for seqnum, value in enumerate(done.parts, start=1):
        held, payload = _part_of(seqnum, value)
        payloads.append(payload)
        if held is not None and seqnum != completing:
            answered.append(held)
    return Complete(
        origin=origin,
        reference=key.reference,
        total=key.total,
        data_coding=data_coding,
        octets=b"".join(payloads),
        answered=tuple(answered),
        first_part_at=done.first_at,
    )


def kept_complete(group: str, kept: KeptGroup) -> tuple[Complete, int, bytes]:
    """A message the store kept as a part completed it (`add`'s `keep`): the `Complete`
    that part got, and that part's seqnum and payload."""
    account, source, destinations, reference, total = json.loads(group)
    key = LongMessageKey(
        account=account,
        source_addr=source,
        destinations=tuple(destinations),
        reference=reference,
        total=total,
    )
    done = GroupComplete(group=group, meta=kept.meta, parts=kept.parts, first_at=kept.first_at)
    _, payload = _part_of(kept.completing, kept.parts[kept.completing - 1])
    return _complete(key, done, completing=kept.completing), kept.completing, payload
