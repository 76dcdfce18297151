"""The admin API across two real `serve` processes on one real Redis behind real HAProxy.

A bind held by one instance is kicked through the other's API; an account suspended on one
cannot bind on the other, and still cannot after that one restarts; an instance drained
under load hands its ESMEs to the other with no ESME error and no message lost.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import smpplib.client
import smpplib.exceptions
import smpplib.smpp
from admin_client import AdminApi, admin_section
from real_parts import free_port
from serve_process import LoggedProcess

from bridge.pdu import CommandStatus

from .cluster_parts import (
    Bridge,
    Haproxy,
    RedisServer,
    Sandbox,
    http_get,
    redis_state,
    wait_until,
)
from .conftest import CLUSTER_ACCOUNT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

TO = "60123456789"
NAMES = ("bridge-a", "bridge-b")


@dataclass
class AdminCluster:
    bridges: dict[str, Bridge]
    apis: dict[str, AdminApi]
    haproxy: Haproxy
    restart: Callable[[str], Bridge]

    def via(self, name: str) -> int:
        for other in self.bridges:
            state = "ready" if other == name else "drain"
            self.haproxy.command(f"set server bridges/{other} state {state}")
        return self.haproxy.port

    def instance_of(self, name: str) -> str:
        return str(self.apis[name].ok("GET", "/v1/status")["instance"])


@pytest.fixture
def admin_cluster(
    tmp_path: Path,
    start_bridge: Callable[..., Bridge],
    start_haproxy: Callable[..., Haproxy],
    redis: RedisServer,
    sandbox: Sandbox,
    started_parts: list[LoggedProcess],
) -> AdminCluster:
    state = redis_state(redis)
    ports = {name: free_port() for name in NAMES}

    def start(name: str) -> Bridge:
        bridge = start_bridge(
            name,
            extra=state + admin_section(tmp_path, ports[name]),
            accounts=CLUSTER_ACCOUNT.replace("max_binds = 2", "max_binds = 20"),
            smpp={"bind_lease_s": 3.0, "enquire_link_interval_s": 0},
        )
        bridge.wait_for(r"event=admin_listening")
        return bridge

    bridges = {name: start(name) for name in NAMES}
    haproxy = start_haproxy(list(bridges.values()))
    haproxy.wait_for_states(dict.fromkeys(bridges, "UP"))
    apis = {name: AdminApi(port) for name, port in ports.items()}

    def restart(name: str) -> Bridge:
        """Stopped and started again on the same config and ports (HAProxy knows those)."""
        old = bridges[name]
        old.stop()
        new = Bridge(name, old_config(name), old.smpp_port, old.metrics_port,
                     tmp_path / f"{name}-restarted.log")  # fmt: skip
        started_parts.append(new)
        new.wait_for(r"event=admin_listening")
        bridges[name] = new
        return new

    def old_config(name: str) -> Path:
        return tmp_path / f"{name}.toml"

    return AdminCluster(bridges, apis, haproxy, restart)


def bind(port: int, kind: str = "transceiver") -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    getattr(client, f"bind_{kind}")(system_id="esme1", password="secret1")
    return client


def bind_status(port: int) -> int:
    try:
        client = bind(port)
    except smpplib.exceptions.PDUError as error:
        return int(error.args[1])
    with contextlib.suppress(Exception):
        client.unbind()
    client.disconnect()
    return 0


def answer_unbind(client: smpplib.client.Client) -> None:
    """Read until the bridge's unbind and answer it, as an ESME should."""
    while (pdu := client.read_pdu()).command != "unbind":
        pass
    client.send_pdu(smpplib.smpp.make_pdu("unbind_resp", client=client, sequence=pdu.sequence))


def test_a_bind_held_by_one_instance_is_kicked_through_the_others_api(
    admin_cluster: AdminCluster,
) -> None:
    client = bind(admin_cluster.via("bridge-b"))
    try:
        held_by = admin_cluster.instance_of("bridge-b")
        api = admin_cluster.apis["bridge-a"]
        [found] = wait_until(
            lambda: api.ok("GET", "/v1/binds?account=esme1")["binds"], 10, "b's bind in a's list"
        )
        assert found["instance"] == held_by
        answer = api.ok("POST", f"/v1/binds/{held_by}/{found['session_id']}/unbind")
        assert answer["unbound"] == 1 and answer["answered"] is True
        answer_unbind(client)
    finally:
        client.disconnect()
    assert admin_cluster.apis["bridge-a"].ok("GET", "/v1/audit")["entries"][0]["action"] == (
        "unbind_session"
    )


def test_an_account_suspended_on_one_instance_cannot_bind_on_the_other_even_after_a_restart(
    admin_cluster: AdminCluster,
) -> None:
    held = bind(admin_cluster.via("bridge-b"))
    try:
        admin_cluster.apis["bridge-a"].ok("POST", "/v1/accounts/esme1/suspend", {"reason": "x"})
        answer_unbind(held)  # bridge-b unbinds its session at its next sweep
    finally:
        held.disconnect()
    port = admin_cluster.via("bridge-b")
    assert bind_status(port) == CommandStatus.ESME_RBINDFAIL
    admin_cluster.restart("bridge-b")
    admin_cluster.via("bridge-b")
    admin_cluster.haproxy.wait_for_states({"bridge-a": "DRAIN", "bridge-b": "UP"})
    assert bind_status(admin_cluster.via("bridge-b")) == CommandStatus.ESME_RBINDFAIL
    account = admin_cluster.apis["bridge-b"].ok("GET", "/v1/accounts/esme1")
    assert account["suspended"]["mode"] == "refuse_binds"
    admin_cluster.apis["bridge-b"].ok("POST", "/v1/accounts/esme1/resume")
    assert bind_status(admin_cluster.via("bridge-b")) == 0
    # bridge-a adopts the resume at its next sweep (within a second).
    wait_until(lambda: bind_status(admin_cluster.via("bridge-a")) == 0, 5, "a bind on a")


