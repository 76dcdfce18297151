"""decode() and encode(): golden vectors both ways, every error's status, field and offset."""

from __future__ import annotations

import pytest

from bridge.pdu import (
    ESME_RINVCMDID,
    ESME_RINVCMDLEN,
    ESME_RINVDESTFLAG,
    ESME_RINVDSTADR,
    ESME_RINVEXPIRY,
    ESME_RINVMSGID,
    ESME_RINVMSGLEN,
    ESME_RINVNUMDESTS,
    ESME_RINVOPTPARAMVAL,
    ESME_RINVOPTPARSTREAM,
    ESME_RINVPARLEN,
    ESME_RINVPASWD,
    ESME_RINVSCHED,
    ESME_RINVSERTYP,
    ESME_RINVSRCADR,
    ESME_RINVSYSID,
    ESME_RINVSYSTYP,
    PDU_CLASSES,
    BindTransceiver,
    BindTransmitter,
    CommandId,
    DeliverSm,
    DeliverSmResp,
    EnquireLinkResp,
    NetworkErrorCode,
    Pdu,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    decode,
    encode,
)

from .framing import frame, raises_pdu_error
from .vectors import VECTORS

# A submit_sm body up to (not including) short_message, every string empty.
SUBMIT_SM_FIELDS = bytes.fromhex("00000000000000000000000000000000")


def test_every_pdu_type_has_a_golden_vector() -> None:
    assert {type(vector.pdu) for vector in VECTORS} == set(PDU_CLASSES.values())


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_encode_produces_the_golden_octets(vector: object) -> None:
    assert encode(vector.pdu).hex() == vector.hex  # type: ignore[attr-defined]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_decode_reads_the_golden_octets(vector: object) -> None:
    assert decode(vector.octets) == vector.pdu  # type: ignore[attr-defined]


def test_decode_accepts_bytearray_and_memoryview() -> None:
    octets = VECTORS[0].octets
    assert decode(bytearray(octets)) == decode(memoryview(octets)) == VECTORS[0].pdu


def test_decode_of_something_not_bytes_is_a_pdu_error() -> None:
    error = raises_pdu_error(decode, "0000001000000015")
    assert not error.in_sync


# --- header (SMPP 3.4 §3.2) ----------------------------------------------------------------


def test_fewer_than_16_octets_is_rinvcmdlen_and_out_of_sync() -> None:
    error = raises_pdu_error(decode, bytes.fromhex("0000001000000015000000000a342e"))
    assert (error.command_status, error.field, error.in_sync) == (
        ESME_RINVCMDLEN,
        "command_length",
        False,
    )


def test_command_length_other_than_the_octets_given_is_rinvcmdlen_and_out_of_sync() -> None:
    error = raises_pdu_error(decode, frame(CommandId.ENQUIRE_LINK) + b"\x00")
    assert error.command_status == ESME_RINVCMDLEN
    assert error.command_id == CommandId.ENQUIRE_LINK
    assert not error.in_sync


def test_unknown_command_id_is_rinvcmdid_with_its_sequence_number_so_the_session_goes_on() -> None:
    error = raises_pdu_error(decode, frame(0x00000110, b"\x0f", sequence=0x0A342EE7))
    assert error.command_status == ESME_RINVCMDID
    assert (error.command_id, error.sequence_number) == (0x110, 0x0A342EE7)
    assert error.in_sync


@pytest.mark.parametrize(
    "command_id", [CommandId.UNBIND, CommandId.ENQUIRE_LINK_RESP, CommandId.GENERIC_NACK]
)
def test_a_body_on_a_header_only_pdu_is_rinvcmdlen(command_id: int) -> None:
    error = raises_pdu_error(decode, frame(command_id, b"\xff"))
    assert (error.command_status, error.offset, error.in_sync) == (ESME_RINVCMDLEN, 16, True)


def test_undefined_status_and_high_sequence_number_survive_a_round_trip() -> None:
    octets = frame(CommandId.SUBMIT_SM_RESP, status=0x22, sequence=0xA2859F22)
    pdu = decode(octets)
    assert (pdu.command_status, pdu.sequence_number) == (0x22, 0xA2859F22)
    assert encode(pdu) == octets


# --- C-Octet Strings and time fields (SMPP 3.4 §3.1, §7.1) -----------------------------------


