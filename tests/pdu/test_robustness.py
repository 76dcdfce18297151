"""Truncated, mutated and random octets only ever raise PduError: no other exception, no hang."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.pdu import PDU_CLASSES, Pdu, PduError, decode, decode_reference

from .vectors import VECTORS

GOLDEN = [vector.octets for vector in VECTORS]


def _decode_or_error(octets: bytes) -> Pdu | PduError:
    try:
        return decode(octets)
    except PduError as error:
        return error


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_every_truncation_of_a_golden_pdu_is_a_pdu_error(vector: object) -> None:
    octets = vector.octets  # type: ignore[attr-defined]
    for end in range(len(octets)):
        assert isinstance(_decode_or_error(octets[:end]), PduError)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_every_truncation_with_its_length_fixed_up_decodes_or_is_a_pdu_error(
    vector: object,
) -> None:
    octets = vector.octets  # type: ignore[attr-defined]
    for end in range(16, len(octets)):
        cut = struct.pack(">I", end) + octets[4:end]
        result = _decode_or_error(cut)
        assert isinstance(result, Pdu | PduError)
        if isinstance(result, PduError):
            assert result.in_sync  # the frame was whole; only its body was bad


@settings(max_examples=500, deadline=None)
@given(
    octets=st.sampled_from(GOLDEN),
    changes=st.lists(st.tuples(st.integers(4, 400), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_mutated_golden_pdus_decode_or_raise_pdu_error(
    octets: bytes, changes: list[tuple[int, int]]
) -> None:
    mutated = bytearray(octets)
    for position, value in changes:
        mutated[position % len(mutated)] = value
    mutated[:4] = struct.pack(">I", len(mutated))
    assert isinstance(_decode_or_error(bytes(mutated)), Pdu | PduError)


@settings(max_examples=500, deadline=None)
@given(
    command_id=st.sampled_from(sorted(PDU_CLASSES)),
    body=st.binary(max_size=300),
    status=st.integers(0, 0xFFFFFFFF),
)
def test_random_bodies_for_every_command_decode_or_raise_pdu_error(
    command_id: int, body: bytes, status: int
) -> None:
    octets = struct.pack(">IIII", 16 + len(body), command_id, status, 1) + body
    result = _decode_or_error(octets)
    assert isinstance(result, Pdu | PduError)
    try:
        assert decode_reference(octets) == result
    except PduError as error:
        assert isinstance(result, PduError)
        assert error.command_status == result.command_status


@settings(max_examples=500, deadline=None)
@given(octets=st.binary(max_size=100))
def test_random_octets_decode_or_raise_pdu_error(octets: bytes) -> None:
    assert isinstance(_decode_or_error(octets), Pdu | PduError)
