"""Where a message's text octets are, and which part of a long message a PDU carries.

Three SMPP forms of a long message (SMPP 3.4 §5.2.12, §5.3.2.22-24, §5.3.2.32):
- UDH (esm_class & 0x40): short_message (or message_payload) starts with a User Data
  Header, UDHL + information elements (3GPP TS 23.040 §9.2.3.24). Concatenation is IEI 0x00
  (8-bit reference) or IEI 0x08 (16-bit reference); every other IE is skipped. If several
  concatenation IEs appear, the last one counts (23.040: "the last occurrence of the IE shall
  be used").
- SAR TLVs: sar_msg_ref_num, sar_total_segments and sar_segment_seqnum, all three together.
  A UDH concatenation IE and SAR TLVs in one PDU must agree.
- message_payload: the whole text in one TLV, also allowed in a single submit_sm; then
  short_message must be empty (SMPP 3.4 §4.4.1: "sm_length field should be set to zero").

Every problem raises a `UserDataError` leaf carrying the command_status to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bridge.pdu import CommandStatus, DataSm, Tag, TlvValue
from bridge.pipeline.seams import MessagePdu

UDHI = 0x40
IEI_CONCATENATION_8BIT = 0x00
IEI_CONCATENATION_16BIT = 0x08


class UserDataError(ValueError):
    """The message octets or their segmentation fields are not usable."""

    command_status: ClassVar[CommandStatus] = CommandStatus.ESME_RSUBMITFAIL

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedUdh(UserDataError):
    """esm_class says a UDH is present (UDHI), but the octets are not a well-formed one."""

    command_status = CommandStatus.ESME_RINVESMCLASS


class IncompleteSar(UserDataError):
    """Some but not all of the three sar_* TLVs are present."""

    command_status = CommandStatus.ESME_RMISSINGOPTPARAM


class InvalidSar(UserDataError):
    """The sar_* values are impossible, or disagree with the UDH concatenation IE."""

    command_status = CommandStatus.ESME_RINVOPTPARAMVAL


class PayloadConflict(UserDataError):
    """message_payload together with a non-empty short_message: which one is the text?"""

    command_status = CommandStatus.ESME_ROPTPARNOTALLWD


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Concatenation:
    """Where a part sits in its message: reference, total parts, this part (1-based)."""

    reference: int
    total: int
    seqnum: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDataHeader:
    elements: tuple[InformationElement, ...]
    concatenation: Concatenation | None
    length: int  # octets taken by the header, UDHL included


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcatenatedPart:
    """One part of a long message, with its payload octets (no UDH)."""

    reference: int
    total: int
    seqnum: int
    payload: bytes

    def __post_init__(self) -> None:
        # Built only by `concatenation_of`, which refuses these with a status first.
        if not 1 <= self.seqnum <= self.total <= 255:
            raise ValueError(f"part {self.seqnum} of {self.total} is impossible")


def parse_udh(user_data: bytes) -> UserDataHeader:
    """The UDH at the start of `user_data`. Raises MalformedUdh."""
    if not user_data:
        raise MalformedUdh("UDHI is set but the message is empty")
    length = 1 + user_data[0]
    if length > len(user_data):
        raise MalformedUdh(
            f"UDHL {user_data[0]} is longer than the {len(user_data) - 1} octets after it"
        )
    elements: list[InformationElement] = []
    concatenation: Concatenation | None = None
    offset = 1
    while offset < length:
        if offset + 2 > length:
            raise MalformedUdh(f"information element at offset {offset} is cut off by UDHL")
        iei, iedl = user_data[offset], user_data[offset + 1]
        start, end = offset + 2, offset + 2 + iedl
        if end > length:
            raise MalformedUdh(f"IEI 0x{iei:02X} length {iedl} runs past the end of the UDH")
        element = InformationElement(iei=iei, data=user_data[start:end])
        elements.append(element)
        if iei in (IEI_CONCATENATION_8BIT, IEI_CONCATENATION_16BIT):
            concatenation = _concatenation_ie(element)
        offset = end
    return UserDataHeader(elements=tuple(elements), concatenation=concatenation, length=length)


def concatenation_of(pdu: MessagePdu) -> ConcatenatedPart | None:
    """This PDU's part of a long message, or None when it carries a whole message."""
    return _split(pdu)[1]


