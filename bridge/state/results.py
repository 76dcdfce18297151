"""The plain values the store hands back: entries, records, parts, counts.

Every time here is seconds since the Unix epoch (a wall clock), passed in by the caller:
stored times outlive the process and are shared by every instance of one Redis, so a
monotonic clock (which restarts with the machine and differs between machines) cannot be used.

Orders are total and the same in every backend, so that the shared test can demand equal
results: queue entries by (due, entry_id), "oldest" entries by (made_at, entry_id), records
by (stored_at, key), expiries by their deadline and then their name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntry:
    """One entry of a queue: `body` as enqueued, `attempts` as last released."""

    queue: str
    entry_id: int
    body: bytes
    made_at: float
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueued:
    """The new entry's id, and the entries dropped to keep the queue within its bound
    (oldest first; the new entry itself when it was the oldest)."""

    entry_id: int
    dropped: tuple[QueueEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCounts:
    """Entries by state: `ready` are not leased (or their lease ended; some may wait for
    their not-before time), `leased` are held by a live lease. `oldest_made_at`: the
    earliest made_at of them all, ready or leased (None when there is none)."""

    ready: int
    leased: int
    oldest_made_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    kind: str
    key: str
    value: bytes
    stored_at: float
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Put:
    """What a put displaced: the record it replaced under the same key, and the records
    dropped (oldest first) to keep the kind within its bound."""

    replaced: Record | None
    dropped: tuple[Record, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartLimits:
    """Bounds of the part groups: groups per scope (an account), and the octets of every
    stored part together."""

    max_groups_per_scope: int
    max_bytes: int

    def __post_init__(self) -> None:
        if self.max_groups_per_scope < 1 or self.max_bytes < 1:
            raise ValueError("part limits must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class PartKept:
    """The part is stored; `received` parts of the group are now held."""

    received: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PartDuplicate:
    """A part with this index is already stored: `stored` is its value (unchanged)."""

    stored: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PartConflict:
    """The group exists with another `meta` or `total`; nothing was stored."""

    meta: bytes
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PartRefused:
    """No room: the scope already has its most groups, or the octets bound is reached."""

    reason: Literal["groups", "bytes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupComplete:
    """This part completed its group, which is removed: `parts` in index order (1..total).
    Exactly one caller gets this for a group."""

    group: str
    meta: bytes
    parts: tuple[bytes, ...]
    first_at: float


PartAdded = PartKept | PartDuplicate | PartConflict | PartRefused | GroupComplete


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepGroup:
    """Where `add_part` keeps a group in the same atomic step that completes it: a record of
    `kind` under `key` (bounded by `max_records` like any put), whose value is
    `encode_kept_group`'s, until the caller deletes it or it expires."""

    kind: str
    key: str
    expires_at: float
    max_records: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptGroup:
    """A group as `KeepGroup` kept it: `completing` is the index of the part that made it
    whole, `parts` in index order."""

    meta: bytes
    first_at: float
    completing: int
    parts: tuple[bytes, ...]


def encode_kept_group(
    meta: bytes, first_at: float, completing: int, parts: Sequence[bytes]
) -> bytes:
    """Netstrings (`len:octets,`): meta, first_at as repr() writes it, the completing index,
    then each part. Every backend writes exactly these octets (the Redis script too, which
    holds first_at as the client sent it: repr of the float)."""
    fields = [meta, repr(first_at).encode(), str(completing).encode(), *parts]
    return b"".join(b"%d:%s," % (len(field), field) for field in fields)


def decode_kept_group(value: bytes) -> KeptGroup:
    fields: list[bytes] = []
    at = 0
    while at < len(value):
        colon = value.index(b":", at)
        length = int(value[at:colon])
        end = colon + 1 + length
        if value[end : end + 1] != b",":
            raise ValueError("not a kept group: a field does not end where its length says")
        fields.append(value[colon + 1 : end])
        at = end + 1
    if len(fields) < 3:
        raise ValueError("not a kept group: fewer than three fields")
    meta, first_at, completing, *parts = fields
    return KeptGroup(
        meta=meta, first_at=float(first_at), completing=int(completing), parts=tuple(parts)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpiredGroup:
    """A group removed at its deadline with `parts` (index, value) of `total`."""

    group: str
    scope: str
    meta: bytes
    total: int
    parts: tuple[tuple[int, bytes], ...]
    first_at: float
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PartCounts:
    groups: int
    octets: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TokensTaken:
    """`granted` when `count` tokens were taken; `tokens` left; `wait_s` until `count`
    tokens will be there (0 when granted)."""

    granted: bool
    tokens: float
    wait_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserved:
    """What `reserve` did: `granted` when the amount was added; `used` is the counter's
    value after it (granted) or as it stands (refused)."""

    granted: bool
    used: int


# (counter, amount, limit, expires_at): one counter of a `reserve_all`, as `reserve` takes it.
Reservation = tuple[str, int, int, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordWrite:
    """A record put beside another operation, in its atomic step (`put_record`'s `also`,
    `claim_and_put`'s `claim`), bounded as `put_record` bounds it."""

    kind: str
    key: str
    value: bytes
    expires_at: float
    max_records: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedAndPut:
    """What `claim_and_put` did: `held` is the live record its claim found (nothing done);
    `reserved` one `Reserved` per reservation, all granted (done) or none (nothing done)."""

    held: Record | None
    reserved: tuple[Reserved, ...]

    @property
    def done(self) -> bool:
        return self.held is None and all(r.granted for r in self.reserved)
