"""`[admin]`: off unless present; named, scoped tokens from the environment or a file only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import ConfigError, load_config

TOKEN = "0123456789abcdef0123"


def admin(tokens: str, extra: str = "") -> str:
    return f"[admin]\nport = 9300\n{extra}\n{tokens}"


def token(name: str = "ops", scope: str = "operate", source: str = 'token_env = "ADM_T"') -> str:
    return f'[[admin.tokens]]\nname = "{name}"\nscope = "{scope}"\n{source}\n'


def test_without_an_admin_section_there_is_no_admin_listener(
    write_config: Callable[..., Path],
) -> None:
    assert load_config(write_config()).admin is None


def test_a_token_from_the_environment_and_one_from_a_file_load_with_their_scopes(
    write_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADM_T", TOKEN)
    (tmp_path / "viewer.token").write_text("viewer-token-0123456789\n", encoding="utf-8")
    config = load_config(
        write_config(admin(token() + token("viewer", "read", 'token_file = "viewer.token"')))
    )
    assert config.admin is not None
    assert config.admin.host == "127.0.0.1" and config.admin.port == 9300
    assert [(t.name, t.scope, t.token) for t in config.admin.tokens] == [
        ("ops", "operate", TOKEN),
        ("viewer", "read", "viewer-token-0123456789"),
    ]
    assert TOKEN not in repr(config.admin)


def test_a_token_written_into_the_config_is_refused(
    write_config: Callable[..., Path],
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(admin(token(source=f'token = "{TOKEN}"'))))
    text = str(caught.value)
    assert "admin.tokens[0] (ops).token: unknown key" in text
    assert TOKEN not in text


def test_a_short_token_is_refused_without_being_shown(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADM_T", "tiny-secret")
    with pytest.raises(ConfigError, match="at least 16") as caught:
        load_config(write_config(admin(token())))
    assert "tiny-secret" not in str(caught.value)


def test_admin_without_tokens_and_two_tokens_of_one_name_are_refused(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADM_T", TOKEN)
    with pytest.raises(ConfigError, match="at least one"):
        load_config(write_config(admin("")))
    with pytest.raises(ConfigError, match="name once"):
        load_config(write_config(admin(token() + token(scope="read", source='token_env = "X"'))))


def test_an_unknown_scope_and_a_port_taken_by_another_listener_are_refused(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADM_T", TOKEN)
    with pytest.raises(ConfigError, match="scope: expected one of 'read', 'operate'"):
        load_config(write_config(admin(token(scope="root"))))
    clash = "[admin]\nport = 9102\n" + token()
    with pytest.raises(ConfigError, match=r"admin.port: expected a port other than metrics.port"):
        load_config(write_config(clash))
