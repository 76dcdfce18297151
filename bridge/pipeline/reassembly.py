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
   account, and octets buffered over all accounts. A part that completes its message is
   never refused for space, since it frees what its message holds.
7. A message still incomplete `limits.timeout` seconds after its FIRST part is dropped by
   `expire(now)`, which returns what the caller needs for a log line, a metric and failure
   receipts for the parts already answered. The deadline does not slide with later parts,
   so no peer can hold memory longer than the timeout.

Time is passed in (`now`, seconds) from a clock that never goes backwards (a monotonic
clock); `first_part_at` is on that same clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.pdu import CommandStatus, SmeAddress
from bridge.pipeline.udh import ConcatenatedPart


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassemblyLimits:
    max_pending_per_account: int = 100
    max_buffered_bytes: int = 8 * 1024 * 1024
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.max_pending_per_account < 1 or self.max_buffered_bytes < 1 or self.timeout <= 0:
            raise ValueError("reassembly limits must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageOrigin:
    """Who sent a message and to whom (one destination, or a submit_multi's several, each
    with its own TON/NPI): the key's addresses and its receipts' addresses."""

    account: str
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    destinations: tuple[SmeAddress, ...] = ()


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


@dataclass(slots=True, kw_only=True)
class _Assembly:
    origin: MessageOrigin
    reference: int
    total: int
    data_coding: int
    first_part_at: float
    deadline: float
    payloads: dict[int, bytes] = field(default_factory=dict)
    answered: dict[int, AnsweredPart] = field(default_factory=dict)
    size: int = 0

    def answered_in_order(self) -> tuple[AnsweredPart, ...]:
        return tuple(self.answered[seqnum] for seqnum in sorted(self.answered))


class Reassembly:
    """Pending long messages of every account, bounded by `limits`."""

    def __init__(self, *, limits: ReassemblyLimits, new_message_id: Callable[[], str]) -> None:
        self._limits = limits
        self._new_message_id = new_message_id
        # Insertion order is first-part order, hence deadline order (rule 7, monotonic now).
        self._assemblies: dict[LongMessageKey, _Assembly] = {}
        self._pending_per_account: dict[str, int] = {}
        self._buffered_bytes = 0

    @property
    def pending_messages(self) -> int:
        return len(self._assemblies)

    @property
    def buffered_bytes(self) -> int:
        return self._buffered_bytes

    def pending_for(self, account: str) -> int:
        return self._pending_per_account.get(account, 0)

    def add(
        self,
        part: ConcatenatedPart,
        *,
        origin: MessageOrigin,
        data_coding: int,
        registered_delivery: int = 0,
        user_message_reference: int | None = None,
        now: float,
    ) -> AddResult:
        """Take one part of a message of two or more parts (a "part 1 of 1" is no long
        message: the caller passes it straight through)."""
        key = LongMessageKey.of(origin, reference=part.reference, total=part.total)
        assembly = self._assemblies.get(key)
        if assembly is None:
            refusal = self._refuse_new(part, origin=origin)
            if refusal is not None:
                return refusal
            assembly = _Assembly(
                origin=origin,
                reference=part.reference,
                total=part.total,
                data_coding=data_coding,
                first_part_at=now,
                deadline=now + self._limits.timeout,
            )
            self._assemblies[key] = assembly
            self._pending_per_account[origin.account] = self.pending_for(origin.account) + 1
        else:
            refusal = self._refuse_part(assembly, part, data_coding=data_coding)
            if refusal is not None:
                return refusal
            if part.seqnum in assembly.payloads:
                return Pending(message_id=assembly.answered[part.seqnum].message_id, duplicate=True)

        if len(assembly.payloads) + 1 == part.total:
            return self._complete(key, assembly, part)
        assembly.payloads[part.seqnum] = part.payload
        assembly.size += len(part.payload)
        self._buffered_bytes += len(part.payload)
        answer = AnsweredPart(
            seqnum=part.seqnum,
            message_id=self._new_message_id(),
            registered_delivery=registered_delivery,
            user_message_reference=user_message_reference,
        )
        assembly.answered[part.seqnum] = answer
        return Pending(message_id=answer.message_id)

    def expire(self, now: float) -> list[Expired]:
        """Drop every message whose deadline is at or before `now`, oldest first."""
        expired: list[Expired] = []
        while self._assemblies:
            key, assembly = next(iter(self._assemblies.items()))
            if assembly.deadline > now:
                break
            self._forget(key, assembly)
            expired.append(
                Expired(
                    origin=assembly.origin,
                    reference=assembly.reference,
                    total=assembly.total,
                    parts_received=len(assembly.payloads),
                    answered=assembly.answered_in_order(),
                    first_part_at=assembly.first_part_at,
                )
            )
        return expired

    def next_deadline(self) -> float | None:
        """When `expire` next has something to do, or None when nothing is pending."""
        for assembly in self._assemblies.values():
            return assembly.deadline
        return None

    def _refuse_new(self, part: ConcatenatedPart, *, origin: MessageOrigin) -> Rejected | None:
        limit = self._limits.max_pending_per_account
        if self.pending_for(origin.account) >= limit:
            return Rejected(
                command_status=CommandStatus.ESME_RMSGQFUL,
                reason=f"account already has {limit} incomplete long messages",
            )
        return self._refuse_space(part)

    def _refuse_part(
        self, assembly: _Assembly, part: ConcatenatedPart, *, data_coding: int
    ) -> Rejected | None:
        held = assembly.payloads.get(part.seqnum)
        if held is not None and held != part.payload:
            return Rejected(
                command_status=CommandStatus.ESME_RSUBMITFAIL,
                reason=(
                    f"part {part.seqnum} of {part.total} (reference {part.reference}) was "
                    "already received with different content"
                ),
            )
        if data_coding != assembly.data_coding:
            return Rejected(
                command_status=CommandStatus.ESME_RSUBMITFAIL,
                reason=(
                    f"part {part.seqnum} has data_coding 0x{data_coding:02X}, earlier parts "
                    f"0x{assembly.data_coding:02X}"
                ),
            )
        if held is not None or len(assembly.payloads) + 1 == part.total:
            return None  # a duplicate or the completing part: needs no new space
        return self._refuse_space(part)

    def _refuse_space(self, part: ConcatenatedPart) -> Rejected | None:
        limit = self._limits.max_buffered_bytes
        if self._buffered_bytes + len(part.payload) > limit:
            return Rejected(
                command_status=CommandStatus.ESME_RMSGQFUL,
                reason=f"reassembly buffer full ({limit} octets held for incomplete messages)",
            )
        return None

    def _complete(
        self, key: LongMessageKey, assembly: _Assembly, part: ConcatenatedPart
    ) -> Complete:
        self._forget(key, assembly)
        payloads = {**assembly.payloads, part.seqnum: part.payload}
        return Complete(
            origin=assembly.origin,
            reference=assembly.reference,
            total=assembly.total,
            data_coding=assembly.data_coding,
            octets=b"".join(payloads[seqnum] for seqnum in range(1, assembly.total + 1)),
            answered=assembly.answered_in_order(),
            first_part_at=assembly.first_part_at,
        )

    def _forget(self, key: LongMessageKey, assembly: _Assembly) -> None:
        del self._assemblies[key]
        self._buffered_bytes -= assembly.size
        account = assembly.origin.account
        remaining = self._pending_per_account[account] - 1
        if remaining:
            self._pending_per_account[account] = remaining
        else:
            del self._pending_per_account[account]