@pytest.mark.parametrize(
    ("command_id", "body", "field", "status"),
    [
        (CommandId.SUBMIT_SM, b"CMTXYZ" + SUBMIT_SM_FIELDS[1:], "service_type", ESME_RINVSERTYP),
        (CommandId.SUBMIT_SM, b"\0\1\1" + b"1" * 21 + b"\0", "source_addr", ESME_RINVSRCADR),
        (CommandId.SUBMIT_SM, b"\0\1\1\0\1\1" + b"6" * 21, "destination_addr", ESME_RINVDSTADR),
        (CommandId.BIND_TRANSMITTER, b"s" * 16 + b"\x00", "system_id", ESME_RINVSYSID),
        (CommandId.BIND_TRANSMITTER, b"\x00" + b"p" * 9 + b"\x00", "password", ESME_RINVPASWD),
        (CommandId.BIND_TRANSMITTER, b"\x00\x00" + b"t" * 13, "system_type", ESME_RINVSYSTYP),
        (CommandId.QUERY_SM, b"m" * 65 + b"\x00", "message_id", ESME_RINVMSGID),
    ],
    ids=["service_type", "source_addr", "destination_addr", "system_id", "password",
         "system_type", "message_id"],
)  # fmt: skip
def test_a_string_longer_than_its_maximum_is_that_fields_status(
    command_id: int, body: bytes, field: str, status: int
) -> None:
    error = raises_pdu_error(decode, frame(command_id, body))
    assert (error.command_status, error.field) == (status, field)
    assert error.in_sync


def test_the_maximum_counts_the_nul_so_20_characters_of_source_addr_pass() -> None:
    pdu = SubmitSm(source_addr="1" * 20)
    assert decode(encode(pdu)) == pdu


def test_a_string_cut_off_by_the_end_of_the_pdu_is_rinvcmdlen_at_the_fields_offset() -> None:
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_SM, b"\x00\x01\x01" + b"6012"))
    assert (error.command_status, error.field, error.offset) == (
        ESME_RINVCMDLEN,
        "source_addr",
        19,
    )


def test_a_pdu_ending_inside_the_integer_fields_is_rinvcmdlen() -> None:
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_SM, b"\x00\x01"))
    assert (error.command_status, error.field, error.offset) == (
        ESME_RINVCMDLEN,
        "source_addr_npi",
        18,
    )


@pytest.mark.parametrize(
    ("text", "field", "status"),
    [
        (b"2401011200", "schedule_delivery_time", ESME_RINVSCHED),
        (b"24010112000000000+", "schedule_delivery_time", ESME_RINVSCHED),
    ],
)
def test_a_schedule_that_is_neither_empty_nor_16_characters_is_rinvsched(
    text: bytes, field: str, status: int
) -> None:
    body = b"\x00\x00\x00\x00\x00\x00\x00" + b"\x00\x00\x00" + text + b"\x00\x00" + bytes(5)
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_SM, body))
    assert (error.command_status, error.field, error.offset) == (status, field, 26)


def test_a_validity_period_of_the_wrong_length_is_rinvexpiry() -> None:
    body = bytes(11) + b"000001\x00" + bytes(5)
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_SM, body))
    assert (error.command_status, error.field) == (ESME_RINVEXPIRY, "validity_period")


# --- short_message (SMPP 3.4 §4.4.1) -------------------------------------------------------


def test_sm_length_beyond_the_octets_present_is_rinvmsglen() -> None:
    body = SUBMIT_SM_FIELDS + b"\x10" + b"only8oct"
    error = raises_pdu_error(decode, frame(CommandId.DELIVER_SM, body))
    assert (error.command_status, error.field, error.offset) == (
        ESME_RINVMSGLEN,
        "short_message",
        16 + len(SUBMIT_SM_FIELDS) + 1,
    )


def test_a_pdu_ending_before_sm_length_is_rinvcmdlen() -> None:
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_SM, SUBMIT_SM_FIELDS))
    assert (error.command_status, error.field) == (ESME_RINVCMDLEN, "sm_length")


def test_short_message_octets_are_kept_as_they_are_including_nul() -> None:
    pdu = SubmitSm(short_message=b"\x00\x05\x00\x03\xff\x02\x01")
    assert decode(encode(pdu)).short_message == b"\x00\x05\x00\x03\xff\x02\x01"


