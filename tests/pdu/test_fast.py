"""The hand-written fast path equals the construct path on every input, valid or not.

For decode: each fast decoder returns either the very PDU decode_reference() builds, or None
(and then the construct path judges). For encode: the very octets encode_reference() writes,
or None. On the inputs the fast path exists for (clean hot PDUs) it must not decline.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.pdu import (
    CommandId,
    EnquireLink,
    Pdu,
    PduError,
    SubmitSm,
    decode,
    decode_reference,
    encode,
    encode_reference,
)
from bridge.pdu.fast import FAST_DECODERS, FAST_ENCODERS
from bridge.pdu.fast_tlv import slot_setters

from .strategies import HOT_CLASSES, hot_pdus, invalid_pdus
from .vectors import VECTORS

HOT_IDS = sorted(FAST_DECODERS)


def _outcome(call: object, argument: object) -> tuple[object, ...]:
    try:
        return ("ok", call(argument))  # type: ignore[operator]
    except PduError as error:
        return ("error", error.command_status, error.field, error.offset, error.in_sync)


def _fast_decode(octets: bytes) -> Pdu | None:
    _, command_id, status, sequence = struct.unpack_from(">IIII", octets)
    return FAST_DECODERS[command_id](octets, status, sequence)


@st.composite
def hot_octets(draw: st.DrawFn) -> bytes:
    """Hot-PDU octets: clean, or mutated (bytes changed, cut, added) with a fixed-up length."""
    octets = bytearray(encode(draw(hot_pdus())))
    mutation = draw(st.sampled_from(["none", "flip", "cut", "extend", "random-body"]))
    if mutation == "flip" and len(octets) > 16:
        for _ in range(draw(st.integers(1, 4))):
            octets[draw(st.integers(16, len(octets) - 1))] = draw(st.integers(0, 255))
    elif mutation == "cut":
        del octets[draw(st.integers(16, len(octets))) :]
    elif mutation == "extend":
        octets += draw(st.binary(min_size=1, max_size=8))
    elif mutation == "random-body":
        octets[16:] = draw(st.binary(max_size=120))
    octets[:4] = struct.pack(">I", len(octets))
    return bytes(octets)


def test_the_fast_path_covers_the_hot_pdus() -> None:
    assert {cls.command_id for cls in HOT_CLASSES} == set(FAST_DECODERS)
    assert set(HOT_CLASSES) == set(FAST_ENCODERS)
    for command_id in (CommandId.SUBMIT_SM, CommandId.DELIVER_SM, CommandId.SUBMIT_SM_RESP,
                       CommandId.DELIVER_SM_RESP, CommandId.ENQUIRE_LINK,
                       CommandId.ENQUIRE_LINK_RESP):  # fmt: skip
        assert command_id in FAST_DECODERS


@settings(max_examples=400, deadline=None)
@given(octets=hot_octets())
@example(octets=bytes.fromhex("0000001c80000004000000000000000131323300000001000000"))
def test_fast_decode_returns_the_reference_pdu_or_declines(octets: bytes) -> None:
    fast = _fast_decode(octets)
    reference = _outcome(decode_reference, octets)
    if fast is not None:
        assert reference == ("ok", fast)
    assert _outcome(decode, octets) == reference


@settings(max_examples=200, deadline=None)
@given(pdu=hot_pdus())
def test_fast_decode_never_declines_a_clean_hot_pdu(pdu: Pdu) -> None:
    assert _fast_decode(encode_reference(pdu)) == pdu


@settings(max_examples=300, deadline=None)
@given(
    command_id=st.sampled_from(HOT_IDS),
    body=st.binary(max_size=200),
    status=st.integers(0, 0xFFFFFFFF),
    sequence=st.integers(0, 0xFFFFFFFF),
)
def test_decode_equals_the_reference_on_random_bodies(
    command_id: int, body: bytes, status: int, sequence: int
) -> None:
    octets = struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body
    assert _outcome(decode, octets) == _outcome(decode_reference, octets)


@settings(max_examples=300, deadline=None)
@given(octets=st.binary(max_size=64))
def test_decode_equals_the_reference_on_random_octets(octets: bytes) -> None:
    assert _outcome(decode, octets) == _outcome(decode_reference, octets)


@settings(max_examples=200, deadline=None)
@given(pdu=hot_pdus())
def test_fast_encode_writes_the_reference_octets(pdu: Pdu) -> None:
    assert FAST_ENCODERS[type(pdu)](pdu) == encode_reference(pdu)


@settings(max_examples=300, deadline=None)
@given(pdu=invalid_pdus(HOT_CLASSES))
def test_fast_encode_declines_what_the_reference_refuses(pdu: Pdu) -> None:
    reference = _outcome(encode_reference, pdu)
    fast = FAST_ENCODERS[type(pdu)](pdu)
    if fast is not None:
        assert reference == ("ok", fast)
    assert _outcome(encode, pdu) == reference


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_both_paths_agree_on_every_golden_vector(vector: object) -> None:
    octets = vector.octets  # type: ignore[attr-defined]
    assert decode(octets) == decode_reference(octets)
    assert encode(vector.pdu) == encode_reference(vector.pdu)  # type: ignore[attr-defined]


def test_slot_setters_refuse_to_leave_a_field_unset() -> None:
    with pytest.raises(RuntimeError):
        slot_setters(SubmitSm, "command_status", "sequence_number")
    assert len(slot_setters(EnquireLink, "command_status", "sequence_number")) == 2
