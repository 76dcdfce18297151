"""Fixtures for the upstream tests that run over loopback sockets: the sandbox, a closed port,
a certificate for a TLS server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bridge.upstream import IsmsSandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[IsmsSandbox]:
    async with IsmsSandbox(accounts={"isms": "isms123", "other": "pw2"}, seed=1) as running:
        yield running


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
