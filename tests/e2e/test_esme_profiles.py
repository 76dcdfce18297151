"""ESME profiles over real sockets: a `profile = "kannel"` account's receipts say DELIVRD,
and `isms-bridge serve` warns once when Kannel binds to an account whose receipts it would
take for intermediate."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import smpplib.client
from loopback import ACCOUNT, SMPP, config_text
from messages_rig import read_receipts, running, submit

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
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
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            port = _listening_port(log_path, process)
            clients = [kannel_bind(port, "esme1"), kannel_bind(port, "esme1")]
            clients.append(kannel_bind(port, "kannel1"))
            _wait_for(log_path, process, "system_id=kannel1 bind=transceiver")
            for client in clients:
                client.disconnect()
        finally:
            process.terminate()
            process.wait(15)
    hints = [line for line in log_path.read_text().splitlines() if HINT in line]
    assert len(hints) == 1, hints
    assert "WARNING" in hints[0] and "system_id=esme1 system_type=VMA" in hints[0]
    assert 'profile = \\"kannel\\"' in hints[0]


def _wait_for(log_path: Path, process: subprocess.Popen[bytes], text: str) -> str:
    deadline = time.monotonic() + 15
    while True:
        for line in log_path.read_text(errors="replace").splitlines():
            if text in line:
                return line
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} in the log:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)


def _listening_port(log_path: Path, process: subprocess.Popen[bytes]) -> int:
    line = _wait_for(log_path, process, "event=listening host=127.0.0.1 port=")
    return int(line.rsplit("port=", 1)[1].split()[0])
