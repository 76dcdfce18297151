"""Property: decode(encode(x)) == x for every PDU type, and encode(decode(b)) == b."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.pdu import PDU_CLASSES, Pdu, PduError, decode, encode

from .strategies import invalid_pdus, pdus_of

CLASSES = sorted(PDU_CLASSES.values(), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_decoding_an_encoded_pdu_gives_it_back(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(pdus_of(cls))
    assert decode(encode(pdu)) == pdu


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_encoding_decoded_octets_gives_the_same_octets(cls: type[Pdu], data: st.DataObject) -> None:
    octets = encode(data.draw(pdus_of(cls)))
    assert encode(decode(octets)) == octets


@settings(max_examples=300, deadline=None)
@given(pdu=invalid_pdus())
def test_a_pdu_with_a_value_the_spec_forbids_is_refused_with_pdu_error(pdu: Pdu) -> None:
    with pytest.raises(PduError):
        encode(pdu)