# --- TLVs (SMPP 3.4 §5.3) --------------------------------------------------------------------


def _deliver_sm_with(tlv_octets: bytes) -> bytes:
    return frame(CommandId.DELIVER_SM, SUBMIT_SM_FIELDS + b"\x00" + tlv_octets)


TLV_AT = 16 + len(SUBMIT_SM_FIELDS) + 1


def test_tlvs_decode_to_typed_values_in_wire_order() -> None:
    pdu = decode(
        _deliver_sm_with(bytes.fromhex("0427000102001e0004616263000423000303000b020400021234"))
    )
    assert isinstance(pdu, DeliverSm)
    assert pdu.tlvs == (
        Tlv(Tag.MESSAGE_STATE, 2),
        Tlv(Tag.RECEIPTED_MESSAGE_ID, "abc"),
        Tlv(Tag.NETWORK_ERROR_CODE, NetworkErrorCode(network_type=3, error_code=11)),
        Tlv(Tag.USER_MESSAGE_REFERENCE, 0x1234),
    )
    assert pdu.tlv(Tag.RECEIPTED_MESSAGE_ID) == "abc"


def test_vendor_and_unknown_tlvs_are_kept_raw_and_encoded_back_unchanged() -> None:
    octets = _deliver_sm_with(bytes.fromhex("14030007286e756c6c29001002000134"))
    pdu = decode(octets)
    assert isinstance(pdu, DeliverSm)
    assert pdu.tlvs == (Tlv(0x1403, b"(null)\x00"), Tlv(0x1002, b"\x34"))
    assert encode(pdu) == octets


def test_an_octet_string_tlv_of_any_length_is_kept_verbatim() -> None:
    # A 1-octet dest_subaddress (just the subaddress type) is seen live; 3.4 says 2-23.
    octets = _deliver_sm_with(bytes.fromhex("02030001a0"))
    assert decode(octets).tlvs == (Tlv(Tag.DEST_SUBADDRESS, b"\xa0"),)  # type: ignore[attr-defined]
    assert encode(decode(octets)) == octets


def test_a_tlv_running_past_the_end_is_rinvoptparstream_naming_the_tag() -> None:
    error = raises_pdu_error(decode, _deliver_sm_with(bytes.fromhex("001e0041") + b"3005\x00"))
    assert (error.command_status, error.field, error.offset) == (
        ESME_RINVOPTPARSTREAM,
        "receipted_message_id",
        TLV_AT,
    )


def test_a_tlv_header_cut_short_is_rinvoptparstream() -> None:
    error = raises_pdu_error(decode, _deliver_sm_with(bytes.fromhex("021000")))
    assert (error.command_status, error.field) == (ESME_RINVOPTPARSTREAM, "tlvs")


def test_up_to_three_zero_octets_after_the_last_field_are_padding_and_ignored() -> None:
    octets = frame(CommandId.SUBMIT_SM, SUBMIT_SM_FIELDS + b"\x04test" + b"\x00")
    pdu = decode(octets)
    assert pdu == SubmitSm(sequence_number=1, short_message=b"test")
    assert encode(pdu) == frame(CommandId.SUBMIT_SM, SUBMIT_SM_FIELDS + b"\x04test")


def test_an_integer_tlv_of_the_wrong_width_is_rinvparlen() -> None:
    error = raises_pdu_error(decode, _deliver_sm_with(bytes.fromhex("020e00020001")))
    assert (error.command_status, error.field, error.offset) == (
        ESME_RINVPARLEN,
        "sar_total_segments",
        TLV_AT,
    )


def test_network_error_code_must_be_three_octets() -> None:
    error = raises_pdu_error(decode, _deliver_sm_with(bytes.fromhex("042300020300")))
    assert (error.command_status, error.field) == (ESME_RINVPARLEN, "network_error_code")


def test_a_c_octet_string_tlv_without_its_nul_is_rinvoptparamval() -> None:
    error = raises_pdu_error(decode, _deliver_sm_with(bytes.fromhex("001e0003616263")))
    assert (error.command_status, error.field) == (ESME_RINVOPTPARAMVAL, "receipted_message_id")


