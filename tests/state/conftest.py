"""`store`: one fresh store per test, on every backend (the shared tests run on all)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer

from bridge.state import StateStore

from .backends import RIGS, BackendRig, RigContext


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer.started() as server:
        yield server


@pytest.fixture
def rig_context(request: pytest.FixtureRequest, tmp_path: Path) -> RigContext:
    def redis_url() -> str:
        return str(request.getfixturevalue("redis_server").url)

    return RigContext(tmp=tmp_path, redis_url=redis_url)


@pytest.fixture(params=sorted(RIGS))
async def rig(request: pytest.FixtureRequest, rig_context: RigContext) -> AsyncIterator[BackendRig]:
    async with RIGS[request.param](rig_context) as opened:
        yield opened


@pytest.fixture
async def store(rig: BackendRig) -> AsyncIterator[StateStore]:
    opened = await rig.open()
    yield opened
    await opened.aclose()
