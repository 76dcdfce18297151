"""`store`: one fresh store per test, on every backend (the shared tests run on all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.state import StateStore

from .backends import RIGS, BackendRig


@pytest.fixture(params=sorted(RIGS))
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BackendRig]:
    async with RIGS[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture
async def store(rig: BackendRig) -> AsyncIterator[StateStore]:
    opened = await rig.open()
    yield opened
    await opened.aclose()
