"""bridge.app.root: the parts built from one config and wired to each other, SIGHUP reloads,
and the order of stopping."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.app import Bridge, SmppFront
from bridge.app.admin import SteeredHandler
from bridge.app.metrics import Metrics
from bridge.app.settings import isms_settings
from bridge.config import ConfigError, load_config
from bridge.pdu import Pdu
from bridge.server import Peer, SessionContext
from bridge.smpp import BindType
from bridge.state import MemoryState
from bridge.upstream import ClientState

ISMS = '[isms]\napi = "http"\nendpoints = ["http://127.0.0.1:9/isms_send_all_id.php"]\n'


def account(system_id: str) -> str:
    return (
        f'[[accounts]]\nsystem_id = "{system_id}"\npassword = "pw"\n'
        'isms_username = "isms"\nisms_password = "isms123"\n'
    )


def write(path: Path, *system_ids: str, smpp: str = "port = 0", extra: str = "") -> Path:
    path.write_text(f"[smpp]\n{smpp}\n{ISMS}{extra}" + "".join(map(account, system_ids)))
    return path


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


def bridge_on(path: Path) -> Bridge:
    return Bridge(load_config(path), MemoryState())


def test_each_part_is_built_from_the_config_and_handed_the_parts_before_it(
    tmp_path: Path,
) -> None:
    config = load_config(write(tmp_path / "b.toml", "esme1"))
    store = MemoryState()
    bridge = Bridge(config, store)
    assert bridge.store is store and bridge.pipeline.state is store
    assert bridge.client.settings == isms_settings(config.isms)
    # The server hands requests to the pipeline, through the operator's submit gate.
    assert isinstance(bridge.smpp.handler, SteeredHandler)
    assert bridge.smpp.handler.inner is bridge.pipeline
    assert bridge.smpp.authority.knows("esme1")
    assert bridge.smpp.limits is None  # a store of this process alone: limits counted here
    assert bridge.metrics is None and bridge.monitoring is None


def test_a_bridge_with_metrics_monitors_its_parts(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "b.toml", "esme1", extra='[state]\nbackend = "memory"\n'))
    bridge = Bridge(config, MemoryState(), metrics=Metrics(config))
    assert bridge.monitoring is not None and bridge.monitoring.addresses == ()


async def test_open_builds_metrics_and_the_store_the_config_names(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1", extra='[state]\nbackend = "memory"\n')
    bridge = await Bridge.open(load_config(path), instance="test")
    try:
        assert bridge.store.backend == "memory"
        assert bridge.metrics is not None and bridge.monitoring is not None
    finally:
        await bridge.aclose()


def test_the_smpp_front_takes_any_submit_handler(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "b.toml", "esme1"))
    pipeline = Bridge(config, MemoryState()).pipeline
    front = SmppFront(config, pipeline)
    assert front.handler is pipeline and front.limits is None
    assert front.registry.count("esme1") == 0


async def test_reload_unbinds_the_sessions_of_removed_accounts_only(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1", "esme2")
    bridge = bridge_on(path)
    kept, doomed = BoundSession("s1", "esme1"), BoundSession("s2", "esme2")
    bridge.smpp.registry.add(kept)
    bridge.smpp.registry.add(doomed)
    write(path, "esme1", "esme3")
    result = bridge.reload()
    assert (result.added, result.removed, result.kept) == (("esme3",), ("esme2",), ("esme1",))
    assert result.sessions_unbound == 1
    assert (kept.unbound, doomed.unbound) == (False, True)
    authority = bridge.smpp.authority
    assert not authority.knows("esme2") and authority.knows("esme3")
    assert [a.system_id for a in bridge.config.accounts] == ["esme1", "esme3"]
    await bridge.shutdown()  # the pipeline stops delivering to the sessions it heard bind


def test_a_reload_that_does_not_load_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1")
    bridge = bridge_on(path)
    before = bridge.config
    path.write_text("[smpp]\nwindow = 0\n")
    with pytest.raises(ConfigError):
        bridge.reload()
    assert bridge.smpp.authority.knows("esme1") and bridge.config is before


def test_a_reload_names_changed_settings_that_need_a_restart(tmp_path: Path) -> None:
    path = write(tmp_path / "b.toml", "esme1")
    bridge = bridge_on(path)
    write(path, "esme1", smpp="port = 0\nwindow = 5")
    assert bridge.reload().needs_restart == ("smpp",)


async def test_the_client_is_closed_after_the_server_stops(tmp_path: Path) -> None:
    bridge = bridge_on(write(tmp_path / "b.toml", "esme1"))
    await bridge.shutdown()
    assert bridge.client.state is ClientState.CLOSED
