"""SessionRegistry: bound sessions by system_id, oldest first; deliveries; reload unbinds."""

from __future__ import annotations

import pytest

from bridge.pdu import DeliverSm, DeliverSmResp, Pdu
from bridge.server import (
    DeliveryNotConfirmed,
    NoReceiverBound,
    Peer,
    ReceiverBusy,
    SessionContext,
    SessionRegistry,
)
from bridge.smpp import BindType


class FakeSession:
    def __init__(
        self,
        session_id: str,
        system_id: str = "esme1",
        bind_type: BindType = BindType.TRANSCEIVER,
        *,
        busy: bool = False,
        fails: bool = False,
    ) -> None:
        self.context = SessionContext(
            session_id=session_id,
            peer=Peer(host="127.0.0.1", port=1),
            system_id=system_id,
            bind_type=bind_type,
        )
        self.takes_deliveries = bind_type is not BindType.TRANSMITTER
        self.delivery_window = 10
        self.busy = busy
        self.fails = fails
        self.sent: list[Pdu] = []
        self.unbound = False

    async def send_request(self, pdu: Pdu) -> Pdu:
        if self.busy:
            raise ReceiverBusy("window full")
        self.sent.append(pdu)
        if self.fails:
            raise DeliveryNotConfirmed("closed")
        return DeliverSmResp(sequence_number=1)

    def unbind(self) -> None:
        self.unbound = True


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def session_bound(self, context: SessionContext) -> None:
        self.events.append(("bound", context.session_id))

    def session_closed(self, context: SessionContext) -> None:
        self.events.append(("closed", context.session_id))


def test_sessions_are_listed_oldest_bind_first_and_counted_per_system_id() -> None:
    registry = SessionRegistry()
    a, b, other = FakeSession("s1"), FakeSession("s2"), FakeSession("s3", "esme2")
    for session in (a, b, other):
        registry.add(session)
    assert registry.sessions("esme1") == (a, b)
    assert (registry.count("esme1"), registry.count("esme2"), len(registry)) == (2, 1, 3)
    registry.remove(a)
    assert registry.sessions("esme1") == (b,)
    assert registry.system_ids() == frozenset({"esme1", "esme2"})


def test_removing_the_last_session_forgets_the_system_id() -> None:
    registry = SessionRegistry()
    session = FakeSession("s1")
    registry.add(session)
    registry.remove(session)
    registry.remove(session)  # a second remove is harmless
    assert registry.system_ids() == frozenset()
    assert registry.count("esme1") == 0


async def test_a_delivery_goes_to_the_oldest_receiver_skipping_transmitters() -> None:
    registry = SessionRegistry()
    tx = FakeSession("s1", bind_type=BindType.TRANSMITTER)
    rx_old, rx_new = FakeSession("s2", bind_type=BindType.RECEIVER), FakeSession("s3")
    for session in (tx, rx_old, rx_new):
        registry.add(session)
    pdu = DeliverSm(short_message=b"id:1 stat:ACCEPTD")
    assert await registry.deliver("esme1", pdu) == DeliverSmResp(sequence_number=1)
    assert (tx.sent, rx_old.sent, rx_new.sent) == ([], [pdu], [])


async def test_a_busy_receiver_is_passed_over_for_the_next_one() -> None:
    registry = SessionRegistry()
    busy, free = FakeSession("s1", busy=True), FakeSession("s2")
    registry.add(busy)
    registry.add(free)
    await registry.deliver("esme1", DeliverSm())
    assert len(free.sent) == 1


async def test_delivery_without_a_receiver_raises_a_lookup_error() -> None:
    registry = SessionRegistry()
    registry.add(FakeSession("s1", bind_type=BindType.TRANSMITTER))
    with pytest.raises(NoReceiverBound):
        await registry.deliver("esme1", DeliverSm())
    with pytest.raises(LookupError):
        await registry.deliver("nobody", DeliverSm())


async def test_a_delivery_sent_but_not_confirmed_raises_a_connection_error() -> None:
    registry = SessionRegistry()
    registry.add(FakeSession("s1", fails=True))
    with pytest.raises(ConnectionError):
        await registry.deliver("esme1", DeliverSm())


def test_unbind_where_unbinds_only_the_matching_accounts() -> None:
    registry = SessionRegistry()
    gone_a, gone_b, kept = FakeSession("s1", "old"), FakeSession("s2", "old"), FakeSession("s3")
    for session in (gone_a, gone_b, kept):
        registry.add(session)
    assert registry.unbind_where(lambda system_id: system_id == "old") == 2
    assert (gone_a.unbound, gone_b.unbound, kept.unbound) == (True, True, False)


def test_listeners_hear_binds_and_closes() -> None:
    registry = SessionRegistry()
    recorder = Recorder()
    registry.subscribe(recorder)
    session = FakeSession("s1")
    registry.add(session)
    registry.remove(session)
    assert recorder.events == [("bound", "s1"), ("closed", "s1")]


def test_a_failing_listener_is_logged_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Recorder):
        def session_bound(self, context: SessionContext) -> None:
            raise RuntimeError("metrics bug")

    registry = SessionRegistry()
    recorder = Recorder()
    registry.subscribe(Broken())
    registry.subscribe(recorder)
    registry.add(FakeSession("s1"))
    assert recorder.events == [("bound", "s1")]
    assert "event=listener_failed session=s1" in caplog.text
