"""The backends every shared state test runs on, opened and reopened the same way.

`open()` gives a fresh, empty store; `reopen(store)` closes it and opens the same data again
(a restart: the file or the Redis database keeps everything; the memory store is its own
model and keeps its object). `RigContext` carries what a rig needs from the test: a folder
of its own, and the Redis server (started on first use, once per test session).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bridge.state import MemoryState, RedisState, SqliteState, StateStore


@dataclass(frozen=True, slots=True, kw_only=True)
class RigContext:
    tmp: Path
    redis_url: Callable[[], str]

    def at(self, tmp: Path) -> RigContext:
        tmp.mkdir(parents=True, exist_ok=True)
        return dataclasses.replace(self, tmp=tmp)


class BackendRig(Protocol):
    name: str

    async def open(self) -> StateStore: ...

    async def reopen(self, store: StateStore) -> StateStore: ...


class MemoryRig:
    name = "memory"

    async def open(self) -> StateStore:
        return MemoryState()

    async def reopen(self, store: StateStore) -> StateStore:
        return store


class SqliteRig:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def open(self) -> StateStore:
        return await SqliteState.open(self.path)

    async def reopen(self, store: StateStore) -> StateStore:
        await store.aclose()
        return await self.open()


@asynccontextmanager
async def memory_rig(_context: RigContext) -> AsyncIterator[BackendRig]:
    yield MemoryRig()


@asynccontextmanager
async def sqlite_rig(context: RigContext) -> AsyncIterator[BackendRig]:
    yield SqliteRig(context.tmp / "state.sqlite3")


class RedisRig:
    """Each rig has a key prefix of its own, so tests share one server and never meet."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"test-{uuid.uuid4().hex[:12]}"

    async def open(self) -> StateStore:
        return await RedisState.open(self.url, key_prefix=self.prefix)

    async def reopen(self, store: StateStore) -> StateStore:
        await store.aclose()
        return await self.open()


@asynccontextmanager
async def redis_rig(context: RigContext) -> AsyncIterator[BackendRig]:
    yield RedisRig(context.redis_url())


RIGS: dict[str, Callable[[RigContext], AbstractAsyncContextManager[BackendRig]]] = {
    "memory": memory_rig,
    "sqlite": sqlite_rig,
    "redis": redis_rig,
}
