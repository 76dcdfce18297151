"""A fake wire for Session tests (h11's ConnectionPair idea): an in-memory ESME.

`Esme` encodes what it sends with bridge.pdu, feeds the bytes to a real Session, drains every
event, and decodes what the Session queued for it into `received`. No sockets, no clock:
`now` is a number the test moves by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    Pdu,
    PduSplitter,
    SubmitSm,
    decode,
    encode,
)
from bridge.smpp import (
    NEED_DATA,
    BindRequested,
    Event,
    RequestReceived,
    Session,
    SessionConfig,
    SessionState,
)

BIND_CLASSES = {
    SessionState.BOUND_TX: BindTransmitter,
    SessionState.BOUND_RX: BindReceiver,
    SessionState.BOUND_TRX: BindTransceiver,
}


class Esme:
    """One ESME talking to one Session over an in-memory wire."""

    def __init__(self, config: SessionConfig | None = None, now: float = 0.0) -> None:
        self.config = config or SessionConfig()
        self.now = now
        self.session = Session(self.config, now=now)
        self.received: list[Pdu] = []
        self.events: list[Event] = []
        self._replies = PduSplitter(1 << 20)
        # smpplib starts at 2 (its generator increments before the bind): do the same.
        self._next_sequence_number = 2

    # --- sending ------------------------------------------------------------------------

    def number(self, pdu: Pdu) -> Pdu:
        """The PDU with the next sequence_number of this ESME, unless it already has one."""
        if pdu.sequence_number:
            return pdu
        numbered = replace(pdu, sequence_number=self._next_sequence_number)
        self._next_sequence_number += 1
        return numbered

    def send(self, *pdus: Pdu) -> list[Event]:
        """Encode and deliver PDUs in one chunk; return the events they produced."""
        return self.send_bytes(b"".join(encode(self.number(pdu)) for pdu in pdus))

    def send_bytes(self, raw: bytes) -> list[Event]:
        self.session.receive_data(raw, self.now)
        return self.drain()

    def close(self) -> list[Event]:
        self.session.receive_data(b"", self.now)
        return self.drain()

    # --- time ---------------------------------------------------------------------------

    def at(self, now: float) -> list[Event]:
        """Move the clock to `now`, fire the session's timers, return their events."""
        self.now = now
        self.session.deadline_passed(now)
        return self.drain()

    # --- the session side -----------------------------------------------------------------

    def drain(self) -> list[Event]:
        """Every event the session has, and what it queued for the wire."""
        events: list[Event] = []
        while (event := self.session.next_event()) is not NEED_DATA:
            events.append(event)
        self.events.extend(events)
        self.collect()
        return events

    def collect(self) -> None:
        self._replies.feed(self.session.data_to_send())
        while (frame := self._replies.next_frame()) is not None:
            self.received.append(decode(frame))

    def take(self) -> list[Pdu]:
        """What the session sent since the last take()."""
        self.collect()
        taken, self.received = self.received, []
        return taken

    def answer(self, pdu: Pdu) -> int:
        """The application's answer, as the pipeline would send it."""
        number = self.session.send(pdu, self.now)
        self.collect()
        return number

    # --- whole steps ----------------------------------------------------------------------

    def bind(self, state: SessionState = SessionState.BOUND_TRX, **fields: str) -> None:
        """Bind and have the application accept it; the bind_*_resp is taken."""
        (event,) = self.send(BIND_CLASSES[state](system_id="esme1", password="secret1", **fields))
        assert isinstance(event, BindRequested)
        self.session.accept_bind(event, self.now)
        self.take()
        assert self.session.state is state

    def submit(self, **fields: object) -> RequestReceived:
        (event,) = self.send(SubmitSm(destination_addr="60123456789", **fields))  # type: ignore[arg-type]
        assert isinstance(event, RequestReceived)
        return event


def feed_whole(raw: bytes, session: Session) -> list[Event]:
    session.receive_data(raw, 0.0)
    return _drain(session)


def feed_byte_by_byte(raw: bytes, session: Session) -> list[Event]:
    events: list[Event] = []
    for i in range(len(raw)):
        session.receive_data(raw[i : i + 1], 0.0)
        events.extend(_drain(session))
    return events


def feed_three_ways(
    make_session: Callable[[], Session],
    raw: bytes,
    trailing: bytes,
) -> list[tuple[list[Event], bytes, Session]]:
    """Feed `raw` whole, byte by byte, and followed by `trailing` (an incomplete PDU that
    must stay buffered untouched). Returns (events, bytes sent, session) for each way."""
    results = []
    for feed, extra in ((feed_whole, b""), (feed_byte_by_byte, b""), (feed_whole, trailing)):
        session = make_session()
        events = feed(raw + extra, session)
        results.append((events, session.data_to_send(), session))
    return results


def _drain(session: Session) -> list[Event]:
    events: list[Event] = []
    while (event := session.next_event()) is not NEED_DATA:
        events.append(event)
    return events
