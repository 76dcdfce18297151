"""The backends every shared state test runs on, opened and reopened the same way.

`open()` gives a fresh, empty store; `reopen(store)` closes it and opens the same data again
(a restart: the file or the Redis database keeps everything; the memory store is its own
model and keeps its object).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

from bridge.state import MemoryState, StateStore


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


@asynccontextmanager
async def memory_rig(_tmp: Path) -> AsyncIterator[BackendRig]:
    yield MemoryRig()


RIGS: dict[str, Callable[[Path], AbstractAsyncContextManager[BackendRig]]] = {
    "memory": memory_rig,
}
