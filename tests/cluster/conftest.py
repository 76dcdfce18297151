"""Fixtures for the cluster tests: real processes on free loopback ports, stopped by PID.

- `sandbox`: the iSMS sandbox process.
- `start_bridge(name, **config)`: an `isms-bridge serve` process behind the PROXY protocol.
- `start_haproxy(bridges)`: the real HAProxy with configs/haproxy.cfg in front of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from cluster_parts import Bridge, Haproxy, Part, Sandbox, bridge_config
from real_parts import free_port, program

pytestmark = pytest.mark.e2e


@pytest.fixture
def started_parts() -> Iterator[list[Part]]:
    parts: list[Part] = []
    yield parts
    for part in reversed(parts):
        part.stop()


@pytest.fixture
def sandbox(tmp_path: Path, started_parts: list[Part]) -> Sandbox:
    part = Sandbox(tmp_path / "sandbox.log")
    started_parts.append(part)
    return part


@pytest.fixture
def start_bridge(
    tmp_path: Path, sandbox: Sandbox, started_parts: list[Part]
) -> Callable[..., Bridge]:
    def start(name: str, **config: object) -> Bridge:
        smpp_port, metrics_port = free_port(), free_port()
        path = bridge_config(
            tmp_path / f"{name}.toml",
            smpp_port=smpp_port,
            metrics_port=metrics_port,
            isms_endpoint=sandbox.endpoint,
            **config,  # type: ignore[arg-type]
        )
        part = Bridge(name, path, smpp_port, metrics_port, tmp_path / f"{name}.log")
        started_parts.append(part)
        return part

    return start


@pytest.fixture
def start_haproxy(tmp_path: Path, started_parts: list[Part]) -> Callable[..., Haproxy]:
    binary = program("haproxy", "haproxy")

    def start(bridges: Sequence[Bridge]) -> Haproxy:
        servers = [(bridge.name, bridge.smpp_port, bridge.metrics_port) for bridge in bridges]
        part = Haproxy(tmp_path, binary, servers)
        started_parts.append(part)
        return part

    return start
