"""Two real `serve` processes on one real redis-server behind the real HAProxy, to smpplib.

HAProxy's admin socket steers each new connection to the bridge a test names (the other
drains), so "bound on one, served by the other" is certain, not left to leastconn.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from smpplib_esme import read_receipts, submit, submit_many

from bridge.pdu import CommandStatus

from .cluster_parts import Cluster, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

TO = "60123456789"


def bind(port: int, kind: str = "transceiver") -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    getattr(client, f"bind_{kind}")(system_id="esme1", password="secret1")
    return client


def close(*clients: smpplib.client.Client) -> None:
    for client in clients:
        # A client of a killed bridge cannot unbind: its socket is gone.
        with contextlib.suppress(Exception):
            client.unbind()
        client.disconnect()


def test_a_receipt_made_on_one_bridge_reaches_the_receiver_bound_on_the_other(
    cluster: Cluster,
) -> None:
    receiver = bind(cluster.via("bridge-b"), "receiver")
    sender = bind(cluster.via("bridge-a"), "transmitter")
    try:
        answer = submit(sender, destination_addr=TO, short_message=b"receipt me",
                        registered_delivery=1)  # fmt: skip
        assert answer.status == 0
        [receipt] = read_receipts(receiver, 1)
        assert f"id:{answer.message_id} ".encode() in receipt.short_message
    finally:
        close(sender, receiver)


def test_query_sm_on_one_bridge_finds_a_message_sent_through_the_other(cluster: Cluster) -> None:
    first = bind(cluster.via("bridge-a"))
    other = bind(cluster.via("bridge-b"))
    try:
        answer = submit(first, destination_addr=TO, short_message=b"query me elsewhere")
        other.query_message(message_id=answer.message_id, source_addr="MyBrand")
        response = other.read_pdu()
        assert response.command == "query_sm_resp"
        assert response.status == 0
        assert response.message_id.decode() == answer.message_id
    finally:
        close(first, other)


def test_the_parts_of_a_long_message_sent_through_both_bridges_make_one_isms_request(
    cluster: Cluster, sandbox: Any
) -> None:
    header = bytes([5, 0x00, 3, 0x5A, 2])
    first = bind(cluster.via("bridge-a"), "transmitter")
    second = bind(cluster.via("bridge-b"), "transmitter")
    try:
        [one] = submit_many(
            first,
            [
                {
                    "destination_addr": TO,
                    "esm_class": 0x40,
                    "short_message": header + b"\x01" + b"first half, ",
                }
            ],
        )
        [two] = submit_many(
            second,
            [
                {
                    "destination_addr": TO,
                    "esm_class": 0x40,
                    "short_message": header + b"\x02" + b"second half",
                }
            ],
        )
        assert (one.status, two.status) == (0, 0)
        [record] = wait_until(lambda: sandbox.messages() or None, 10, "the iSMS request")
        assert record["text"] == "first half, second half"
        time.sleep(1.0)  # a second request would have arrived by now
        assert len(sandbox.messages()) == 1
    finally:
        close(first, second)


def test_a_killed_bridges_receipts_are_delivered_by_the_other_and_its_binds_stop_counting(
    cluster: Cluster,
) -> None:
    doomed = cluster.bridges["bridge-a"]
    # Two binds on bridge-a (max_binds = 2 across the cluster), receipts owed to nobody yet.
    sender = bind(cluster.via("bridge-a"), "transmitter")
    spare = bind(cluster.haproxy.port, "transmitter")
    answers = submit_many(
        sender,
        [{"destination_addr": TO, "short_message": f"m{i}".encode(), "registered_delivery": 1}
         for i in range(3)],
    )  # fmt: skip
    assert [a.status for a in answers] == [0, 0, 0]
    full = bind_refused(cluster.via("bridge-b"))
    assert full == CommandStatus.ESME_RBINDFAIL  # the cluster holds max_binds already
    doomed.kill()
    killed_at = time.monotonic()
    close(sender, spare)
    cluster.haproxy.wait_for_states({"bridge-a": "DOWN", "bridge-b": "UP"})
    # Its leases end within bind_lease_s (3 s here) of its last heartbeat.
    receiver = wait_until(lambda: try_bind(cluster.via("bridge-b")), 15, "a bind on bridge-b")
    # The lease (3 s), plus HAProxy noticing and the bind itself on a busy machine: far
    # below the 30 s default, which is what the bound shows.
    assert time.monotonic() - killed_at <= 3.0 + 5.0
    try:
        receipts = read_receipts(receiver, 3)
        ids = {r.short_message.split(b" ")[0] for r in receipts}
        assert ids == {f"id:{a.message_id}".encode() for a in answers}
    finally:
        close(receiver)


def test_with_redis_stopped_submits_get_a_temporary_error_and_nothing_is_sent_then_recover(
    cluster: Cluster, sandbox: Any
) -> None:
    client = bind(cluster.via("bridge-a"), "transmitter")
    try:
        assert submit(client, destination_addr=TO, short_message=b"before").status == 0
        cluster.redis.stop()
        sent_before = len(sandbox.messages())
        outage = submit_many(
            client, [{"destination_addr": TO, "short_message": b"during"} for _ in range(5)]
        )
        assert {a.status for a in outage} == {CommandStatus.ESME_RSYSERR}
        assert len(sandbox.messages()) == sent_before
        assert bind_refused(cluster.haproxy.port) is not None  # no new bind while it is away
        client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
        assert client.read_pdu().command == "enquire_link_resp"  # the bound session stays
        # Both bridges say they are not ready, so HAProxy sends them no new connections.
        for bridge in cluster.bridges.values():
            _, body = wait_until(
                lambda b=bridge: (r := b.readyz())[0] == 503 and r, 10, "/readyz 503"
            )
            assert "state_writable: FAIL" in body
        cluster.haproxy.wait_for_states({"bridge-a": "DOWN", "bridge-b": "DOWN"})
        cluster.redis.restart()
        recovered = wait_until(
            lambda: submit(client, destination_addr=TO, short_message=b"after").status == 0,
            30,
            "submits to succeed again",
            interval=0.5,
        )
        assert recovered
        # Ready again: HAProxy sends new connections (bridge-b stays drained by `via`).
        cluster.haproxy.wait_for_states({"bridge-a": "UP", "bridge-b": "DRAIN"})
    finally:
        close(client)


def try_bind(port: int) -> smpplib.client.Client | None:
    try:
        return bind(port, "receiver")
    except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
        return None


def bind_refused(port: int) -> int | None:
    """The status a transceiver bind is refused with (None: it was accepted)."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transceiver(system_id="esme1", password="secret1")
    except smpplib.exceptions.PDUError as error:
        return int(error.args[1])
    except (smpplib.exceptions.ConnectionError, OSError):
        return -1
    finally:
        client.disconnect()
    return None
