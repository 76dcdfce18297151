"""The server's observer calls reach the metrics: a real SmppConnection on a fake transport
(tests/server's Harness), the metrics' SmppObserver plugged in as in production, a handler
held back so the window fills."""

from __future__ import annotations

import asyncio

from server.server_doubles import FakeAuthority, FakeHandler, Harness, settings, submit, until

from bridge.app.metrics.observers import SmppObserver
from bridge.app.metrics.series import BridgeMetrics
from bridge.pdu import BindTransceiver, CommandStatus, Pdu, SubmitSmResp
from bridge.server import BindVerdict, SessionContext, SessionRegistry, SubmitRequest

THROTTLED = CommandStatus.ESME_RTHROTTLED


class Metered:
    """One connection whose every observer call goes to a fresh BridgeMetrics."""

    def __init__(self, *, budget: int = 2) -> None:
        self.metrics = BridgeMetrics(accounts=["esme1"], process_metrics=False)
        observer = SmppObserver(self.metrics)
        registry = SessionRegistry()
        registry.subscribe(observer)
        self.gate = asyncio.Event()

        async def held(context: SessionContext, request: SubmitRequest) -> Pdu:
            await self.gate.wait()
            return SubmitSmResp(message_id="m1")

        self.h = Harness(
            authority=FakeAuthority(budget=budget),
            handler=FakeHandler(held),
            server_settings=settings(window=2),
            registry=registry,
            observer=observer,
        )

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)


async def test_a_bound_session_its_submits_the_window_and_the_throughput_limit_are_counted() -> (
    None
):
    m = Metered(budget=2)
    h = m.h
    [bound] = h.bind()
    assert bound.command_status == 0
    sessions = {"system_id": "esme1", "bind_type": "transceiver"}
    assert m.sample("isms_bridge_smpp_sessions", **sessions) == 1.0
    # Two held by the handler fill the window of 2; the third is refused by the window.
    h.send(submit(), submit(), submit())
    assert [r.command_status for r in h.received()] == [THROTTLED]
    m.gate.set()
    await until(lambda: not h.connection.requests_in_flight)
    assert [r.command_status for r in h.received()] == [0, 0]
    # The account's budget of 2 parts is spent: the next is refused by the throughput limit.
    h.send(submit())
    assert [r.command_status for r in h.received()] == [THROTTLED]
    h.transport.close()
    await until(lambda: h.transport.lost)

    submits = {"system_id": "esme1", "command": "submit_sm"}
    assert m.sample("isms_bridge_smpp_submits_total", status="ESME_ROK", **submits) == 2
    assert m.sample("isms_bridge_smpp_submits_total", status="ESME_RTHROTTLED", **submits) == 2
    assert m.sample("isms_bridge_smpp_window_full_total", system_id="esme1") == 1
    assert m.sample("isms_bridge_smpp_throttled_total", system_id="esme1") == 1
    assert m.sample("isms_bridge_smpp_submit_duration_seconds_count", command="submit_sm") == 2
    received = {"command": "submit_sm", "status": "ESME_ROK"}
    assert m.sample("isms_bridge_smpp_pdus_received_total", **received) == 4
    throttled = {"command": "submit_sm_resp", "status": "ESME_RTHROTTLED"}
    assert m.sample("isms_bridge_smpp_pdus_sent_total", **throttled) == 2
    bind_answer = {"command": "bind_transceiver_resp", "status": "ESME_ROK"}
    assert m.sample("isms_bridge_smpp_pdus_sent_total", **bind_answer) == 1
    assert m.sample("isms_bridge_smpp_sessions", **sessions) == 0.0


async def test_refused_binds_are_counted_with_their_status_and_a_shared_unknown_label() -> None:
    m = Metered()
    refusals = (("esme1", CommandStatus.ESME_RINVPASWD), ("nobody", CommandStatus.ESME_RINVSYSID))
    for system_id, status in refusals:
        m.h.authority.verdict = BindVerdict(command_status=status, reason="refused")
        m.h.connection, m.h.transport = m.h.connect()
        [answer] = m.h.bind(BindTransceiver(system_id=system_id, password="pw"))
        assert answer.command_status == status
    attempts = "isms_bridge_smpp_bind_attempts_total"
    labels = {"bind_type": "transceiver"}
    assert m.sample(attempts, system_id="esme1", status="ESME_RINVPASWD", **labels) == 1
    assert m.sample(attempts, system_id="_unknown", status="ESME_RINVSYSID", **labels) == 1
