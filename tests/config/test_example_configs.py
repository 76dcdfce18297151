"""Every file in configs/ loads: the examples are part of the public contract."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.pdu import CommandStatus
from bridge.smpp import Authenticator

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# Top-level tables only a bridge config has; other TOML in configs/ (none yet) is skipped.
BRIDGE_TABLES = {"smpp", "isms", "accounts"}


def _secret_references(table: object) -> Iterator[tuple[str, str]]:
    """Every (key, value) pair naming where a secret lives: `*_env` and `*_password_file`."""
    if isinstance(table, dict):
        for key, value in table.items():
            if isinstance(value, str) and (key.endswith("_env") or key.endswith("password_file")):
                yield key, value
            else:
                yield from _secret_references(value)
    elif isinstance(table, list):
        for item in table:
            yield from _secret_references(item)


@pytest.mark.parametrize("source", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_config_in_configs_loads(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = tomllib.loads(source.read_text(encoding="utf-8"))
    if not BRIDGE_TABLES & set(document):
        pytest.skip(f"{source.name} is not a bridge config")
    # Give every secret the file points at a value, the way an operator's deployment would.
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    for key, value in _secret_references(document):
        if key.endswith("_env"):
            monkeypatch.setenv(value, "pw12345")
        else:
            secret = tmp_path / value
            secret.parent.mkdir(parents=True, exist_ok=True)
            secret.write_text("pw12345\n", encoding="utf-8")
    config = load_config(copy)
    assert config.accounts


def test_the_configs_folder_has_the_example_and_the_sandbox() -> None:
    assert (CONFIGS / "example.toml").is_file()
    assert (CONFIGS / "sandbox.toml").is_file()


def test_the_example_keeps_its_secrets_out_of_the_file() -> None:
    document = tomllib.loads((CONFIGS / "example.toml").read_text(encoding="utf-8"))
    for account in document["accounts"]:
        assert "password" not in account
        assert "isms_password" not in account


def test_the_sandbox_config_points_at_the_local_sandbox_on_loopback() -> None:
    config = load_config(CONFIGS / "sandbox.toml")
    assert config.smpp.hosts == ("127.0.0.1",)
    assert config.metrics.host == "127.0.0.1"
    assert tuple(config.isms.endpoints) == ("http://127.0.0.1:8480/isms_send_all_id.php",)


def test_a_newcomer_binds_to_the_sandbox_config_as_esme1_with_secret1() -> None:
    config = load_config(CONFIGS / "sandbox.toml")
    (esme1,) = config.accounts
    assert (esme1.isms_username, esme1.isms_password) == ("isms", "isms123")
    decision = Authenticator(config.accounts).authenticate(
        system_id="esme1",
        password="secret1",
        bind_type="transceiver",
        peer_ip="127.0.0.1",
        binds_held=0,
        now=0.0,
    )
    assert decision.status == CommandStatus.ESME_ROK
