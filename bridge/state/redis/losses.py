"""What can make Redis lose the bridge's data, and how the Redis backend notices.

1. Eviction. A Redis with `maxmemory` and any `maxmemory-policy` but `noeviction` deletes
   keys of its own choosing when it is full: held receipts and records vanish with no error
   to anyone. `check_eviction` (at open) reads the policy, by CONFIG GET, else from INFO
   memory (CONFIG is often renamed or denied on managed Redis), and refuses anything but
   `noeviction` (StateFileError: `serve` and `check-config` exit 2 with the reason), unless
   the operator accepted the risk (`allow_eviction`); then one WARNING says so at start.
2. A restart without persistence, a FLUSHALL, a failover to an empty replica: every key is
   gone at once, and an empty store looks like a new one. `EpochWatch` writes a random epoch
   marker (P:epoch) once, when it is missing, and reads it back at the head of every
   pipeline the backend sends (pipe.BatchCheck: the same round trip, so every reconnect
   and every housekeeping sweep checks it). A marker that is missing or changed
   is an ERROR line once (`event=state_lost`), `LossObserver.state_lost`, and the new
   marker is adopted. Entry ids never repeat across epochs (lua/enqueue.lua).
3. Single keys gone (an eviction the operator accepted): the scripts skip what they find
   gone and remove its remains; `report_lost` logs and counts it.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.state.errors import StateFileError
from bridge.state.redis import scripts as lua
from bridge.state.redis.pipe import Script
from bridge.state.store import LossObserver

log = logging.getLogger(__name__)

_EPOCH = Script(lua.EPOCH)
SAFE_POLICY = "noeviction"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def eviction_policy(client: Redis) -> str | None:
    """The server's maxmemory-policy, or None when neither CONFIG GET nor INFO tells it."""
    try:
        found = await client.config_get("maxmemory-policy")
        for name, value in found.items():
            if _text(name) == "maxmemory-policy":
                return _text(value)
    except RedisError:
        pass  # renamed, disabled or denied by an ACL: INFO says it too
    try:
        memory = await client.info("memory")
    except RedisError:
        return None
    policy = memory.get("maxmemory_policy")
    return None if policy is None else _text(policy)


async def check_eviction(client: Redis, *, url: str, allow_eviction: bool) -> None:
    """StateFileError unless Redis never evicts, or the operator accepted that it may."""
    policy = await eviction_policy(client)
    if policy == SAFE_POLICY:
        return
    said = (
        f"maxmemory-policy is {policy}"
        if policy is not None
        else "cannot read maxmemory-policy (CONFIG GET and INFO memory both refused)"
    )
    if not allow_eviction:
        raise StateFileError(
            url,
            f"{said}: Redis may evict the bridge's keys (held receipts, records) without a "
            f"word when it is full; set maxmemory-policy {SAFE_POLICY} on the server, or "
            "accept the risk with [state] redis_allow_eviction = true",
        )
    log.warning(
        "event=state_eviction_allowed backend=redis url=%s policy=%s "
        "risk=evicted_receipts_and_records_are_lost (counted: isms_bridge_state_lost_total)",
        url,
        policy or "unknown",
    )


def report_lost(losses: LossObserver, *, kind: str, count: int, key_prefix: str) -> None:
    """Log and count items of `kind` found gone (their remains are removed already)."""
    if count <= 0:
        return
    log.error(
        "event=state_entries_lost backend=redis kind=%s count=%d key_prefix=%s "
        "action=skipped_and_removed (an evicted key?)",
        kind,
        count,
        key_prefix,
    )
    losses.entries_lost(kind=kind, count=count)


class EpochWatch:
    """The epoch marker's check, at the head of every pipeline (a `BatchCheck`)."""

    def __init__(self, *, prefix: str, url: str, losses: LossObserver) -> None:
        self._prefix = prefix
        self._url = url
        self._losses = losses
        self._known: str | None = None
        self._candidate = secrets.token_hex(8)

    @property
    def epoch(self) -> str | None:
        """The marker this process works in; None until the first pipeline answered."""
        return self._known

    def command(self) -> tuple[Script, tuple[Any, ...]]:
        return _EPOCH, (self._prefix, self._candidate)

    def answered(self, reply: Any) -> None:
        if isinstance(reply, Exception):
            return  # e.g. OOM refusing the marker's write: the next pipeline checks again
        held = _text(reply)
        if held == self._known:
            return
        wrote = held == self._candidate
        known, self._known = self._known, held
        self._candidate = secrets.token_hex(8)
        if known is None:
            if wrote:
                log.info(
                    "event=state_epoch_new backend=redis url=%s key_prefix=%s epoch=%s "
                    "(no marker: a first start with this key_prefix, or Redis lost its data "
                    "while no bridge was running)",
                    self._url,
                    self._prefix,
                    held,
                )
            return
        reason = "marker_missing" if wrote else "marker_changed"
        log.error(
            "event=state_lost backend=redis url=%s key_prefix=%s reason=%s epoch_was=%s "
            "epoch_now=%s lost=every_held_receipt_record_and_part "
            "(Redis restarted without persistence, or was flushed) action=continuing_empty",
            self._url,
            self._prefix,
            reason,
            known,
            held,
        )
        self._losses.state_lost(reason=reason)
