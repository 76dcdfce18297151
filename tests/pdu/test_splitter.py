"""PduSplitter: whole PDUs out of arbitrary chunks, bounded, length checked from 4 octets."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from real_parts import require_vectors

from bridge.pdu import ESME_RINVCMDID, ESME_RINVCMDLEN, PduError, PduSplitter, decode

from .framing import drain, feed_three_ways, frame
from .vectors import VECTORS

ENQUIRE_LINK = bytes.fromhex("00000010000000150000000000000007")


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_every_golden_pdu_comes_out_whole_however_it_is_fed(vector: object) -> None:
    octets = vector.octets  # type: ignore[attr-defined]
    feed_three_ways(octets, [octets])


def test_many_pdus_in_one_chunk_come_out_one_by_one_in_order() -> None:
    stream = b"".join(vector.octets for vector in VECTORS)
    feed_three_ways(stream, [vector.octets for vector in VECTORS])


def test_nothing_comes_out_and_nothing_is_consumed_until_a_pdu_is_complete() -> None:
    splitter = PduSplitter()
    splitter.feed(ENQUIRE_LINK[:15])
    assert splitter.next_frame() is None
    assert splitter.buffered == 15
    splitter.feed(ENQUIRE_LINK[15:])
    assert splitter.next_frame() == ENQUIRE_LINK
    assert splitter.buffered == 0


def test_a_length_below_16_is_rinvcmdlen_and_loses_sync() -> None:
    splitter = PduSplitter()
    splitter.feed(bytes.fromhex("0000000f000000060000000000000000"))
    with pytest.raises(PduError) as caught:
        splitter.next_frame()
    assert (caught.value.command_status, caught.value.in_sync) == (ESME_RINVCMDLEN, False)
    assert not splitter.in_sync


def test_a_length_above_the_maximum_is_refused_from_four_octets_before_any_body() -> None:
    splitter = PduSplitter(max_pdu_size=1024)
    splitter.feed(struct.pack(">I", 1025))
    assert splitter.buffered == 0
    splitter.feed(bytes(2000))  # the body the peer sends anyway is not kept
    assert splitter.buffered == 0
    with pytest.raises(PduError) as caught:
        splitter.next_frame()
    assert (caught.value.command_status, caught.value.field) == (ESME_RINVCMDLEN, "command_length")
    assert "1025" in str(caught.value)


def test_the_maximum_itself_is_allowed() -> None:
    pdu = frame(0x80000004, b"x" * (1024 - 17) + b"\x00")
    feed_three_ways(pdu, [pdu], max_pdu_size=1024)


def test_a_length_prefix_already_too_large_is_refused_before_all_four_octets_arrive() -> None:
    splitter = PduSplitter()
    splitter.feed(b"\r\n")  # a non-SMPP port answering; the length would be >= 0x0d0a0000
    with pytest.raises(PduError):
        splitter.next_frame()


def test_frames_before_a_bad_length_still_come_out_then_the_error_repeats() -> None:
    good = bytes.fromhex("0000001380000004000000000000000a313300")
    splitter = PduSplitter()
    splitter.feed(good + bytes.fromhex("ffffffed80000004"))
    assert splitter.next_frame() == good
    for _ in range(2):
        with pytest.raises(PduError):
            splitter.next_frame()
    splitter.feed(ENQUIRE_LINK)
    with pytest.raises(PduError):
        splitter.next_frame()
    assert splitter.buffered == 0


def test_a_full_size_pdu_fed_one_byte_at_a_time_comes_out_once() -> None:
    pdu = frame(0x00000103, b"\x00" * 7 + bytes(3) + b"\x04\x24\xff\xd8" + bytes(0xFFD8))
    assert len(pdu) <= 65_536
    splitter = PduSplitter()
    frames = []
    for index in range(len(pdu)):
        splitter.feed(pdu[index : index + 1])
        frames.extend(drain(splitter))
    assert frames == [pdu]


def test_max_pdu_size_below_the_header_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        PduSplitter(max_pdu_size=15)


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(16, 300), min_size=1, max_size=8),
    cuts=st.lists(st.integers(1, 50), min_size=1, max_size=40),
)
def test_any_chunking_gives_the_same_frames_and_never_holds_more_than_one_max_pdu(
    lengths: list[int], cuts: list[int]
) -> None:
    stream = b"".join(frame(0x80000004, bytes(length - 16)) for length in lengths)
    splitter = PduSplitter(max_pdu_size=300)
    frames: list[bytes] = []
    position = 0
    for cut in cuts * (len(stream) // sum(cuts) + 1):
        splitter.feed(stream[position : position + cut])
        position += cut
        frames.extend(drain(splitter))
        assert splitter.buffered < 300
    assert b"".join(frames) == stream
    assert [len(f) for f in frames] == lengths


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40), max_size=20))
def test_random_octets_give_frames_or_a_framing_error_and_nothing_else(
    chunks: list[bytes],
) -> None:
    splitter = PduSplitter(max_pdu_size=256)
    for chunk in chunks:
        splitter.feed(chunk)
        try:
            frames = drain(splitter)
        except PduError as error:
            assert not error.in_sync
            break
        for whole in frames:
            assert 16 <= len(whole) <= 256
            assert struct.unpack(">I", whole[:4])[0] == len(whole)
        assert splitter.buffered < 256


# --- the shared edge cases (../shared/vectors/edge_cases.json), per their `expect` ----------


def _edge_case(prefix: str) -> bytes:
    for record in require_vectors("edge_cases.json"):
        if record["hex"].startswith(prefix):
            return bytes.fromhex(record["hex"])
    raise AssertionError(f"no edge case starts with {prefix}")


def _frames_and_error(raw: bytes) -> tuple[list[bytes], PduError | None, PduSplitter]:
    splitter = PduSplitter()
    splitter.feed(raw)
    frames: list[bytes] = []
    try:
        while (whole := splitter.next_frame()) is not None:
            frames.append(whole)
    except PduError as error:
        return frames, error, splitter
    return frames, None, splitter


def test_edge_case_one_pdu_and_15_octets_keeps_them_until_the_last_octet() -> None:
    raw = _edge_case("0000001080000015000000000a342eed0000001080000015000000000a342e")
    frames, error, splitter = _frames_and_error(raw)
    assert (len(frames), error, splitter.buffered) == (1, None, 15)
    splitter.feed(b"\xf1")
    assert decode(splitter.next_frame() or b"").sequence_number == 0x0A342EF1


def test_edge_case_unknown_command_id_is_rinvcmdid_and_the_next_pdu_still_decodes() -> None:
    frames, error, _ = _frames_and_error(_edge_case("0000001100000110"))
    assert error is None and len(frames) == 2
    with pytest.raises(PduError) as caught:
        decode(frames[0])
    assert (caught.value.command_status, caught.value.in_sync) == (ESME_RINVCMDID, True)
    assert decode(frames[1]).command_id == 0x15


@pytest.mark.parametrize(
    "prefix",
    ["f000001100000110", "0000000f00000006", "0d0a"],
    ids=["negative-length", "length-15", "crlf"],
)
def test_edge_cases_with_lost_framing_are_out_of_sync_rinvcmdlen(prefix: str) -> None:
    frames, error, _ = _frames_and_error(_edge_case(prefix))
    assert frames == []
    assert error is not None
    assert (error.command_status, error.in_sync) == (ESME_RINVCMDLEN, False)


def test_edge_case_short_pdu_is_held_and_nothing_consumed() -> None:
    frames, error, splitter = _frames_and_error(_edge_case("0000001000000015000000000a342e"))
    assert (frames, error, splitter.buffered) == ([], None, 15)


def test_edge_case_declared_253_octets_waits_for_more() -> None:
    frames, error, splitter = _frames_and_error(_edge_case("000000fd80000009"))
    assert (frames, error, splitter.buffered) == ([], None, 29)


def test_edge_case_three_pdus_in_one_read_decode_in_order() -> None:
    frames, error, _ = _frames_and_error(_edge_case("000000158000000400000000000000313233"))
    assert error is None
    assert [decode(f).sequence_number for f in frames] == [0x31, 0x32, 0x33]


def test_edge_case_piggybacked_bogus_length_after_a_good_pdu_does_not_loop() -> None:
    frames, error, _ = _frames_and_error(
        _edge_case("0000001380000004000000000000000a313300ffffffed")
    )
    assert decode(frames[0]).sequence_number == 0x0A
    assert error is not None and not error.in_sync


@pytest.mark.parametrize(
    ("prefix", "status"),
    [
        # unbind with a 1-octet body: "ESME_RINVCMDLEN (body not allowed)".
        ("00000011000000060000000000000000ff", ESME_RINVCMDLEN),
        # command_length 28 cuts the TLV inside its value: "truncated TLV". We answer
        # ESME_RINVOPTPARSTREAM (0xC0), 3.4's status for a broken TLV section.
        ("0000001c80000009", 0xC0),
        # A TLV header cut after 3 octets: the record expects ESME_RINVMSGLEN; 3.4 has the
        # more precise ESME_RINVOPTPARSTREAM for "error in the optional part", which we use.
        ("0000001b80000009", 0xC0),
        # command_length 150 < 153 octets: trusting it leaves sm_length 104 with 101 octets.
        ("00000096000000050000000000add937", 0x01),
    ],
    ids=["unbind-with-body", "tlv-cut-by-length", "tlv-header-cut", "length-3-short"],
)
def test_edge_cases_framed_but_bad_inside_are_in_sync_errors(prefix: str, status: int) -> None:
    frames, _, _ = _frames_and_error(_edge_case(prefix))
    with pytest.raises(PduError) as caught:
        decode(frames[0])
    assert (caught.value.command_status, caught.value.in_sync) == (status, True)
