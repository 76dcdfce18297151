"""ESME profiles over real sockets: a `profile = "kannel"` account's receipts say DELIVRD,
and `isms-bridge serve` warns once when Kannel binds to an account whose receipts it would
take for intermediate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import smpplib.client
from serve_process import ServeProcess
from smpplib_esme import read_receipts, submit

from .loopback import ACCOUNT, SMPP, config_text
from .messages_rig import running

pytestmark = pytest.mark.e2e

TO = "60123456789"
HINT = "event=esme_profile_hint"


def test_a_kannel_profile_account_gets_final_delivrd_receipts(
    tmp_path: Path, run_server: Callable[..., object]
) -> None:
    with running(tmp_path, run_server, account={"profile": "kannel"}) as rig:
        client = rig.smpplib("transceiver")
        answer = submit(client, destination_addr=TO, short_message=b"hi", registered_delivery=1)
        [receipt] = read_receipts(client, 1)
    assert receipt.receipted_message_id.decode() == answer.message_id
    assert receipt.message_state == 2  # DELIVERED: Kannel's DLR type 1, final
    text = receipt.short_message.decode()
    assert " dlvrd:001 " in text and " stat:DELIVRD err:000 " in text


def kannel_bind(port: int, system_id: str) -> smpplib.client.Client:
    """Bind as Kannel does by default: system_type "VMA"."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transceiver(system_id=system_id, password="secret1", system_type="VMA")
    return client


def test_serve_warns_once_when_kannel_binds_to_an_account_whose_receipts_say_acceptd(
    tmp_path: Path,
) -> None:
    config = tmp_path / "bridge.toml"
    tables = [
        ("[smpp]", SMPP),
        ("[isms]", {"endpoints": ["http://127.0.0.1:9/isms_send_all_id.php"]}),
        ("[[accounts]]", ACCOUNT),
        ("[[accounts]]", {**ACCOUNT, "system_id": "kannel1", "profile": "kannel"}),
    ]
    config.write_text(config_text(tables), encoding="utf-8")
    bridge = ServeProcess(config, tmp_path / "serve.log")
    try:
        clients = [kannel_bind(bridge.port, "esme1"), kannel_bind(bridge.port, "esme1")]
        clients.append(kannel_bind(bridge.port, "kannel1"))
        bridge.wait_for(r"system_id=kannel1 bind=transceiver")
        for client in clients:
            client.disconnect()
    finally:
        bridge.stop(grace=15)
    hints = [line for line in bridge.log().splitlines() if HINT in line]
    assert len(hints) == 1, hints
    assert "WARNING" in hints[0] and "system_id=esme1 system_type=VMA" in hints[0]
    assert 'profile = \\"kannel\\"' in hints[0]
