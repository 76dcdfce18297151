"""docker-compose.yml's "cluster" profile: Redis, two bridges and HAProxy that fit together.

Read, not run (tests/cluster runs the same configs/haproxy.cfg with real processes): the
bridges' config loads with the environment the file passes, it trusts exactly HAProxy's
fixed address, and HAProxy's servers are the two bridges' SMPP and metrics ports.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from bridge.config import load_config

from .test_compose import _DEFAULTED, compose, mounts, service

CLUSTER = ("redis", "bridge-a", "bridge-b", "haproxy")


def cluster_config(monkeypatch: pytest.MonkeyPatch, name: str = "bridge-a") -> Any:
    bridge = service(name)
    for key, value in bridge["environment"].items():
        match = _DEFAULTED.fullmatch(str(value))
        assert match is not None
        monkeypatch.setenv(key, match.group(2))
    command = bridge["command"]
    return load_config(mounts(name)[command[command.index("--config") + 1]])


def test_the_cluster_profile_holds_redis_two_bridges_and_haproxy() -> None:
    profiled = {n for n, spec in compose()["services"].items() if "profiles" in spec}
    assert profiled == set(CLUSTER)
    for name in CLUSTER:
        assert service(name)["profiles"] == ["cluster"]


def test_both_bridges_run_the_same_config_and_command() -> None:
    assert service("bridge-a") == service("bridge-b")


def test_the_bridges_share_redis_and_expect_proxy_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    config = cluster_config(monkeypatch)
    assert config.state.backend == "redis"
    assert config.state.redis is not None
    assert config.state.redis.url.startswith("redis://redis:6379")
    assert config.state.redis.password == "redis123"  # the compose default, from the env
    assert config.smpp.proxy_protocol


def test_the_bridges_trust_exactly_haproxys_address(monkeypatch: pytest.MonkeyPatch) -> None:
    config = cluster_config(monkeypatch)
    address = service("haproxy")["networks"]["cluster"]["ipv4_address"]
    assert [str(network) for network in config.smpp.proxy_trusted] == [f"{address}/32"]
    subnet = compose()["networks"]["cluster"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)


def test_haproxy_sends_to_both_bridges_smpp_port_and_checks_their_metrics_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = cluster_config(monkeypatch)
    cfg = mounts("haproxy")["/usr/local/etc/haproxy/haproxy.cfg"]
    text = cfg.read_text(encoding="utf-8")  # type: ignore[union-attr]
    servers = re.findall(r"^\s+server (\S+) (\S+):(\d+)$", text, re.MULTILINE)
    assert servers == [
        ("bridge-a", "bridge-a", str(config.smpp.port)),
        ("bridge-b", "bridge-b", str(config.smpp.port)),
    ]
    assert f"check port {config.metrics.port}" in text
    assert "send-proxy-v2" in text
    assert "uri /readyz" in text
    published = service("haproxy")["ports"]
    assert published == [f"127.0.0.1:2776:{config.smpp.port}"]


def test_redis_requires_the_password_the_bridges_are_given() -> None:
    command = service("redis")["command"]
    required = command[command.index("--requirepass") + 1]
    assert required == service("bridge-a")["environment"]["REDIS_PASSWORD"]