@dataclass
class Sender:
    """An ESME sending messages one at a time through HAProxy until `stop`, binding again
    when the bridge unbinds it (and resending the one message the unbind cut off)."""

    port: int
    stop: threading.Event
    tag: str
    accepted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rebinds: int = 0

    def run(self) -> None:
        client: smpplib.client.Client | None = None
        sent = 0
        try:
            while not self.stop.is_set():
                if client is None:
                    try:
                        client = bind(self.port)
                    except smpplib.exceptions.PDUError as error:
                        self.errors.append(f"bind refused {error.args[1]:#x}")
                        return
                outcome = self._submit(client, f"{self.tag}-{sent}")
                if outcome == "unbound":
                    client.disconnect()
                    client = None
                    self.rebinds += 1
                    continue  # the same message again, on the new bind
                sent += 1
                time.sleep(0.02)
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.unbind()
                client.disconnect()

    def _submit(self, client: smpplib.client.Client, text: str) -> str:
        request = client.send_message(
            source_addr="MyBrand", dest_addr_ton=1, dest_addr_npi=1, destination_addr=TO,
            short_message=text.encode(),
        )  # fmt: skip
        unbound = False
        while True:
            pdu = client.read_pdu()
            if pdu.command == "unbind":
                client.send_pdu(
                    smpplib.smpp.make_pdu("unbind_resp", client=client, sequence=pdu.sequence)
                )
                unbound = True
                return "unbound"  # the request sent after the unbind is never served
            if pdu.command == "submit_sm_resp" and pdu.sequence == request.sequence:
                if pdu.status != 0:
                    if unbound:
                        return "unbound"
                    self.errors.append(f"{text}: status {pdu.status:#x}")
                    return "error"
                self.accepted.append(text)
                return "ok"


def test_draining_an_instance_under_load_moves_its_esmes_with_no_error_and_nothing_lost(
    admin_cluster: AdminCluster, sandbox: Sandbox
) -> None:
    port = admin_cluster.haproxy.port
    for name in NAMES:  # both take new connections (leastconn spreads them)
        admin_cluster.haproxy.command(f"set server bridges/{name} state ready")
    stop = threading.Event()
    senders = [Sender(port, stop, f"m{i}") for i in range(6)]
    threads = [threading.Thread(target=sender.run) for sender in senders]
    for thread in threads:
        thread.start()
    api = admin_cluster.apis["bridge-a"]
    wait_until(lambda: api.ok("GET", "/v1/drain")["bound"] > 0, 10, "binds on bridge-a")
    time.sleep(0.3)
    # HAProxy checks /readyz every 200 ms and needs 2 failures: 1 s of settling is ample.
    report = api.ok("POST", "/v1/drain", {"settle_s": 1.0, "wait_s": 20})
    assert report["drained"] is True, report
    assert report["bound"] == 0 and report["requests_in_flight"] == 0
    admin_cluster.haproxy.wait_for_states({"bridge-a": "DOWN", "bridge-b": "UP"})
    time.sleep(1.0)  # the moved ESMEs go on sending through bridge-b
    stop.set()
    for thread in threads:
        thread.join(60)
    errors = [error for sender in senders for error in sender.errors]
    assert not errors
    assert sum(sender.rebinds for sender in senders) >= 1  # some ESMEs did move
    # Every ESME's messages were each accepted once, none skipped.
    for sender in senders:
        assert sender.accepted == [f"{sender.tag}-{n}" for n in range(len(sender.accepted))]
    sent = sorted(text for sender in senders for text in sender.accepted)
    # Nothing lost and nothing twice: iSMS got each accepted message exactly once (it
    # counts every request; it keeps the latest 200, each of them one accepted message).
    snapshot: dict[str, Any] = wait_until(
        lambda: (found := sandbox_snapshot(sandbox))["send_requests"] >= len(sent) and found,
        15,
        "every message at the sandbox",
    )
    assert snapshot["send_requests"] == len(sent)
    kept = [str(message["text"]) for message in snapshot["messages"]]
    assert len(set(kept)) == len(kept) and set(kept) <= set(sent)
    api.ok("DELETE", "/v1/drain")
    admin_cluster.haproxy.wait_for_states(dict.fromkeys(NAMES, "UP"))


def sandbox_snapshot(sandbox: Sandbox) -> dict[str, Any]:
    status, body = http_get(f"http://127.0.0.1:{sandbox.port}/messages.json")
    assert status == 200, body
    found: dict[str, Any] = json.loads(body)
    return found


def test_one_instance_drains_another_through_its_api_and_ends_the_drain(
    admin_cluster: AdminCluster,
) -> None:
    other = admin_cluster.instance_of("bridge-b")
    api = admin_cluster.apis["bridge-a"]
    report = api.ok("POST", "/v1/drain", {"instance": other, "settle_s": 0, "wait_s": 10})
    assert report["instance"] == other and report["drained"] is True
    assert admin_cluster.bridges["bridge-b"].readyz()[0] == 503
    assert admin_cluster.bridges["bridge-a"].readyz()[0] == 200
    assert api.call("POST", "/v1/drain", {"instance": "no-such-instance"})[0] == 404
    api.ok("DELETE", "/v1/drain", {"instance": other})
    assert admin_cluster.bridges["bridge-b"].readyz()[0] == 200
