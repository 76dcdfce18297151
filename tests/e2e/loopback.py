"""What the loopback tests share: the test config as TOML text, and a raw-socket ESME.

conftest.py (the server fixtures) and messages_rig.py (the bridge with the sandbox) both
build their config files and their plain-socket ESMEs from here.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from bridge.pdu import Pdu, PduSplitter, decode, encode

Toml = Mapping[str, object]

ACCOUNT: dict[str, object] = {
    "system_id": "esme1",
    "password": "secret1",
    "isms_username": "isms",
    "isms_password": "isms123",
}
# Short delays so the tests run fast; the slowdown of repeated failures is off unless a test
# turns it on (every test binds from 127.0.0.1).
SMPP: dict[str, object] = {
    "host": "127.0.0.1",
    "port": 0,
    "bind_failure_delay_s": 0.2,
    "auth_slowdown_s": 0.0,
    "response_timeout_s": 2.0,
    "shutdown_timeout_s": 5.0,
}


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_table(header: str, table: Toml) -> str:
    return "\n".join([header, *(f"{key} = {toml_value(v)}" for key, v in table.items())])


def config_text(tables: Sequence[tuple[str, Toml]]) -> str:
    """A config file from (header, table) pairs, e.g. ("[smpp]", SMPP)."""
    return "\n\n".join(toml_table(header, table) for header, table in tables) + "\n"


class RawEsme:
    """A plain TCP client speaking PDUs: whatever bytes a test wants, nothing smpplib adds."""

    def __init__(
        self, host: str, port: int, family: int = socket.AF_INET, source: str | None = None
    ) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        if source is not None:  # a chosen loopback address, for caps per source address
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self._splitter = PduSplitter(1 << 20)
        self._sequence_number = 1

    def send(self, *pdus: Pdu) -> list[int]:
        """Send the PDUs in one write, numbering those without a sequence_number (from 2)."""
        numbers, wire = [], b""
        for pdu in pdus:
            if not pdu.sequence_number:
                self._sequence_number += 1
                pdu = dataclasses.replace(pdu, sequence_number=self._sequence_number)
            numbers.append(pdu.sequence_number)
            wire += encode(pdu)
        self.sock.sendall(wire)
        return numbers

    def send_bytes(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def read(self, timeout: float = 5.0) -> Pdu:
        """The next PDU from the bridge (AssertionError on close or timeout)."""
        self.sock.settimeout(timeout)
        while (frame := self._splitter.next_frame()) is None:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                # The bridge closed while a PDU of ours was on its way in: its kernel answers
                # what arrives after the close with a reset instead of the end of stream.
                chunk = b""
            if not chunk:
                raise AssertionError("the bridge closed the connection")
            self._splitter.feed(chunk)
        return decode(frame)

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True when the bridge closes within `timeout` (PDUs before the close are skipped)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True

    def close(self) -> None:
        self.sock.close()