def payload_of(pdu: MessagePdu) -> bytes:
    """The text octets this PDU carries: message_payload or short_message, UDH removed."""
    return _split(pdu)[0]


def _split(pdu: MessagePdu) -> tuple[bytes, ConcatenatedPart | None]:
    user_data = _user_data(pdu)
    udh_concatenation: Concatenation | None = None
    payload = user_data
    if pdu.esm_class & UDHI:
        header = parse_udh(user_data)
        udh_concatenation = header.concatenation
        payload = user_data[header.length :]
    sar = _sar(pdu)
    if sar is not None and udh_concatenation is not None and sar != udh_concatenation:
        raise InvalidSar(
            f"sar_* TLVs (ref {sar.reference}, part {sar.seqnum} of {sar.total}) disagree with "
            f"the UDH (ref {udh_concatenation.reference}, part {udh_concatenation.seqnum} of "
            f"{udh_concatenation.total})"
        )
    where = udh_concatenation or sar
    if where is None:
        return payload, None
    part = ConcatenatedPart(
        reference=where.reference, total=where.total, seqnum=where.seqnum, payload=payload
    )
    return payload, part


def _user_data(pdu: MessagePdu) -> bytes:
    message_payload = pdu.tlv(Tag.MESSAGE_PAYLOAD)
    short_message = b"" if isinstance(pdu, DataSm) else pdu.short_message
    if message_payload is None:
        return short_message
    if not isinstance(message_payload, bytes):
        raise PayloadConflict("message_payload is not an octet string")
    if short_message:
        raise PayloadConflict(
            "message_payload is present, so short_message must be empty (SMPP 3.4 §4.4.1)"
        )
    return message_payload


def _concatenation_ie(element: InformationElement) -> Concatenation:
    """IEI 0x00: ref(1) total(1) seq(1); IEI 0x08: ref(2, big-endian) total(1) seq(1)."""
    expected = 3 if element.iei == IEI_CONCATENATION_8BIT else 4
    if len(element.data) != expected:
        raise MalformedUdh(
            f"concatenation IEI 0x{element.iei:02X} has length {len(element.data)}, "
            f"expected {expected}"
        )
    reference = int.from_bytes(element.data[:-2], "big")
    total, seqnum = element.data[-2], element.data[-1]
    # 23.040 §9.2.3.24.1 would have a handset ignore such an IE; a server answering an ESME
    # says so instead, or the parts would silently become separate messages.
    if total == 0:
        raise MalformedUdh("UDH concatenation says the message has 0 parts")
    if not 1 <= seqnum <= total:
        raise MalformedUdh(f"UDH concatenation part {seqnum} is outside 1..{total}")
    return Concatenation(reference=reference, total=total, seqnum=seqnum)


def _sar(pdu: MessagePdu) -> Concatenation | None:
    reference = pdu.tlv(Tag.SAR_MSG_REF_NUM)
    total = pdu.tlv(Tag.SAR_TOTAL_SEGMENTS)
    seqnum = pdu.tlv(Tag.SAR_SEGMENT_SEQNUM)
    present = [value is not None for value in (reference, total, seqnum)]
    if not any(present):
        return None
    if not all(present):
        missing = [
            name
            for name, there in zip(
                ("sar_msg_ref_num", "sar_total_segments", "sar_segment_seqnum"),
                present,
                strict=True,
            )
            if not there
        ]
        raise IncompleteSar(f"{', '.join(missing)} missing: the three sar_* TLVs go together")
    ref, tot, seq = _sar_int(reference), _sar_int(total), _sar_int(seqnum)
    if tot == 0:
        raise InvalidSar("sar_total_segments is 0")
    if not 1 <= seq <= tot:
        raise InvalidSar(f"sar_segment_seqnum {seq} is outside 1..{tot}")
    return Concatenation(reference=ref, total=tot, seqnum=seq)


def _sar_int(value: TlvValue | None) -> int:
    if not isinstance(value, int):
        raise InvalidSar("sar_* TLV value is not an integer")
    return value
