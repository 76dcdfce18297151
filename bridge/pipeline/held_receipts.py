"""Receipts waiting for a receiver: bounded per account by count and by age.

SMPP 3.4 Appendix B: receipts go only to a receiver or transceiver session of the
account that sent the message; while none is bound they are held, and sent when one binds.
A peer controls how many are made, so the store is bounded two ways: at most `max_per_account`
per account (the oldest is dropped to make room: a newer receipt is the one more likely to
still matter), and none older than `max_age_s` (measured from when the receipt was made).

Time is passed in (`now`, seconds, a monotonic clock); nothing here does I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from bridge.pdu import DeliverSm


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldReceipt:
    system_id: str
    pdu: DeliverSm
    made_at: float


class HeldReceipts:
    __slots__ = ("_by_account", "max_age_s", "max_per_account")

    def __init__(self, *, max_per_account: int, max_age_s: float) -> None:
        if max_per_account < 1 or max_age_s <= 0:
            raise ValueError("held receipt bounds must be positive")
        self.max_per_account = max_per_account
        self.max_age_s = max_age_s
        self._by_account: dict[str, deque[HeldReceipt]] = {}

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._by_account.values())

    def count(self, system_id: str) -> int:
        return len(self._by_account.get(system_id, ()))

    def accounts(self) -> tuple[str, ...]:
        """The accounts with receipts held, in the order they first held one."""
        return tuple(self._by_account)

    def hold(self, receipt: HeldReceipt, *, now: float) -> int:
        """Keep `receipt` (behind the account's others); returns how many were dropped."""
        dropped = self._drop_old(receipt.system_id, now)
        if receipt.made_at <= now - self.max_age_s:
            return dropped + 1
        queue = self._by_account.setdefault(receipt.system_id, deque())
        queue.append(receipt)
        if len(queue) > self.max_per_account:
            queue.popleft()
            dropped += 1
        return dropped

    def take(self, system_id: str, *, now: float) -> tuple[HeldReceipt | None, int]:
        """The account's oldest receipt still within its age (or None), and how many
        too-old ones were dropped on the way."""
        dropped = self._drop_old(system_id, now)
        queue = self._by_account.get(system_id)
        cutoff = now - self.max_age_s
        receipt: HeldReceipt | None = None
        while queue and receipt is None:
            candidate = queue.popleft()
            if candidate.made_at > cutoff:
                receipt = candidate
            else:
                dropped += 1
        if queue is not None and not queue:
            del self._by_account[system_id]
        return receipt, dropped

    def expire(self, *, now: float) -> int:
        """Drop every receipt older than max_age_s; returns how many."""
        return sum(self._drop_old(system_id, now) for system_id in tuple(self._by_account))

    def clear(self) -> int:
        held = len(self)
        self._by_account.clear()
        return held

    def _drop_old(self, system_id: str, now: float) -> int:
        queue = self._by_account.get(system_id)
        if queue is None:
            return 0
        cutoff = now - self.max_age_s
        dropped = 0
        # Held in the order they came back here, which is nearly the order they were made:
        # the front is the oldest; one re-held after a failed attempt is caught by take().
        while queue and queue[0].made_at <= cutoff:
            queue.popleft()
            dropped += 1
        if not queue:
            del self._by_account[system_id]
        return dropped
