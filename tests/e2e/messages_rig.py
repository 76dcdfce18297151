"""The whole bridge for message tests: the in-process iSMS sandbox, the real Bridge with the
message pipeline (`run_server(path, pipeline=True)`), and smpplib / raw ESMEs, all over loopback.

    with running(tmp_path, run_server) as rig:
        client = rig.smpplib("transceiver")
        status, message_id = submit(client, destination_addr="60123456789", short_message=b"Hi")
        # submit, submit_many, read_receipts: tests/smpplib_esme.py
        [record] = rig.sandbox.wait_for(1)      # what iSMS received, from /messages.json

The sandbox runs on its own event loop in a thread, like the bridge (conftest.RunningServer),
so the test thread can block on smpplib while both serve.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import smpplib.client

from bridge.pdu import BindTransceiver, BindTransmitter
from bridge.upstream import IsmsSandbox, SandboxFaults

from .loopback import ACCOUNT, SMPP, RawEsme, config_text


class SandboxThread:
    """An IsmsSandbox serving on its own loop in a background thread."""

    def __init__(self, faults: SandboxFaults | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.sandbox = IsmsSandbox(faults=faults, seed=1)
        self.port = self.call(self.sandbox.start())

    def call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/isms_send_all_id.php"

    def messages(self) -> list[dict[str, Any]]:
        """The send requests received, oldest first, as the sandbox's JSON API shows them."""
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.port}/messages.json", timeout=5
        ) as reply:
            snapshot = json.loads(reply.read())
        return list(reversed(snapshot["messages"]))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(found := self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the sandbox got {len(found)} of {count} messages")
            time.sleep(0.02)
        return found

    def stop(self) -> None:
        self.call(self.sandbox.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@dataclasses.dataclass
class MessagesRig:
    sandbox: SandboxThread
    server: Any  # conftest.RunningServer
    clients: list[smpplib.client.Client] = dataclasses.field(default_factory=list)
    raws: list[RawEsme] = dataclasses.field(default_factory=list)

    def smpplib(
        self, bind: str = "transceiver", system_id: str = "esme1", password: str = "secret1"
    ) -> smpplib.client.Client:
        client = smpplib.client.Client(
            "127.0.0.1", self.server.port, timeout=5, allow_unknown_opt_params=True
        )
        client.connect()
        getattr(client, f"bind_{bind}")(system_id=system_id, password=password)
        self.clients.append(client)
        return client

    def raw(self, bind: str = "transmitter") -> RawEsme:
        """A bound plain-socket ESME, for what smpplib cannot send (submit_multi)."""
        pdu_class = BindTransmitter if bind == "transmitter" else BindTransceiver
        esme = RawEsme("127.0.0.1", self.server.port)
        self.raws.append(esme)
        esme.send(pdu_class(system_id="esme1", password="secret1"))
        response = esme.read()
        assert response.command_status == 0, response
        return esme

    @property
    def pipeline(self) -> Any:
        root = self.server.root
        assert root is not None, "built with pipeline=True"
        return root.pipeline

    def close_clients(self) -> None:
        for client in self.clients:
            client.disconnect()
        for esme in self.raws:
            esme.close()


@contextmanager
def running(
    tmp_path: Path,
    run_server: Callable[..., Any],
    *,
    account: Mapping[str, object] | None = None,
    isms: Mapping[str, object] | None = None,
    messages: Mapping[str, object] | None = None,
    faults: SandboxFaults | None = None,
) -> Iterator[MessagesRig]:
    sandbox = SandboxThread(faults)
    try:
        tables: list[tuple[str, Mapping[str, object]]] = [
            ("[smpp]", SMPP),
            ("[isms]", {"endpoints": [sandbox.url], "timeout_s": 5, **(isms or {})}),
            ("[messages]", messages or {}),
            ("[[accounts]]", {**ACCOUNT, **(account or {})}),
        ]
        path = tmp_path / "bridge.toml"
        path.write_text(config_text(tables), encoding="utf-8")
        rig = MessagesRig(sandbox=sandbox, server=run_server(path, pipeline=True))
        try:
            yield rig
        finally:
            rig.close_clients()
            rig.server.stop()
    finally:
        sandbox.stop()
