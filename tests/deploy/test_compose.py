"""docker-compose.yml: four services whose mounts, ports and addresses fit together.

docker compose is not on this machine (test_image.py runs the image with podman), so the
file is checked by reading it: every file it mounts exists, the bridge's mounted config loads
with the environment the file passes, and the addresses Prometheus and Grafana use are the
ones the bridge and Prometheus listen on.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bridge.config import load_config

from .deploy_files import COMPOSE, ROOT, stages

_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def mounts(name: str) -> dict[str, Path | str]:
    """target -> repository path (bind mounts) or volume name."""
    found: dict[str, Path | str] = {}
    for spec in service(name).get("volumes", []):
        source, target = spec.split(":")[:2]
        found[target] = ROOT / source if source.startswith(".") else source
    return found


def yaml_file(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_it_runs_the_bridge_the_sandbox_prometheus_and_grafana() -> None:
    # Services under a profile (the "cluster" one) start only when it is asked for.
    unprofiled = {name for name, spec in compose()["services"].items() if "profiles" not in spec}
    assert unprofiled == {"bridge", "sandbox", "prometheus", "grafana"}


def test_every_file_it_mounts_exists_and_every_volume_is_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name in compose()["services"]:
        for target, source in mounts(name).items():
            if isinstance(source, Path):
                assert source.exists(), f"{name}: {source} (mounted at {target}) is missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_ports_are_published_on_loopback_only() -> None:
    for name, spec in compose()["services"].items():
        for port in spec.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} publicly"


def test_secrets_come_from_the_environment_not_from_the_file() -> None:
    for name, spec in compose()["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert _DEFAULTED.fullmatch(str(value)), f"{name}: {key} is written out"


def test_the_bridge_gets_its_config_where_the_image_reads_it_and_it_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge = service("bridge")
    command = bridge["command"]
    config_target = command[command.index("--config") + 1]
    cmd = next(i for i in stages()[1] if i.keyword == "CMD")
    assert command == cmd.exec_form()
    source = mounts("bridge")[config_target]
    assert isinstance(source, Path)
    for key, value in bridge["environment"].items():
        match = _DEFAULTED.fullmatch(str(value))
        assert match is not None
        monkeypatch.setenv(key, match.group(2))
    config = load_config(source)
    assert config.smpp.hosts == ("0.0.0.0",) and config.metrics.host == "0.0.0.0"
    # Prometheus scrapes bridge:9102 (below); the published ports are the listeners.
    assert config.metrics.port == 9102
    published = {str(p).rsplit(":", 1)[1] for p in bridge["ports"]}
    assert published == {str(config.smpp.port), str(config.metrics.port)}
    assert config.isms.endpoints == ("http://sandbox:8480/isms_send_all_id.php",)


def test_the_bridge_runs_read_only_with_its_state_on_a_named_volume() -> None:
    bridge = service("bridge")
    assert bridge["read_only"] is True
    assert mounts("bridge")["/var/lib/isms-bridge"] == "bridge-state"
    assert service("bridge")["stop_grace_period"] == "40s"


def test_the_sandbox_listens_where_the_bridge_config_points() -> None:
    command = service("sandbox")["command"]
    assert command[0] == "sandbox"
    port = command[command.index("--port") + 1]
    endpoints = tomllib.loads((ROOT / "configs" / "compose.toml").read_text())["isms"]["endpoints"]
    assert endpoints == [f"http://sandbox:{port}/isms_send_all_id.php"]
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_prometheus_loads_the_scrape_config_with_its_alert_rules_and_scrapes_the_bridge() -> None:
    mounted = mounts("prometheus")
    config_target = next(
        arg.split("=", 1)[1]
        for arg in service("prometheus")["command"]
        if arg.startswith("--config.file=")
    )
    config_source = mounted[config_target]
    assert config_source == ROOT / "configs" / "prometheus.yml"
    config = yaml_file(config_source)
    for rule_file in config["rule_files"]:
        target = str(PurePosixPath(config_target).parent / rule_file)
        assert mounted[target] == ROOT / "configs" / "alerts.yml"
    targets = [
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    ]
    assert targets == ["bridge:9102"]


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    mounted = mounts("grafana")
    provisioning = mounted["/etc/grafana/provisioning"]
    assert isinstance(provisioning, Path)
    datasources = yaml_file(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert [d["url"] for d in datasources] == ["http://prometheus:9090"]
    providers = yaml_file(provisioning / "dashboards" / "isms-bridge.yml")["providers"]
    dashboards_dir = providers[0]["options"]["path"]
    dashboards = mounted[dashboards_dir]
    assert isinstance(dashboards, Path)
    assert (dashboards / "isms-bridge.json").is_file()
    home = service("grafana")["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{dashboards_dir}/isms-bridge.json"
