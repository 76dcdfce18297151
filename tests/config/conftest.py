"""A small valid config, written to a temporary file, that each test bends one key of."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, ConfigError, load_config

ISMS = """
[isms]
api = "http"
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]
timeout_s = 10
"""

ACCOUNT = """
[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
"""


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write `bridge.toml` from sections; each defaults to a valid one, "" leaves it out."""

    def write(
        smpp: str = "", *, isms: str = ISMS, metrics: str = "", accounts: str = ACCOUNT
    ) -> Path:
        path = tmp_path / "bridge.toml"
        path.write_text("\n".join([smpp, isms, metrics, accounts]), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(write_config: Callable[..., Path]) -> Callable[..., BridgeConfig]:
    def load_sections(smpp: str = "", **sections: str) -> BridgeConfig:
        return load_config(write_config(smpp, **sections))

    return load_sections


@pytest.fixture
def failure(write_config: Callable[..., Path]) -> Callable[..., ConfigError]:
    """The ConfigError the sections raise (the test fails if they load)."""

    def fail(smpp: str = "", **sections: str) -> ConfigError:
        path = write_config(smpp, **sections)
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert caught.value.path == str(path)
        return caught.value

    return fail
