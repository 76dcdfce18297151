"""Bytes in, whatever the chunking: every scenario fed whole, byte by byte and with trailing
bytes; a real captured session replayed; and the fuzzed invariant: arbitrary
bytes only ever produce events and queued error answers, never an exception other than
RemoteProtocolError, and never more than one max_pdu_size buffered."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from real_parts import require_vectors

from bridge.pdu import (
    BindTransmitter,
    CancelSm,
    DataSm,
    DeliverSmResp,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    decode,
    encode,
    is_response,
)
from bridge.smpp import (
    NEED_DATA,
    BindRequested,
    EnquireLinkReceived,
    Event,
    PduRejected,
    PeerClosed,
    RemoteProtocolError,
    RequestReceived,
    ResponseDropped,
    ResponseReceived,
    Session,
    SessionConfig,
    SessionState,
    Throttled,
    TimerExpired,
    UnbindRequested,
)

from .session_doubles import Esme, feed_three_ways

EVENT_TYPES = (
    BindRequested,
    RequestReceived,
    ResponseReceived,
    ResponseDropped,
    EnquireLinkReceived,
    UnbindRequested,
    Throttled,
    PduRejected,
    TimerExpired,
    PeerClosed,
)
# An incomplete enquire_link: must stay buffered, untouched, after every scenario.
TRAILING = encode(EnquireLink(sequence_number=99))[:10]


def raw_pdu(command_id: int, sequence_number: int, body: bytes = b"") -> bytes:
    fields = (16 + len(body), command_id, 0, sequence_number)
    return b"".join(f.to_bytes(4, "big") for f in fields) + body


def pdus(*items: Pdu) -> bytes:
    return b"".join(encode(item) for item in items)


def open_session(config: SessionConfig | None = None) -> Callable[[], Session]:
    return lambda: Session(config or SessionConfig(), now=0.0)


def bound_session(config: SessionConfig | None = None) -> Callable[[], Session]:
    def make() -> Session:
        esme = Esme(config)
        esme.bind()
        return esme.session

    return make


def summary(events: list[Event]) -> list[tuple[object, ...]]:
    """Events without free-text reasons, which may word a lost frame differently by chunking."""
    return [
        (type(e).__name__, e.command_id, e.sequence_number, e.command_status, e.closing)
        if isinstance(e, PduRejected)
        else (type(e).__name__, e)
        for e in events
    ]


SCENARIOS: dict[str, tuple[Callable[[], Session], bytes, int]] = {
    # name: (session factory, bytes from the ESME, number of answers expected on the wire)
    "bind then a submit before the answer": (
        open_session(),
        pdus(BindTransmitter(system_id="esme1", sequence_number=2), SubmitSm(sequence_number=3)),
        1,
    ),
    "a bound transceiver's whole repertoire": (
        bound_session(),
        pdus(
            SubmitSm(sequence_number=3, short_message=b"x" * 160),
            SubmitMulti(sequence_number=4, dest_addresses=(SmeAddress(destination_addr="6012"),)),
            DataSm(sequence_number=5),
            QuerySm(sequence_number=6, message_id="1"),
            CancelSm(sequence_number=7, message_id="1"),
            EnquireLink(sequence_number=8),
            Unbind(sequence_number=9),
        ),
        2,
    ),
    "unknown command, bad body, stray response": (
        bound_session(),
        raw_pdu(0x99, 3) + raw_pdu(0x04, 4, b"\x01") + pdus(DeliverSmResp(sequence_number=77)),
        2,
    ),
    "a window overflow": (
        bound_session(SessionConfig(window=2)),
        pdus(*(SubmitSm(sequence_number=n) for n in range(3, 8))),
        3,
    ),
}
LOST_FRAMING: dict[str, tuple[Callable[[], Session], bytes, int]] = {
    "an enquire_link, then a short command_length": (
        bound_session(),
        pdus(EnquireLink(sequence_number=3)) + b"\x00\x00\x00\x0f" + b"\x00" * 12,
        2,
    ),
    "an http request on the smpp port": (open_session(), b"GET / HTTP/1.1\r\n\r\n", 1),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_scenario_gives_the_same_events_and_answers_whole_byte_by_byte_and_with_trailing_data(
    name: str,
) -> None:
    make, raw, answers = SCENARIOS[name]
    (whole, whole_out, _), (drip, drip_out, _), (extra, extra_out, session) = feed_three_ways(
        make, raw, TRAILING
    )
    assert whole == drip == extra
    assert whole_out == drip_out == extra_out
    assert len(split(whole_out)) == answers
    assert session.buffered_bytes == len(TRAILING)  # left untouched for the next read


@pytest.mark.parametrize("name", sorted(LOST_FRAMING))
def test_a_lost_frame_is_answered_and_closes_whole_byte_by_byte_and_with_trailing_data(
    name: str,
) -> None:
    make, raw, answers = LOST_FRAMING[name]
    results = feed_three_ways(make, raw, TRAILING)
    assert len({repr(summary(events)) for events, _out, _s in results}) == 1
    assert len({out for _events, out, _s in results}) == 1
    for events, out, session in results:
        assert isinstance(events[-1], PduRejected) and events[-1].closing
        assert split(out)[-1] == GenericNack(command_status=0x02, sequence_number=0)
        assert len(split(out)) == answers
        assert session.must_close


def split(wire: bytes) -> list[Pdu]:
    found = []
    while wire:
        length = int.from_bytes(wire[:4], "big")
        found.append(decode(wire[:length]))
        wire = wire[length:]
    return found


def test_the_2008_captured_session_is_answered_byte_for_byte_as_that_smsc_did() -> None:
    # smpp_in_general.pcap (vectors README): bind_transmitter with interface_version 0x01,
    # enquire_link, submit_sm "test", unbind; the SMSC called itself "SMSC".
    frames = [v for v in require_vectors("vectors.json") if "smpp_in_general" in v["source"]]
    esme = Esme(SessionConfig(our_system_id="SMSC"))
    for frame in frames:
        raw = bytes.fromhex(frame["hex"])
        if is_response(int.from_bytes(raw[4:8], "big")):
            assert esme.take() == [decode(raw)], frame["command"]
            continue
        for event in esme.send_bytes(raw):
            if isinstance(event, BindRequested):
                esme.session.accept_bind(event, esme.now)
            elif isinstance(event, RequestReceived):
                number = event.pdu.sequence_number
                esme.answer(SubmitSmResp(sequence_number=number, message_id="47c8c77a"))
    assert esme.session.must_close


def test_every_real_world_vector_sent_to_a_bound_transceiver_gets_exactly_one_outcome() -> None:
    outcomes = set()
    for vector in require_vectors("vectors.json"):
        esme = Esme()
        esme.bind()
        (event,) = esme.send_bytes(bytes.fromhex(vector["hex"]))
        answers = esme.take()
        assert all(is_response(p.command_id) for p in answers)
        if isinstance(event, RequestReceived | ResponseDropped):
            assert answers == []  # handed up, or a response (never answered)
        else:
            assert len(answers) == 1
            assert esme.session.must_close is isinstance(event, UnbindRequested)
        outcomes.add(type(event).__name__)
    assert {"RequestReceived", "ResponseDropped", "PduRejected"} <= outcomes


def test_all_real_world_vectors_in_one_stream_give_the_same_outcome_however_cut() -> None:
    stream = b"".join(bytes.fromhex(v["hex"]) for v in require_vectors("vectors.json"))
    make = bound_session(SessionConfig(window=1_000, max_unknown_commands=1_000))
    (whole, out, _), (drip, drip_out, _), _ = feed_three_ways(make, stream, TRAILING)
    assert summary(whole) == summary(drip) and out == drip_out
    assert len(whole) == 127  # one event per PDU, nothing lost, nothing raised
    assert all(is_response(p.command_id) for p in split(out))


# --- the fuzzed invariant -------------------------------------------------------------------

_SEEDS = [
    pdus(SubmitSm(sequence_number=5, short_message=b"hello")),
    pdus(EnquireLink(sequence_number=6)),
    pdus(Unbind(sequence_number=7)),
    pdus(BindTransmitter(system_id="esme1", password="pw", sequence_number=8)),
    pdus(DeliverSmResp(sequence_number=1)),
    raw_pdu(0x99, 9),
    raw_pdu(0x80000004, 10, b"\xff"),
]


@st.composite
def wire_pieces(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["pdu", "mutated", "random", "header"]))
    if kind == "pdu":
        return draw(st.sampled_from(_SEEDS))
    if kind == "mutated":
        seed = bytearray(draw(st.sampled_from(_SEEDS)))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(seed) - 1))
            seed[at] = draw(st.integers(0, 255))
        return bytes(seed)
    if kind == "header":
        length = draw(st.integers(0, 2_000))
        command_id = draw(st.sampled_from([0x04, 0x15, 0x06, 0x02, 0x99, 0x80000015]))
        body = draw(st.binary(max_size=64))
        return length.to_bytes(4, "big") + command_id.to_bytes(4, "big") + bytes(8) + body
    return draw(st.binary(min_size=1, max_size=64))


def _run(session: Session, chunks: list[bytes]) -> tuple[list[Event], bytes]:
    events: list[Event] = []
    out = bytearray()
    for chunk in chunks:
        session.receive_data(chunk, 0.0)
        while True:
            try:
                event = session.next_event()
            except RemoteProtocolError:  # the one exception the invariant allows
                break
            if event is NEED_DATA:
                break
            assert isinstance(event, EVENT_TYPES)
            events.append(event)
            if isinstance(event, RequestReceived):  # the application answers at once
                session.send(
                    GenericNack(command_status=8, sequence_number=event.pdu.sequence_number), 0.0
                )
            elif isinstance(event, BindRequested):
                session.accept_bind(event, 0.0)
        assert session.buffered_bytes < session_config.max_pdu_size
        out += session.data_to_send()
    return events, bytes(out)


session_config = SessionConfig(max_pdu_size=512, window=3, max_unknown_commands=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(wire_pieces(), max_size=12), cuts=st.lists(st.integers(0, 2_000)))
def test_arbitrary_bytes_only_ever_produce_events_and_answers_however_they_are_cut(
    pieces: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(pieces)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points) if b > a]

    def make() -> Session:
        esme = Esme(session_config)
        esme.bind()
        return esme.session

    whole_events, whole_out = _run(make(), [stream] if stream else [])
    cut_events, cut_out = _run(make(), chunks)
    assert summary(whole_events) == summary(cut_events)
    assert whole_out == cut_out
    answers = split(whole_out)
    assert all(is_response(p.command_id) for p in answers)  # input never makes us ask
    assert len(answers) <= len(whole_events)


@pytest.mark.parametrize("state", [SessionState.OPEN, SessionState.BOUND_RX])
def test_a_pdu_dripped_in_byte_by_byte_waits_silently_until_complete(state: SessionState) -> None:
    esme = Esme(session_config)
    if state is SessionState.BOUND_RX:
        esme.bind(state)
    declared = b"\x00\x00\x01\x00" + b"\xff" * 252  # 256 octets, id 0xffffffff (a response)
    for byte in declared[:-1]:
        assert esme.send_bytes(bytes([byte])) == []
    assert esme.session.buffered_bytes == 255 and esme.session.state is state
    (event,) = esme.send_bytes(declared[-1:])
    assert isinstance(event, ResponseDropped)  # never answered, whatever it is
    assert esme.take() == [] and esme.session.buffered_bytes == 0
