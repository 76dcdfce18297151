"""The one place that chooses and opens the state backend ([state] in the config).

    store = await open_state(config.state, observer=metrics.state,      # StateFileError
                             losses=metrics.state)
    ...                                                                 # serve (root.py)
    await store.aclose()

`check_state` is what `check-config` runs: the same checks as opening, without creating a
file that is not there yet and without keeping the lock (for Redis: one PING with the
password, and its maxmemory-policy: one that may evict keys is refused unless
`redis_allow_eviction`). A file another running bridge holds is refused by both, so two
bridges never write one file; several bridges share one Redis by design.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from bridge.config import RedisConfig, StateConfig
from bridge.state import (
    CommitObserver,
    LossObserver,
    MemoryState,
    RedisState,
    SqliteState,
    StateFileError,
    StateStore,
)

# SQLite's page size in the bridge's files (PRAGMA page_size; the backend sets it).
_PAGE_BYTES = 4096


def instance_name() -> str:
    """This process's name in a shared store (its receipt leases): host, pid and a random
    tag, so a restarted process never mistakes the leases of its predecessor for its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def open_state(
    config: StateConfig,
    *,
    observer: CommitObserver | None = None,
    losses: LossObserver | None = None,
) -> StateStore:
    """The configured backend, opened; StateFileError (path and reason) when unusable.
    `losses` is told of data the store finds gone (Redis only: evicted keys, a restart)."""
    match config.backend:
        case "memory":
            return MemoryState()
        case "sqlite":
            _check_folder(config.path)
            return await SqliteState.open(
                config.path,
                fsync=config.fsync,
                observer=observer,
                max_pages=_pages(config.max_file_mb),
                max_wal_bytes=config.max_wal_mb * 1024 * 1024,
            )
        case "redis":
            return await open_redis(_redis(config), observer=observer, losses=losses)


async def open_redis(
    redis: RedisConfig,
    *,
    observer: CommitObserver | None = None,
    losses: LossObserver | None = None,
) -> RedisState:
    """The Redis store: at `redis.url`, or, with `redis_sentinels`, the primary Sentinel
    names for `redis_service` (asked again at every reconnect, so a failover needs no
    restart); StateFileError when unusable."""
    if redis.service is not None:
        return await RedisState.open_sentinel(
            redis.sentinels,
            redis.service,
            url=redis.url,
            password=redis.password,
            key_prefix=redis.key_prefix,
            observer=observer,
            losses=losses,
            allow_eviction=redis.allow_eviction,
        )
    return await RedisState.open(
        redis.url,
        password=redis.password,
        key_prefix=redis.key_prefix,
        observer=observer,
        losses=losses,
        allow_eviction=redis.allow_eviction,
    )


async def check_state(config: StateConfig) -> str:
    """One line saying what the store is; StateFileError when `serve` could not open it."""
    match config.backend:
        case "memory":
            return "memory (lost when the process ends)"
        case "sqlite":
            _check_folder(config.path)
            if not config.path.exists():
                return f"sqlite {config.path} (created at the first start)"
            sqlite = await SqliteState.open(config.path, fsync=config.fsync)
            await sqlite.aclose()
            return f"sqlite {config.path}"
        case "redis":
            redis = _redis(config)
            store = await open_redis(redis)
            await store.aclose()
            return f"redis {store.url} (keys {redis.key_prefix}*)"


def _check_folder(path: Path) -> None:
    """The reasons a path cannot hold the file, in an operator's words (a missing folder is
    created at the first start, when its nearest existing parent allows it)."""
    if path.is_dir():
        raise StateFileError(str(path), "is a folder, not a file")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise StateFileError(str(path), f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StateFileError(str(path), f"no permission to write in {parent}")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StateFileError(str(path), "no permission to read and write it")


def _redis(config: StateConfig) -> RedisConfig:
    if config.redis is None:  # the config layer requires redis_url with this backend
        raise StateFileError("redis", "no redis_url configured")
    return config.redis


def _pages(max_file_mb: int | None) -> int | None:
    return None if max_file_mb is None else max_file_mb * 1024 * 1024 // _PAGE_BYTES
