"""UDH parsing (3GPP TS 23.040 §9.2.3.24), SAR TLVs and message_payload (SMPP 3.4 §5.3.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pdu import CommandStatus, DataSm, SmeAddress, SubmitMulti, SubmitSm, Tag, Tlv
from bridge.pipeline.checks.udh import (
    ConcatenatedPart,
    IncompleteSar,
    InvalidSar,
    MalformedUdh,
    PayloadConflict,
    UserDataError,
    concatenation_of,
    parse_udh,
    payload_of,
)

UDHI = 0x40


def sar(reference: int, total: int, seqnum: int) -> tuple[Tlv, ...]:
    return (
        Tlv(Tag.SAR_MSG_REF_NUM, reference),
        Tlv(Tag.SAR_TOTAL_SEGMENTS, total),
        Tlv(Tag.SAR_SEGMENT_SEQNUM, seqnum),
    )


def test_an_8_bit_reference_ie_gives_reference_total_and_part() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=b"\x05\x00\x03\x24\x02\x01Hello")
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=0x24, total=2, seqnum=1, payload=b"Hello"
    )


def test_a_16_bit_reference_ie_reads_the_reference_big_endian() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=b"\x06\x08\x04\xbe\xef\x03\x02world")
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=0xBEEF, total=3, seqnum=2, payload=b"world"
    )


def test_other_information_elements_are_skipped() -> None:
    # Port addressing (0x05, 4 octets) before the concatenation IE.
    pdu = SubmitSm(
        esm_class=UDHI, short_message=b"\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x07\x02\x02text"
    )
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=7, total=2, seqnum=2, payload=b"text"
    )


def test_a_udh_without_concatenation_is_a_single_message_without_its_header() -> None:
    pdu = SubmitSm(esm_class=UDHI | 0x03, short_message=b"\x06\x05\x04\x0b\x84\x23\xf0Hi")
    assert concatenation_of(pdu) is None
    assert payload_of(pdu) == b"Hi"


def test_the_last_concatenation_ie_counts_when_there_are_two() -> None:
    header = b"\x0b\x00\x03\x01\x02\x01\x08\x04\x00\x09\x03\x03"
    part = concatenation_of(SubmitSm(esm_class=UDHI, short_message=header + b"x"))
    assert part == ConcatenatedPart(reference=9, total=3, seqnum=3, payload=b"x")


def test_parse_udh_lists_every_element_and_the_header_length() -> None:
    header = parse_udh(b"\x08\x24\x01\x01\x00\x03\x10\x02\x01rest")
    assert [(e.iei, e.data) for e in header.elements] == [
        (0x24, b"\x01"),
        (0x00, b"\x10\x02\x01"),
    ]
    assert header.length == 9


def test_an_empty_udh_is_allowed_and_holds_nothing() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=b"\x00abc")
    assert payload_of(pdu) == b"abc"
    assert concatenation_of(pdu) is None


def test_a_message_without_udhi_keeps_udh_like_bytes_as_text() -> None:
    pdu = SubmitSm(short_message=b"\x05\x00\x03\x24\x02\x01Hello")
    assert concatenation_of(pdu) is None
    assert payload_of(pdu) == b"\x05\x00\x03\x24\x02\x01Hello"


@pytest.mark.parametrize(
    ("short_message", "said"),
    [
        (b"", "empty"),
        (b"\x05\x00\x03\x01", "UDHL 5"),
        (b"\x01\x00", "cut off"),
        (b"\x03\x00\x05\x01\x02\x01\x02", "runs past"),
        (b"\x04\x00\x02\x01\x02text", "length 2, expected 3"),
        (b"\x05\x08\x03\x01\x02\x01text", "length 3, expected 4"),
        (b"\x05\x00\x03\x01\x00\x00text", "0 parts"),
        (b"\x05\x00\x03\x01\x02\x00text", "part 0"),
        (b"\x05\x00\x03\x01\x02\x03text", "part 3 is outside 1..2"),
    ],
)
def test_a_malformed_udh_is_refused_saying_what_is_wrong(short_message: bytes, said: str) -> None:
    with pytest.raises(MalformedUdh, match=said):
        concatenation_of(SubmitSm(esm_class=UDHI, short_message=short_message))


def test_a_malformed_udh_is_answered_with_esme_rinvesmclass() -> None:
    assert MalformedUdh.command_status is CommandStatus.ESME_RINVESMCLASS


def test_sar_tlvs_give_reference_total_and_part() -> None:
    pdu = SubmitSm(short_message=b"chunk", tlvs=sar(0x1234, 4, 3))
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=0x1234, total=4, seqnum=3, payload=b"chunk"
    )


@pytest.mark.parametrize(
    "missing", [Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM]
)
def test_sar_tlvs_must_come_all_three_together(missing: Tag) -> None:
    tlvs = tuple(t for t in sar(1, 2, 1) if t.tag != missing)
    with pytest.raises(IncompleteSar, match=missing.name.lower()) as caught:
        concatenation_of(SubmitSm(short_message=b"x", tlvs=tlvs))
    assert caught.value.command_status is CommandStatus.ESME_RMISSINGOPTPARAM


@pytest.mark.parametrize(
    ("total", "seqnum", "said"),
    [(0, 1, "sar_total_segments is 0"), (2, 0, "0 is outside 1..2"), (2, 3, "3 is outside")],
)
def test_impossible_sar_values_are_refused_with_esme_rinvoptparamval(
    total: int, seqnum: int, said: str
) -> None:
    with pytest.raises(InvalidSar, match=said) as caught:
        concatenation_of(SubmitSm(short_message=b"x", tlvs=sar(1, total, seqnum)))
    assert caught.value.command_status is CommandStatus.ESME_RINVOPTPARAMVAL


def test_sar_and_udh_that_agree_are_accepted() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=b"\x05\x00\x03\x07\x02\x01ab", tlvs=sar(7, 2, 1))
    assert concatenation_of(pdu) == ConcatenatedPart(reference=7, total=2, seqnum=1, payload=b"ab")


def test_sar_and_udh_that_disagree_are_refused() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=b"\x05\x00\x03\x07\x02\x01ab", tlvs=sar(8, 2, 1))
    with pytest.raises(InvalidSar, match="disagree"):
        concatenation_of(pdu)


def test_message_payload_in_a_single_submit_sm_is_the_text() -> None:
    pdu = SubmitSm(tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"x" * 1000),))
    assert concatenation_of(pdu) is None
    assert payload_of(pdu) == b"x" * 1000


def test_message_payload_may_carry_a_udh() -> None:
    pdu = SubmitSm(
        esm_class=UDHI, tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"\x05\x00\x03\x01\x02\x02tail"),)
    )
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=1, total=2, seqnum=2, payload=b"tail"
    )


def test_message_payload_with_sar_tlvs_is_a_part() -> None:
    pdu = SubmitSm(tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"body"), *sar(5, 2, 2)))
    assert concatenation_of(pdu) == ConcatenatedPart(
        reference=5, total=2, seqnum=2, payload=b"body"
    )


def test_message_payload_with_a_non_empty_short_message_is_refused() -> None:
    pdu = SubmitSm(short_message=b"a", tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"b"),))
    with pytest.raises(PayloadConflict, match="short_message must be empty") as caught:
        payload_of(pdu)
    assert caught.value.command_status is CommandStatus.ESME_ROPTPARNOTALLWD


def test_data_sm_text_comes_from_message_payload() -> None:
    pdu = DataSm(tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"data sm text"),))
    assert payload_of(pdu) == b"data sm text"


def test_data_sm_without_message_payload_carries_no_octets() -> None:
    assert payload_of(DataSm()) == b""


def test_submit_multi_parts_are_read_like_submit_sm() -> None:
    pdu = SubmitMulti(
        dest_addresses=(SmeAddress(destination_addr="60123456789"),),
        esm_class=UDHI,
        short_message=b"\x05\x00\x03\x02\x02\x02end",
    )
    assert concatenation_of(pdu) == ConcatenatedPart(reference=2, total=2, seqnum=2, payload=b"end")


def test_every_user_data_error_carries_a_reason_and_a_status() -> None:
    for error_type in (MalformedUdh, IncompleteSar, InvalidSar, PayloadConflict):
        error = error_type("why")
        assert isinstance(error, UserDataError)
        assert error.reason == "why"
        assert isinstance(error.command_status, CommandStatus)


@given(st.binary(max_size=40))
def test_any_octets_under_udhi_parse_or_raise_a_user_data_error(octets: bytes) -> None:
    try:
        payload = payload_of(SubmitSm(esm_class=UDHI, short_message=octets))
    except UserDataError:
        return
    assert octets.endswith(payload)
    assert len(payload) < len(octets)


@given(
    st.integers(min_value=0, max_value=0xFFFF),
    st.integers(min_value=1, max_value=255).flatmap(
        lambda total: st.tuples(st.just(total), st.integers(min_value=1, max_value=total))
    ),
    st.binary(max_size=140),
)
def test_a_hand_built_16_bit_reference_udh_reads_back_exactly(
    reference: int, total_and_seqnum: tuple[int, int], text: bytes
) -> None:
    total, seqnum = total_and_seqnum
    header = b"\x06\x08\x04" + reference.to_bytes(2, "big") + bytes([total, seqnum])
    part = concatenation_of(SubmitSm(esm_class=UDHI, short_message=header + text))
    assert part == ConcatenatedPart(reference=reference, total=total, seqnum=seqnum, payload=text)
