"""What the admin unit tests build on: a config with [admin], sessions that only record an
unbind, and the steering of one or two instances sharing one store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bridge.app.admin import Steering
from bridge.app.settings import isms_settings
from bridge.config import BridgeConfig, load_config
from bridge.pdu import Pdu
from bridge.server import Peer, SessionContext, SessionRegistry
from bridge.smpp import BindType
from bridge.state import StateStore
from bridge.upstream import IsmsClient

OPERATE_TOKEN = "operate-token-0123456789"
READ_TOKEN = "read-token-0123456789abcd"

CONFIG = """\
[smpp]
port = 2775
[isms]
api = "http"
endpoints = ["http://127.0.0.1:9/a.php", "http://127.0.0.1:9/b.php"]
[admin]
port = 0
[[admin.tokens]]
name = "ops"
scope = "operate"
token_file = "operate.token"
[[admin.tokens]]
name = "viewer"
token_file = "read.token"
[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
[[accounts]]
system_id = "esme2"
password = "secret2"
isms_username = "isms"
isms_password = "isms123"
"""


def admin_config(directory: Path, text: str = CONFIG) -> BridgeConfig:
    (directory / "operate.token").write_text(OPERATE_TOKEN + "\n", encoding="utf-8")
    (directory / "read.token").write_text(READ_TOKEN, encoding="utf-8")
    path = directory / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@dataclass
class RecordedSession:
    """A bound session that records the unbinds it was asked for."""

    context: SessionContext
    unbinds: list[bool] = field(default_factory=list)
    takes_deliveries: bool = True
    delivery_window: int = 1

    async def send_request(self, pdu: Pdu) -> Pdu:
        raise AssertionError("not used")

    def unbind(self) -> None:
        self.unbinds.append(True)


def bound(registry: SessionRegistry, system_id: str, session_id: str) -> RecordedSession:
    session = RecordedSession(
        SessionContext(
            session_id=session_id,
            peer=Peer(host="192.0.2.1", port=40000),
            system_id=system_id,
            bind_type=BindType.TRANSCEIVER,
        )
    )
    registry.add(session)
    return session


@dataclass
class Instance:
    steering: Steering
    registry: SessionRegistry
    client: IsmsClient


def instance(config: BridgeConfig, store: StateStore, name: str) -> Instance:
    registry = SessionRegistry()
    client = IsmsClient(isms_settings(config.isms))
    return Instance(Steering(store, registry, client, instance=name), registry, client)