def test_a_c_octet_string_tlv_longer_than_its_maximum_is_rinvparlen() -> None:
    value = b"x" * 65 + b"\x00"
    error = raises_pdu_error(decode, _deliver_sm_with(b"\x00\x1e\x00\x42" + value))
    assert (error.command_status, error.field) == (ESME_RINVPARLEN, "receipted_message_id")


# --- submit_multi (SMPP 3.4 §4.5) -----------------------------------------------------------


def test_number_of_dests_above_254_is_rinvnumdests() -> None:
    body = b"\x00\x00\x00\x00" + b"\xff" + b"\x01\x00\x00\x00" * 255
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_MULTI, body))
    assert (error.command_status, error.field) == (ESME_RINVNUMDESTS, "number_of_dests")


def test_a_dest_flag_other_than_1_or_2_is_rinvdestflag() -> None:
    body = b"\x00\x00\x00\x00" + b"\x01" + b"\x03\x00\x00\x00"
    error = raises_pdu_error(decode, frame(CommandId.SUBMIT_MULTI, body))
    assert (error.command_status, error.field, error.offset) == (ESME_RINVDESTFLAG, "dest_flag", 21)


# --- optional response bodies (SMPP 3.4 §4.4.2) ------------------------------------------------


def test_a_response_without_body_decodes_to_none_and_encodes_back_to_16_octets() -> None:
    octets = frame(CommandId.DELIVER_SM_RESP)
    pdu = decode(octets)
    assert pdu == DeliverSmResp(sequence_number=1, message_id=None)
    assert encode(pdu) == octets


def test_an_error_response_with_a_body_keeps_it() -> None:
    octets = frame(CommandId.SUBMIT_SM_RESP, b"0A000000A3D323A1\x00", status=0x0B)
    pdu = decode(octets)
    assert pdu == SubmitSmResp(
        command_status=0x0B, sequence_number=1, message_id="0A000000A3D323A1"
    )
    assert encode(pdu) == octets


def test_a_response_body_missing_its_later_fields_is_rinvcmdlen() -> None:
    error = raises_pdu_error(decode, frame(CommandId.QUERY_SM_RESP, b"id\x00\x00\x02"))
    assert (error.command_status, error.field) == (ESME_RINVCMDLEN, "error_code")


# --- encode refuses what it cannot write faithfully --------------------------------------------


def test_encode_refuses_an_over_long_source_addr_instead_of_truncating_it() -> None:
    error = raises_pdu_error(encode, SubmitSm(sequence_number=3, source_addr="1" * 21))
    assert (error.command_status, error.field, error.sequence_number) == (
        ESME_RINVSRCADR,
        "source_addr",
        3,
    )


@pytest.mark.parametrize(
    "pdu",
    [
        SubmitSm(destination_addr="60\x0012"),
        SubmitSm(source_addr="\u20ac"),
        SubmitSm(validity_period="000001"),
        SubmitSm(short_message=bytes(256)),
        SubmitSm(esm_class=256),
        SubmitSm(sequence_number=-1),
        EnquireLinkResp(command_status=0x1_0000_0000),
        SubmitSm(tlvs=(Tlv(Tag.SAR_TOTAL_SEGMENTS, "2"),)),
        SubmitSm(tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, "text"),)),
        SubmitSm(tlvs=(Tlv(0x1400, bytes(0x10000)),)),
        SubmitSmResp(message_id=None, tlvs=(Tlv(0x1400, b"x"),)),
        QuerySmResp(message_id=None, message_state=2),
        BindTransceiver(password="123456789"),
    ],
    ids=[
        "nul-in-address",
        "not-latin-1",
        "short-validity",
        "256-octet-message",
        "esm-class-256",
        "negative-sequence",
        "status-over-int4",
        "int-tlv-as-str",
        "payload-as-str",
        "tlv-over-64k",
        "bodiless-with-tlvs",
        "bodiless-with-fields",
        "9-char-password",
    ],
)
def test_encode_refuses_values_the_wire_cannot_carry(pdu: Pdu) -> None:
    raises_pdu_error(encode, pdu)


def test_encode_refuses_something_that_is_not_a_concrete_pdu() -> None:
    raises_pdu_error(encode, Pdu())
    raises_pdu_error(encode, object())


def test_a_bind_repr_never_shows_the_password() -> None:
    assert "hunter2" not in repr(BindTransmitter(system_id="esme", password="hunter2"))
