"""Hand-written struct/bytes codec for the hot PDUs, proven equal to the construct path.

construct parses a submit_sm about 20x slower than plain struct code (its compile() falls back
to the interpreted path for C-Octet Strings, prefixed and greedy fields), so the PDUs a busy
bind exchanges all day get this path: submit_sm, deliver_sm and their responses,
enquire_link(_resp), unbind(_resp) and generic_nack.

Contract: each function returns the PDU (or the bytes) the construct path would, or None when
the input is anything but clean (truncated, over-long, padded, wrongly typed, out of range).
None hands the input to the construct path, which either accepts it the same way or raises the
detailed PduError. So every error comes from one place, and this module only has to be right
about what it accepts: tests/pdu/test_fast.py checks that on valid and invalid input alike.
Field maxima below are the spec's (SMPP 3.4 §4.4.1), the same numbers as in `layout.py`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from bridge.pdu.commands import CommandId
from bridge.pdu.fast_tlv import UNFIT, new_instance, read_tlvs, slot_setters, write_tlvs
from bridge.pdu.pdus import (
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    ShortMessagePdu,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from bridge.pdu.tlv import Tlv

Decoder = Callable[[bytes, int, int], Pdu | None]
Encoder = Callable[[Pdu], bytes | None]

_HEADER = struct.Struct(">IIII")
_NUL = b"\x00"


# --- submit_sm / deliver_sm (SMPP 3.4 §4.4.1, §4.6.1) --------------------------------------


def _short_message_decoder(cls: type[ShortMessagePdu]) -> Decoder:
    (
        set_command_status,
        set_sequence_number,
        set_service_type,
        set_source_addr_ton,
        set_source_addr_npi,
        set_source_addr,
        set_dest_addr_ton,
        set_dest_addr_npi,
        set_destination_addr,
        set_esm_class,
        set_protocol_id,
        set_priority_flag,
        set_schedule_delivery_time,
        set_validity_period,
        set_registered_delivery,
        set_replace_if_present_flag,
        set_data_coding,
        set_sm_default_msg_id,
        set_short_message,
        set_tlvs,
    ) = slot_setters(
        cls,
        "command_status",
        "sequence_number",
        "service_type",
        "source_addr_ton",
        "source_addr_npi",
        "source_addr",
        "dest_addr_ton",
        "dest_addr_npi",
        "destination_addr",
        "esm_class",
        "protocol_id",
        "priority_flag",
        "schedule_delivery_time",
        "validity_period",
        "registered_delivery",
        "replace_if_present_flag",
        "data_coding",
        "sm_default_msg_id",
        "short_message",
        "tlvs",
    )

    def decode(data: bytes, command_status: int, sequence_number: int) -> Pdu | None:
        size = len(data)
        try:
            # A NUL found at or after a field's start also proves the octets before it exist.
            service_end = data.index(0, 16, 22)  # service_type, C-Octet String max 6
            source_at = service_end + 3
            source_end = data.index(0, source_at, source_at + 21)  # source_addr max 21
            destination_at = source_end + 3
            destination_end = data.index(0, destination_at, destination_at + 21)
            schedule_at = destination_end + 4
            schedule_end = data.index(0, schedule_at, schedule_at + 17)  # "" or 16 chars
            validity_at = schedule_end + 1
            validity_end = data.index(0, validity_at, validity_at + 17)
        except ValueError:
            return None
        if (schedule_end != schedule_at and schedule_end - schedule_at != 16) or (
            validity_end != validity_at and validity_end - validity_at != 16
        ):
            return None
        message_at = validity_end + 6
        if message_at > size:
            return None
        message_end = message_at + data[message_at - 1]  # sm_length
        if message_end > size:
            return None
        tlvs = read_tlvs(data, message_end, size) if message_end < size else ()
        if tlvs is None:
            return None
        pdu = new_instance(cls)
        set_command_status(pdu, command_status)
        set_sequence_number(pdu, sequence_number)
        # Empty strings are the common case for these three; skip the slice and decode.
        set_service_type(pdu, data[16:service_end].decode("latin-1") if service_end != 16 else "")
        set_source_addr_ton(pdu, data[service_end + 1])
        set_source_addr_npi(pdu, data[service_end + 2])
        set_source_addr(pdu, data[source_at:source_end].decode("latin-1"))
        set_dest_addr_ton(pdu, data[source_end + 1])
        set_dest_addr_npi(pdu, data[source_end + 2])
        set_destination_addr(pdu, data[destination_at:destination_end].decode("latin-1"))
        set_esm_class(pdu, data[destination_end + 1])
        set_protocol_id(pdu, data[destination_end + 2])
        set_priority_flag(pdu, data[destination_end + 3])
        set_schedule_delivery_time(
            pdu,
            data[schedule_at:schedule_end].decode("latin-1") if schedule_end != schedule_at else "",
        )
        set_validity_period(
            pdu,
            data[validity_at:validity_end].decode("latin-1") if validity_end != validity_at else "",
        )
        set_registered_delivery(pdu, data[validity_end + 1])
        set_replace_if_present_flag(pdu, data[validity_end + 2])
        set_data_coding(pdu, data[validity_end + 3])
        set_sm_default_msg_id(pdu, data[validity_end + 4])
        set_short_message(pdu, data[message_at:message_end])
        set_tlvs(pdu, tlvs)
        return pdu

    return decode


# Runs of Int1 fields, each after the NUL that ends the C-Octet String before it ("x").
_NUL_INT2 = struct.Struct(">xBB")
_NUL_INT3 = struct.Struct(">xBBB")
_NUL_INT5 = struct.Struct(">xBBBBB")


def _short_message_encoder(command_id: int) -> Encoder:
    def encode(pdu: Pdu) -> bytes | None:
        assert isinstance(pdu, ShortMessagePdu)
        try:
            # Empty strings are the common case for these three; skip the encode call.
            service_type = pdu.service_type.encode("latin-1") if pdu.service_type else b""
            source_addr = pdu.source_addr.encode("latin-1")
            destination_addr = pdu.destination_addr.encode("latin-1")
            schedule = (
                pdu.schedule_delivery_time.encode("latin-1") if pdu.schedule_delivery_time else b""
            )
            validity = pdu.validity_period.encode("latin-1") if pdu.validity_period else b""
            message = pdu.short_message
            if (
                len(service_type) > 5
                or len(source_addr) > 20
                or len(destination_addr) > 20
                or (len(schedule) != 16 and schedule)
                or (len(validity) != 16 and validity)
                or type(message) is not bytes
                or len(message) > 255
                or 0 in service_type + source_addr + destination_addr + schedule + validity
            ):
                return None
            tlvs = write_tlvs(pdu.tlvs) if pdu.tlvs else b""
            # 16 header + 5 NULs + 12 Int1 fields (sm_length included) = 33.
            command_length = (
                33
                + len(service_type)
                + len(source_addr)
                + len(destination_addr)
                + len(schedule)
                + len(validity)
                + len(message)
                + len(tlvs)
            )
            return b"".join(
                (
                    _HEADER.pack(
                        command_length, command_id, pdu.command_status, pdu.sequence_number
                    ),
                    service_type,
                    _NUL_INT2.pack(pdu.source_addr_ton, pdu.source_addr_npi),
                    source_addr,
                    _NUL_INT2.pack(pdu.dest_addr_ton, pdu.dest_addr_npi),
                    destination_addr,
                    _NUL_INT3.pack(pdu.esm_class, pdu.protocol_id, pdu.priority_flag),
                    schedule,
                    _NUL,
                    validity,
                    _NUL_INT5.pack(
                        pdu.registered_delivery,
                        pdu.replace_if_present_flag,
                        pdu.data_coding,
                        pdu.sm_default_msg_id,
                        len(message),
                    ),
                    message,
                    tlvs,
                )
            )
        except UNFIT:
            return None

    return encode


# --- submit_sm_resp / deliver_sm_resp (SMPP 3.4 §4.4.2, §4.6.2) ------------------------------


def _message_id_resp_decoder(cls: type[SubmitSmResp] | type[DeliverSmResp]) -> Decoder:
    set_command_status, set_sequence_number, set_message_id, set_tlvs = slot_setters(
        cls, "command_status", "sequence_number", "message_id", "tlvs"
    )

    def decode(data: bytes, command_status: int, sequence_number: int) -> Pdu | None:
        size = len(data)
        if size == 16:  # no body: allowed on error responses, and seen on successes
            message_id = None
            tlvs: tuple[Tlv, ...] | None = ()
        else:
            message_id_end = data.find(0, 16, 81)  # message_id, C-Octet String max 65
            if message_id_end < 0:
                return None
            message_id = data[16:message_id_end].decode("latin-1")
            tlvs = read_tlvs(data, message_id_end + 1, size) if message_id_end + 1 < size else ()
            if tlvs is None:
                return None
        pdu = new_instance(cls)
        set_command_status(pdu, command_status)
        set_sequence_number(pdu, sequence_number)
        set_message_id(pdu, message_id)
        set_tlvs(pdu, tlvs)
        return pdu

    return decode


def _message_id_resp_encoder(command_id: int) -> Encoder:
    def encode(pdu: Pdu) -> bytes | None:
        assert isinstance(pdu, SubmitSmResp | DeliverSmResp)
        try:
            if pdu.message_id is None:
                if pdu.tlvs:
                    return None
                return _HEADER.pack(16, command_id, pdu.command_status, pdu.sequence_number)
            message_id = pdu.message_id.encode("latin-1")
            if len(message_id) > 64 or 0 in message_id:
                return None
            tlvs = write_tlvs(pdu.tlvs) if pdu.tlvs else b""
            length = 17 + len(message_id) + len(tlvs)
            return b"".join(
                (
                    _HEADER.pack(length, command_id, pdu.command_status, pdu.sequence_number),
                    message_id,
                    _NUL,
                    tlvs,
                )
            )
        except UNFIT:
            return None

    return encode


# --- header-only PDUs (SMPP 3.4 §4.2, §4.3, §4.11) --------------------------------------------


def _header_only_decoder(cls: type[Pdu]) -> Decoder:
    set_command_status, set_sequence_number = slot_setters(cls, "command_status", "sequence_number")

    def decode(data: bytes, command_status: int, sequence_number: int) -> Pdu | None:
        if len(data) != 16:
            return None
        pdu = new_instance(cls)
        set_command_status(pdu, command_status)
        set_sequence_number(pdu, sequence_number)
        return pdu

    return decode


def _header_only_encoder(command_id: int) -> Encoder:
    def encode(pdu: Pdu) -> bytes | None:
        try:
            return _HEADER.pack(16, command_id, pdu.command_status, pdu.sequence_number)
        except UNFIT:
            return None

    return encode


_HEADER_ONLY: tuple[type[Pdu], ...] = (
    EnquireLink,
    EnquireLinkResp,
    Unbind,
    UnbindResp,
    GenericNack,
)

FAST_DECODERS: dict[int, Decoder] = {
    CommandId.SUBMIT_SM: _short_message_decoder(SubmitSm),
    CommandId.DELIVER_SM: _short_message_decoder(DeliverSm),
    CommandId.SUBMIT_SM_RESP: _message_id_resp_decoder(SubmitSmResp),
    CommandId.DELIVER_SM_RESP: _message_id_resp_decoder(DeliverSmResp),
    **{cls.command_id: _header_only_decoder(cls) for cls in _HEADER_ONLY},
}

FAST_ENCODERS: dict[type[Pdu], Encoder] = {
    SubmitSm: _short_message_encoder(CommandId.SUBMIT_SM),
    DeliverSm: _short_message_encoder(CommandId.DELIVER_SM),
    SubmitSmResp: _message_id_resp_encoder(CommandId.SUBMIT_SM_RESP),
    DeliverSmResp: _message_id_resp_encoder(CommandId.DELIVER_SM_RESP),
    **{cls: _header_only_encoder(cls.command_id) for cls in _HEADER_ONLY},
}
