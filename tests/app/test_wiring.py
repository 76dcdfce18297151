"""bridge.app.wiring: config -> server settings, the Bridge's handler hooks, SIGHUP reloads."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bridge.app.wiring import RESERVED_DESCRIPTORS, Bridge, server_settings, session_config
from bridge.config import BridgeConfig, ConfigError, load_config
from bridge.pdu import Pdu, SubmitSmResp
from bridge.server import Peer, SessionContext, SessionRegistry, SubmitHandler, SubmitRequest
from bridge.smpp import BindType

ISMS = '[isms]\napi = "http"\nendpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]\n'


def account(system_id: str) -> str:
    return (
        f'[[accounts]]\nsystem_id = "{system_id}"\npassword = "pw"\n'
        'isms_username = "isms"\nisms_password = "isms123"\n'
    )


def write(path: Path, *system_ids: str, smpp: str = "port = 0") -> Path:
    path.write_text(f"[smpp]\n{smpp}\n{ISMS}" + "".join(map(account, system_ids)))
    return path


class Handler:
    def __init__(self) -> None:
        self.reloaded: list[BridgeConfig] = []
        self.bound: list[str] = []
        self.closed = False

    def parts(self, request: SubmitRequest) -> int:
        return 1

    def must_finish(self, task: asyncio.Task[None]) -> bool:
        return False

    def answer_written(self, context: SessionContext, response: Pdu) -> None:
        pass

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        return SubmitSmResp(message_id="x")

    def reload_config(self, config: BridgeConfig) -> None:
        self.reloaded.append(config)

    def session_bound(self, context: SessionContext) -> None:
        self.bound.append(context.session_id)

    def session_closed(self, context: SessionContext) -> None:
        pass

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


class BoundSession:
    def __init__(self, session_id: str, system_id: str) -> None:
        self.context = SessionContext(
            session_id=session_id,
            peer=Peer(host="127.0.0.1", port=1),
            system_id=system_id,
            bind_type=BindType.TRANSCEIVER,
        )
        self.takes_deliveries = True
        self.delivery_window = 10
        self.unbound = False

    async def send_request(self, pdu: Pdu) -> Pdu:
        raise ConnectionError("not in this test")

    def unbind(self) -> None:
        self.unbound = True


def bridge_with(path: Path) -> tuple[Bridge, Handler]:
    handler = Handler()

    def make(config: BridgeConfig, registry: SessionRegistry) -> SubmitHandler:
        return handler

    return Bridge(load_config(path), make), handler


def test_session_settings_come_from_the_smpp_section(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "b.toml", "esme1", smpp='port = 0\nwindow = 7\nsystem_id = "gw"')
    )
    session = session_config(config.smpp)
    assert (session.window, session.our_system_id) == (7, "gw")
    settings = server_settings(config.smpp)
    assert (settings.port, settings.session, settings.tls) == (0, session, None)


def test_max_connections_left_out_is_what_the_open_file_limit_leaves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(write(tmp_path / "b.toml", "esme1", smpp="port = 0"))
    with caplog.at_level(logging.INFO, logger="bridge.app.wiring"):
        settings = server_settings(config.smpp, files_limit=20_000, http_pool=100)
    assert settings.max_connections == 20_000 - RESERVED_DESCRIPTORS - 100
    assert (settings.max_connections_per_address, settings.max_unbound_connections) == (64, 256)
    assert "event=max_connections_derived max_connections=19644 rlimit_nofile=20000" in caplog.text


def test_a_configured_max_connections_above_the_open_file_limit_is_kept_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(
        write(tmp_path / "b.toml", "esme1", smpp="port = 0\nmax_connections = 5000")
    )
    with caplog.at_level(logging.WARNING, logger="bridge.app.wiring"):
        settings = server_settings(config.smpp, files_limit=1024, http_pool=100)
    assert settings.max_connections == 5000
    assert "event=max_connections_above_fd_limit" in caplog.text


def test_reload_unbinds_the_sessions_of_removed_accounts_only(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1", "esme2")
    bridge, handler = bridge_with(path)
    kept, doomed = BoundSession("s1", "esme1"), BoundSession("s2", "esme2")
    bridge.registry.add(kept)
    bridge.registry.add(doomed)
    write(path, "esme1", "esme3")
    result = bridge.reload()
    assert (result.added, result.removed, result.kept) == (("esme3",), ("esme2",), ("esme1",))
    assert result.sessions_unbound == 1
    assert (kept.unbound, doomed.unbound) == (False, True)
    assert not bridge.authority.knows("esme2") and bridge.authority.knows("esme3")
    assert [c.accounts[-1].system_id for c in handler.reloaded] == ["esme3"]


def test_a_reload_that_does_not_load_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1")
    bridge, handler = bridge_with(path)
    path.write_text("[smpp]\nwindow = 0\n")
    with pytest.raises(ConfigError):
        bridge.reload()
    assert bridge.authority.knows("esme1") and handler.reloaded == []


def test_a_reload_names_changed_settings_that_need_a_restart(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1")
    bridge, _handler = bridge_with(path)
    write(path, "esme1", smpp="port = 0\nwindow = 5")
    assert bridge.reload().needs_restart == ("smpp",)


def test_a_handler_that_listens_hears_binds(tmp_path: Path) -> None:
    bridge, handler = bridge_with(write(tmp_path / "b.toml", "esme1"))
    bridge.registry.add(BoundSession("s1", "esme1"))
    assert handler.bound == ["s1"]


async def test_the_handler_is_closed_after_the_server_stops(tmp_path: Path) -> None:
    bridge, handler = bridge_with(write(tmp_path / "b.toml", "esme1"))
    await bridge.shutdown()
    assert handler.closed
