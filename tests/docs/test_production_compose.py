"""docker-compose.prod.yml: the bridge alone, every secret required, and shown in the manual.

docker compose is not on this machine, so the file is checked by reading it (as
tests/deploy does for docker-compose.yml).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from docs.manual import ROOT, page

PRODUCTION = ROOT / "docker-compose.prod.yml"
EXAMPLE = ROOT / "configs" / "example.toml"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(PRODUCTION.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_it_runs_the_bridge_alone() -> None:
    assert set(_compose()["services"]) == {"bridge"}


def test_every_variable_it_reads_is_required_with_a_message() -> None:
    found = _VARIABLE.findall(PRODUCTION.read_text(encoding="utf-8"))
    assert found
    for name, rule in found:
        assert rule.startswith(":?") and len(rule) > 2, f"${{{name}{rule}}} has a default"


def test_it_passes_every_secret_the_example_config_names() -> None:
    accounts = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["accounts"]
    named = {
        value for account in accounts for key, value in account.items() if key.endswith("_env")
    }
    environment = _compose()["services"]["bridge"]["environment"]
    assert named <= set(environment)


def test_the_bridge_runs_read_only_with_its_state_on_a_volume_and_stops_gracefully() -> None:
    bridge = _compose()["services"]["bridge"]
    assert bridge["read_only"] is True
    assert bridge["command"] == ["serve", "--config", "/etc/isms-bridge/bridge.toml"]
    assert any(volume.endswith(":/var/lib/isms-bridge") for volume in bridge["volumes"])
    assert any(volume.endswith(":/etc/isms-bridge/bridge.toml:ro") for volume in bridge["volumes"])
    # More than [smpp] shutdown_timeout_s (30 s by default), or the stop ends in SIGKILL.
    assert int(bridge["stop_grace_period"].removesuffix("s")) > 30


def test_the_deploying_page_shows_the_file_itself() -> None:
    assert '--8<-- "docker-compose.prod.yml"' in page("deploying.md")
