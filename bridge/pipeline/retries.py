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
4. At most `max_per_account` kept per account; past it, or at the deadline, the message is
   settled as failed, with failure receipts for the parts that were answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.pipeline.reassembly import Complete, LongMessageKey
from bridge.pipeline.receipts import MessageState
from bridge.pipeline.udh import ConcatenatedPart


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


class AwaitingRetries:
    __slots__ = ("_entries", "_per_account", "max_per_account")

    def __init__(self, *, max_per_account: int) -> None:
        if max_per_account < 1:
            raise ValueError("max_per_account must be positive")
        self.max_per_account = max_per_account
        self._entries: dict[LongMessageKey, AwaitingRetry] = {}
        self._per_account: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def keep(self, entry: AwaitingRetry) -> AwaitingRetry | None:
        """Keep `entry` for its retry; returns what must be settled now instead, if anything
        (the entry itself when the account is at its bound, or an older one it replaced)."""
        key = retry_key(entry.complete)
        account = key.account
        replaced = self._pop(key)
        if self._per_account.get(account, 0) >= self.max_per_account:
            return entry
        self._entries[key] = entry
        self._per_account[account] = self._per_account.get(account, 0) + 1
        return replaced

    def claim(
        self, key: LongMessageKey, part: ConcatenatedPart
    ) -> tuple[AwaitingRetry | None, AwaitingRetry | None]:
        """(the kept message this part retries, a kept message this part supersedes)."""
        entry = self._entries.get(key)
        if entry is None:
            return None, None
        self._pop(key)
        if part.seqnum == entry.seqnum and part.payload == entry.payload:
            return entry, None
        return None, entry

    def expire(self, now: float) -> list[AwaitingRetry]:
        due = [key for key, entry in self._entries.items() if entry.deadline <= now]
        return [entry for key in due if (entry := self._pop(key)) is not None]

    def _pop(self, key: LongMessageKey) -> AwaitingRetry | None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            account = key.account
            remaining = self._per_account[account] - 1
            if remaining:
                self._per_account[account] = remaining
            else:
                del self._per_account[account]
        return entry
