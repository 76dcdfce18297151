"""Fixtures for the cluster tests: real processes on free loopback ports, stopped by PID.

- `sandbox`: the iSMS sandbox process.
- `start_bridge(name, **config)`: an `isms-bridge serve` process behind the PROXY protocol.
- `start_haproxy(bridges)`: the real HAProxy with configs/haproxy.cfg in front of them.
- `redis`: a real redis-server (restartable on its port); `cluster`: two bridges on it
  behind HAProxy, the way docker-compose.yml's "cluster" profile runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from real_parts import free_port, program
from serve_process import LoggedProcess

from .cluster_parts import (
    Bridge,
    Cluster,
    Haproxy,
    RedisServer,
    Sandbox,
    bridge_config,
    redis_state,
)


@pytest.fixture
def started_parts() -> Iterator[list[LoggedProcess]]:
    parts: list[LoggedProcess] = []
    yield parts
    for part in reversed(parts):
        part.stop()


@pytest.fixture
def sandbox(tmp_path: Path, started_parts: list[LoggedProcess]) -> Sandbox:
    part = Sandbox(tmp_path / "sandbox.log")
    started_parts.append(part)
    return part


@pytest.fixture
def start_bridge(
    tmp_path: Path, sandbox: Sandbox, started_parts: list[LoggedProcess]
) -> Callable[..., Bridge]:
    def start(name: str, **config: object) -> Bridge:
        smpp_port, metrics_port = free_port(), free_port()
        # Unless a test shares Redis, each bridge has the default backend, a file of its own.
        config.setdefault("extra", f'[state]\npath = "{name}.sqlite3"\n')
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
def start_haproxy(tmp_path: Path, started_parts: list[LoggedProcess]) -> Callable[..., Haproxy]:
    binary = program("haproxy", "haproxy")

    def start(bridges: Sequence[Bridge]) -> Haproxy:
        servers = [(bridge.name, bridge.smpp_port, bridge.metrics_port) for bridge in bridges]
        part = Haproxy(tmp_path, binary, servers)
        started_parts.append(part)
        return part

    return start


@pytest.fixture
def redis(tmp_path: Path, started_parts: list[LoggedProcess]) -> RedisServer:
    directory = tmp_path / "redis"
    directory.mkdir()
    part = RedisServer(directory, program("redis-server", "redis-server"))
    started_parts.append(part)
    return part


CLUSTER_ACCOUNT = """[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
max_binds = 2
"""


@pytest.fixture
def cluster(start_bridge, start_haproxy, redis: RedisServer) -> Cluster:
    state = redis_state(redis)
    bridges = {
        name: start_bridge(
            name,
            extra=state,
            accounts=CLUSTER_ACCOUNT,
            smpp={"bind_lease_s": 3.0, "enquire_link_interval_s": 0},
        )
        for name in ("bridge-a", "bridge-b")
    }
    haproxy = start_haproxy(list(bridges.values()))
    haproxy.wait_for_states(dict.fromkeys(bridges, "UP"))
    return Cluster(bridges, haproxy, redis)
