"""The Redis backend: the state every instance of one Redis shares (redis-py's asyncio client).

Every operation is one Lua script (lua/*.lua, read by scripts.py: atomic, so "exactly one
caller gets it" holds across instances) and costs one round trip, shared by every operation
of the same event-loop turn (pipe.py). Round trips per operation: one each, including those
that return several entries or records; `queues` and `has_ready` are one plain command
each. Every pipeline also carries the epoch marker's check.

Data loss (losses.py): `open` refuses a Redis that may evict keys unless the operator
accepts it; what a script finds gone is skipped, removed and reported to the `LossObserver`
(never raised); a Redis that lost everything (restarted empty) is found by the epoch
marker at the next operation, whichever it is. Entries are one key each, so an evicted key
costs one entry, and their ids never repeat (an old acknowledgement cannot remove a new one).

Failures: sockets time out after `socket_timeout` seconds (1 s by default) and connections
are not retried, so an unreachable Redis is StateUnavailable within about that time; the
next operation connects again by itself. A write whose reply was lost may have been applied
(the request had left): the caller's temporary error makes the ESME retry, so at-least-once
may deliver a receipt twice, never lose one. `open_sentinel` finds the primary through Redis
Sentinel and follows it across a failover (sentinel.py), with the same policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import AuthenticationError, RedisError

from bridge.state.arguments import (
    check_deleting,
    check_enqueue,
    check_lease,
    check_part,
    check_put,
    check_take,
)
from bridge.state.errors import StateFileError, StateUnavailable
from bridge.state.in_process import check_bucket
from bridge.state.redis import scripts as lua
from bridge.state.redis.counters import RedisCounters, also_arguments
from bridge.state.redis.losses import EpochWatch, check_eviction, report_lost
from bridge.state.redis.pipe import RedisPipe, Script, unavailable
from bridge.state.redis.sentinel import FollowPrimary, client_options, sentinel_client
from bridge.state.results import (
    Enqueued,
    ExpiredGroup,
    GroupComplete,
    KeepGroup,
    PartAdded,
    PartConflict,
    PartCounts,
    PartDuplicate,
    PartKept,
    PartLimits,
    PartRefused,
    Put,
    QueueCounts,
    QueueEntry,
    Record,
    RecordWrite,
    TokensTaken,
)
from bridge.state.store import CommitObserver, LossObserver, NoCommitObserver, NoLossObserver

_ENQUEUE = Script(lua.ENQUEUE)
_TAKE = Script(lua.TAKE)
_ACK = Script(lua.ACK)
_RELEASE = Script(lua.RELEASE)
_RELEASE_LEASES = Script(lua.RELEASE_LEASES)
_DROP_ENTRIES = Script(lua.DROP_ENTRIES)
_QUEUE_COUNTS = Script(lua.QUEUE_COUNTS)
_PUT_RECORD = Script(lua.PUT_RECORD)
_GET_RECORD = Script(lua.GET_RECORD)
_TAKE_RECORD = Script(lua.TAKE_RECORD)
_DELETE_RECORD = Script(lua.DELETE_RECORD)
_SCAN_RECORDS = Script(lua.SCAN_RECORDS)
_EXPIRE_RECORDS = Script(lua.EXPIRE_RECORDS)
_ADD_PART = Script(lua.ADD_PART)
_EXPIRE_GROUPS = Script(lua.EXPIRE_GROUPS)
_PART_COUNTS = Script(lua.PART_COUNTS)
_TAKE_TOKENS = Script(lua.TAKE_TOKENS)
_BUCKET_LEVEL = Script(lua.BUCKET_LEVEL)
_ACQUIRE_LEASE = Script(lua.ACQUIRE_LEASE)
_RENEW_LEASES = Script(lua.RENEW_LEASES)
_LEASE_COUNT = Script(lua.LEASE_COUNT)

DEFAULT_PREFIX = "isms-bridge"
# Items one sweep script handles before it returns and is called again (a script blocks the
# server: 1,000 small items is a few milliseconds).
SWEEP_CHUNK = 1000


def log_safe_url(url: str) -> str:
    """The URL without its user and password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(row: Sequence[Any]) -> QueueEntry:
    queue, member, body, made_at, attempts = row
    return QueueEntry(
        queue=_text(queue),
        entry_id=int(member),
        body=bytes(body),
        made_at=float(made_at),
        attempts=int(attempts),
    )


def _record(row: Sequence[Any]) -> Record:
    kind, key, value, stored_at, expires_at = row
    return Record(
        kind=_text(kind),
        key=_text(key),
        value=bytes(value),
        stored_at=float(stored_at),
        expires_at=float(expires_at),
    )


class RedisState(RedisCounters):
    """A `StateStore` in Redis, shared by every instance that uses the same key prefix."""

    def __init__(
        self,
        client: Redis,
        *,
        url: str,
        prefix: str,
        observer: CommitObserver,
        losses: LossObserver | None = None,
        sentinel: Sentinel | None = None,
    ) -> None:
        self._client = client
        self._sentinel = sentinel
        self._prefix = prefix
        self.url = url if sentinel is not None else log_safe_url(url)
        self._losses = losses or NoLossObserver()
        self._epoch = EpochWatch(prefix=prefix, url=self.url, losses=self._losses)
        self._pipe = RedisPipe(
            client,
            observer=observer,
            check=self._epoch,
            before=None if sentinel is None else FollowPrimary(client),
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        password: str | None = None,
        key_prefix: str = DEFAULT_PREFIX,
        observer: CommitObserver | None = None,
        losses: LossObserver | None = None,
        allow_eviction: bool = False,
        socket_timeout: float = 1.0,
        check: bool = True,
    ) -> RedisState:
        """Connect to redis:// or rediss:// (TLS) `url`. With `check`, one PING proves the
        server answers and the password is right, its maxmemory-policy is read (anything
        but noeviction is refused unless `allow_eviction`) and the epoch marker is read or
        written; StateFileError(url, reason) if not."""
        safe = log_safe_url(url)
        if urlsplit(url).scheme not in ("redis", "rediss"):
            raise StateFileError(safe, "a Redis URL starts with redis:// or rediss://")
        if not key_prefix.removesuffix(":"):
            raise StateFileError(safe, "key_prefix must not be empty")
        client = Redis.from_url(url, password=password, **client_options(socket_timeout))
        return await cls._opened(
            client,
            shown=safe,
            key_prefix=key_prefix,
            observer=observer,
            losses=losses,
            allow_eviction=allow_eviction,
            check=check,
        )

    @classmethod
    async def open_sentinel(
        cls,
        sentinels: Sequence[tuple[str, int]],
        service: str,
        *,
        url: str = "redis:///0",
        password: str | None = None,
        key_prefix: str = DEFAULT_PREFIX,
        observer: CommitObserver | None = None,
        losses: LossObserver | None = None,
        allow_eviction: bool = False,
        socket_timeout: float = 1.0,
        check: bool = True,
    ) -> RedisState:
        """The primary of Sentinel `service`, asked of `sentinels` before every new connection
        (redis-py's SentinelConnectionPool). `url` gives only the scheme (rediss:// = TLS to
        the primary) and the db number (its path); `password` is the primary's (sentinels are
        asked without one). The sockets, timeouts and no-retry policy are those of `open`, so
        while a failover moves the primary, operations are StateUnavailable, and the next one
        after it connects to the new primary by itself. The checks of `open` run against the
        primary found."""
        client, sentinel, safe = sentinel_client(
            sentinels, service, url=url, password=password, socket_timeout=socket_timeout
        )
        if not key_prefix.removesuffix(":"):
            await client.aclose()
            await sentinel.aclose()
            raise StateFileError(safe, "key_prefix must not be empty")
        return await cls._opened(
            client,
            shown=safe,
            key_prefix=key_prefix,
            observer=observer,
            losses=losses,
            allow_eviction=allow_eviction,
            check=check,
            sentinel=sentinel,
        )

    @classmethod
    async def _opened(
        cls,
        client: Redis,
        *,
        shown: str,
        key_prefix: str,
        observer: CommitObserver | None,
        losses: LossObserver | None,
        allow_eviction: bool,
        check: bool,
        sentinel: Sentinel | None = None,
    ) -> RedisState:
        # Keys are PREFIX:...; a prefix written with its separator ("isms-bridge:") means the same.
        prefix = key_prefix.removesuffix(":")
        store = cls(
            client,
            url=shown,
            prefix=prefix,
            observer=observer or NoCommitObserver(),
            losses=losses,
            sentinel=sentinel,
        )
        if check:
            try:
                await client.ping()
                await check_eviction(client, url=shown, allow_eviction=allow_eviction)
                await store.check_epoch()
            except AuthenticationError as exc:
                await store.aclose()
                raise StateFileError(shown, f"authentication failed: {exc}") from exc
            except (RedisError, OSError, StateUnavailable) as exc:
                await store.aclose()
                raise StateFileError(shown, f"cannot reach Redis: {exc}") from exc
            except StateFileError:
                await store.aclose()
                raise
        return store

    @property
    def backend(self) -> str:
        return "redis"

    @property
    def epoch(self) -> str | None:
        """The epoch marker this process works in (None before the first operation)."""
        return self._epoch.epoch

    async def check_epoch(self) -> str | None:
        """Read the epoch marker now (writing it when missing; a change is reported as a
        loss, losses.py) and return it. Every pipeline does this on the way anyway."""
        await self._call(None, "PING")  # the marker's check rides at the head of its pipeline
        return self._epoch.epoch

    @property
    def round_trips(self) -> int:
        """Round trips sent so far (for the benchmark's per-submit figure)."""
        return self._pipe.round_trips

    async def writable(self) -> bool:
        try:
            await self._call(None, "SET", f"{self._prefix}:probe", repr(time.time()))
        except StateUnavailable:
            return False
        return True

    def file_size(self) -> int | None:
        return None

    async def aclose(self) -> None:
        await self._pipe.aclose()
        await self._client.aclose()
        if self._sentinel is not None:
            await self._sentinel.aclose()

    async def _call(self, script: Script | None, *args: Any) -> Any:
        try:
            return await self._pipe.call(script, *args)
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            raise unavailable(exc) from exc

    async def _run(self, script: Script, *args: Any) -> Any:
        return await self._call(script, self._prefix, *args)

    def _lost(self, kind: str, count: Any) -> None:
        report_lost(self._losses, kind=kind, count=int(count), key_prefix=self._prefix)

    # --- queues ---------------------------------------------------------------------------

    async def enqueue(self, queue: str, body: bytes, *, now: float, max_entries: int) -> Enqueued:
        check_enqueue(max_entries)
        entry_id, dropped, lost = await self._run(_ENQUEUE, queue, body, now, max_entries)
        self._lost("entry", lost)
        return Enqueued(entry_id=int(entry_id), dropped=tuple(_entry(row) for row in dropped))

    async def take(
        self, queue: str, *, owner: str, now: float, lease_s: float, limit: int = 1
    ) -> tuple[QueueEntry, ...]:
        check_take(lease_s, limit)
        rows, lost = await self._run(_TAKE, queue, owner, now, now + lease_s, limit)
        self._lost("entry", lost)
        return tuple(_entry(row) for row in rows)

    async def ack(self, queue: str, entry_id: int, *, owner: str) -> bool:
        return self._done("entry", await self._run(_ACK, queue, entry_id, owner))

    async def release(
        self, queue: str, entry_id: int, *, owner: str, not_before: float, attempts: int
    ) -> bool:
        done = await self._run(_RELEASE, queue, entry_id, owner, not_before, attempts)
        return self._done("entry", done)

    def _done(self, kind: str, reply: Any) -> bool:
        """1 done, 0 not there (or not the caller's), -1 found gone (reported)."""
        if int(reply) < 0:
            self._lost(kind, 1)
        return int(reply) > 0

    async def release_leases(self, *, owner: str | None = None) -> int:
        """Per queue, ZSCAN the leased entries a chunk at a time and release them with a
        script that checks each owner (a lease taken since by another owner is kept)."""
        released = 0
        for queue in await self.queues():
            key, cursor = f"{self._prefix}:q:{queue}:leased", 0
            while True:
                cursor, held = await self._call(None, "ZSCAN", key, cursor, "COUNT", SWEEP_CHUNK)
                # redis-py answers ZSCAN with (cursor, [(member, score), ...])
                members = [member for member, _score in held]
                if members:
                    done, lost = await self._run(_RELEASE_LEASES, queue, owner or "", *members)
                    released += int(done)
                    self._lost("entry", lost)
                if int(cursor) == 0:
                    break
        return released

    async def drop_entries(self, *, made_before: float) -> tuple[QueueEntry, ...]:
        rows = await self._sweep("entry", _DROP_ENTRIES, made_before)
        entries = (_entry(row) for row in rows)
        return tuple(sorted(entries, key=lambda e: (e.made_at, e.entry_id)))

    async def _sweep(self, kind: str, script: Script, *args: Any) -> list[Any]:
        """Run a sweep script SWEEP_CHUNK items at a time until it handles fewer (those it
        found gone count: they were removed too)."""
        rows: list[Any] = []
        while True:
            chunk, lost = await self._run(script, *args, SWEEP_CHUNK)
            rows.extend(chunk)
            self._lost(kind, lost)
            if len(chunk) + int(lost) < SWEEP_CHUNK:
                return rows

    async def queue_counts(self, *, now: float, queue: str | None = None) -> QueueCounts:
        ready, leased, oldest = await self._run(_QUEUE_COUNTS, now, queue or "")
        return QueueCounts(
            ready=int(ready),
            leased=int(leased),
            oldest_made_at=None if oldest is None else float(oldest),
        )

    async def queues(self) -> tuple[str, ...]:
        names = await self._call(None, "SMEMBERS", f"{self._prefix}:queues")
        return tuple(sorted(_text(name) for name in names))

    async def has_ready(self, queue: str, *, now: float) -> bool:
        due = await self._call(None, "ZCOUNT", f"{self._prefix}:q:{queue}:due", "-inf", now)
        return int(due) > 0

    # --- records --------------------------------------------------------------------------

    async def put_record(
        self,
        kind: str,
        key: str,
        value: bytes,
        *,
        now: float,
        expires_at: float,
        max_records: int,
        deleting: tuple[str, str] | None = None,
        also: RecordWrite | None = None,
    ) -> Put:
        check_put(max_records)
        check_deleting(kind, deleting)
        gone = ("", "") if deleting is None else deleting
        put = () if also is None else also_arguments(kind, deleting, also)
        replaced, dropped, lost = await self._run(
            _PUT_RECORD, kind, key, value, now, expires_at, max_records, *gone, *put
        )
        self._lost("record", lost)
        return Put(
            replaced=_record(replaced) if replaced else None,
            dropped=tuple(_record(row) for row in dropped),
        )

    async def get_record(self, kind: str, key: str, *, now: float) -> Record | None:
        row, lost = await self._run(_GET_RECORD, kind, key, now)
        self._lost("record", lost)
        return _record(row) if row else None

    async def take_record(self, kind: str, key: str, *, now: float) -> Record | None:
        row, lost = await self._run(_TAKE_RECORD, kind, key, now)
        self._lost("record", lost)
        return _record(row) if row else None

    async def delete_record(self, kind: str, key: str) -> bool:
        return self._done("record", await self._run(_DELETE_RECORD, kind, key))

    async def scan_records(
        self, kind: str, *, now: float, since: float | None = None, limit: int | None = None
    ) -> tuple[Record, ...]:
        rows, lost = await self._run(
            _SCAN_RECORDS,
            kind,
            now,
            "-inf" if since is None else since,
            -1 if limit is None else limit,
        )
        self._lost("record", lost)
        return tuple(_record(row) for row in rows)

    async def expire_records(self, *, now: float) -> tuple[Record, ...]:
        rows = await self._sweep("record", _EXPIRE_RECORDS, now)
        records = (_record(row) for row in rows)
        return tuple(sorted(records, key=lambda r: (r.expires_at, r.kind, r.key)))

    async def record_count(self, kind: str) -> int:
        return int(await self._call(None, "ZCARD", f"{self._prefix}:r:{kind}:age"))

    # --- parts ----------------------------------------------------------------------------

    async def add_part(
        self,
        group: str,
        index: int,
        value: bytes,
        *,
        total: int,
        scope: str,
        meta: bytes,
        now: float,
        expires_at: float,
        limits: PartLimits,
        keep: KeepGroup | None = None,
    ) -> PartAdded:
        check_part(index, total)
        if keep is not None:
            check_put(keep.max_records)
        kept = ("", "", 0, 0) if keep is None else keep_arguments(keep)
        reply, lost, record_lost = await self._run(
            _ADD_PART,
            group,
            index,
            value,
            total,
            scope,
            meta,
            now,
            expires_at,
            limits.max_groups_per_scope,
            limits.max_bytes,
            *kept,
        )
        self._lost("group", lost)
        self._lost("record", record_lost)
        match _text(reply[0]):
            case "kept":
                return PartKept(received=int(reply[1]))
            case "duplicate":
                return PartDuplicate(stored=bytes(reply[1]))
            case "conflict":
                return PartConflict(meta=bytes(reply[1]), total=int(reply[2]))
            case "complete":
                return GroupComplete(
                    group=group,
                    meta=bytes(reply[1]),
                    parts=tuple(bytes(part) for part in reply[3]),
                    first_at=float(reply[2]),
                )
            case _:
                return PartRefused(reason="groups" if _text(reply[1]) == "groups" else "bytes")

    async def expire_groups(self, *, now: float) -> tuple[ExpiredGroup, ...]:
        rows = await self._sweep("group", _EXPIRE_GROUPS, now)
        expired: list[ExpiredGroup] = []
        for group, scope, meta, total, first_at, expires_at, flat in rows:
            parts = sorted((int(flat[i]), bytes(flat[i + 1])) for i in range(0, len(flat), 2))
            expired.append(
                ExpiredGroup(
                    group=_text(group),
                    scope=_text(scope),
                    meta=bytes(meta),
                    total=int(total),
                    parts=tuple(parts),
                    first_at=float(first_at),
                    expires_at=float(expires_at),
                )
            )
        return tuple(sorted(expired, key=lambda group: (group.expires_at, group.group)))

    async def part_counts(self, *, scope: str | None = None) -> PartCounts:
        groups, octets = await self._run(_PART_COUNTS, scope or "")
        return PartCounts(groups=int(groups), octets=int(octets))

    # --- buckets and leases (shared by every instance) ------------------------------------

    async def take_tokens(
        self, bucket: str, *, rate: float, burst: float, count: float, now: float
    ) -> TokensTaken:
        check_bucket(rate, burst, count)
        granted, tokens, wait = await self._run(_TAKE_TOKENS, bucket, rate, burst, count, now)
        return TokensTaken(granted=bool(granted), tokens=float(tokens), wait_s=float(wait))

    async def bucket_level(self, bucket: str, *, rate: float, burst: float, now: float) -> float:
        check_bucket(rate, burst, 1.0)
        return float(await self._run(_BUCKET_LEVEL, bucket, rate, burst, now))

    async def acquire_lease(
        self, group: str, holder: str, *, limit: int, now: float, ttl_s: float
    ) -> bool:
        check_lease(limit, ttl_s)
        return bool(await self._run(_ACQUIRE_LEASE, group, holder, limit, now, now + ttl_s))

    async def renew_leases(
        self, leases: Sequence[tuple[str, str]], *, now: float, ttl_s: float
    ) -> tuple[bool, ...]:
        if not leases:
            return ()
        pairs = [name for lease in leases for name in lease]
        renewed = await self._run(_RENEW_LEASES, now, now + ttl_s, *pairs)
        return tuple(bool(flag) for flag in renewed)

    async def release_lease(self, group: str, holder: str) -> bool:
        return bool(await self._call(None, "ZREM", f"{self._prefix}:l:{group}", holder))

    async def lease_count(self, group: str, *, now: float) -> int:
        return int(await self._run(_LEASE_COUNT, group, now))


def keep_arguments(keep: KeepGroup) -> tuple[str, str, float, int]:
    """ADD_PART's keep arguments (its ARGV[12..15])."""
    return keep.kind, keep.key, keep.expires_at, keep.max_records
