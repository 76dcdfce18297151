"""One message PDU -> the pieces of an iSMS request, each check a pure function.

Every refusal is a `Refusal` carrying the SMPP status to answer, a reason for the log line
(never the message text) and a bounded `kind` for metrics. The checks run in the order an
operator reads them in the log: the account, the octets and their segmentation, the
data_coding, the destination, then (once the message is whole) the text and its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeGuard

from bridge.pdu import CommandStatus, DataSm, SmeAddress, SubmitMulti, SubmitSm, Tag
from bridge.pipeline.encoding import UndecodableText, decode_text, isms_type
from bridge.pipeline.numbers import InvalidNumber, NumberRules, isms_number
from bridge.pipeline.reassembly import MessageOrigin
from bridge.pipeline.sender_ids import choose_sender_id
from bridge.pipeline.settings import AccountRoute
from bridge.pipeline.udh import (
    UDHI,
    ConcatenatedPart,
    MessagePdu,
    UserDataError,
    concatenation_of,
    payload_of,
)
from bridge.upstream import IsmsMessage, SmsType

# Octets per SMS, by how wide a character is (3GPP TS 23.038 / 23.040): one part holds 160
# septets (or 140 octets of 8-bit / UCS-2 data); a part of a long message loses 6 or 7 to
# its UDH, so 153 septets / 134 octets.
_SINGLE_7BIT, _PART_7BIT = 160, 153
_SINGLE_OCTETS, _PART_OCTETS = 140, 134


class Refusal(Exception):
    """The bridge answers `command_status` without calling iSMS."""

    def __init__(self, command_status: CommandStatus, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.command_status = command_status
        self.reason = reason
        self.kind = kind


@dataclass(slots=True, kw_only=True)
class UserData:
    """The text octets of one PDU, and where it sits in a long message (None: whole)."""

    octets: Final[bytes]
    part: Final[ConcatenatedPart | None]


def user_data(pdu: MessagePdu) -> UserData:
    """short_message or message_payload, UDH removed; UDH/SAR problems as a Refusal."""
    if _plain(pdu):
        return UserData(octets=pdu.short_message, part=None)
    try:
        part = concatenation_of(pdu)
        octets = part.payload if part is not None else payload_of(pdu)
    except UserDataError as exc:
        raise Refusal(exc.command_status, exc.reason, kind="user_data") from None
    if isinstance(pdu, DataSm) and pdu.tlv(Tag.MESSAGE_PAYLOAD) is None:
        # SMPP 3.4 §4.7.1: data_sm has no short_message; its text is message_payload.
        raise Refusal(
            CommandStatus.ESME_RMISSINGOPTPARAM,
            "data_sm without message_payload carries no text",
            kind="user_data",
        )
    return UserData(octets=octets, part=part)


def check_coding(data_coding: int, route: AccountRoute) -> None:
    """Refuse a data_coding iSMS cannot carry before any part of the message is taken."""
    text(data_coding, b"", route)


def text(data_coding: int, octets: bytes, route: AccountRoute) -> str:
    try:
        return decode_text(data_coding, octets, dc0=route.dc0, dc1=route.dc1)
    except UndecodableText as exc:
        raise Refusal(exc.command_status, str(exc), kind=exc.kind) from None


def check_length(message_text: str, max_length: int) -> None:
    """iSMS takes 1 to 700 characters (REST reference, -1006): refuse before it charges."""
    if not message_text:
        raise Refusal(CommandStatus.ESME_RINVMSGLEN, "the message is empty", kind="length")
    if len(message_text) > max_length:
        raise Refusal(
            CommandStatus.ESME_RINVMSGLEN,
            f"{len(message_text)} characters; iSMS takes at most {max_length}",
            kind="length",
        )


def destination(ton: int, npi: int, address: str, rules: NumberRules) -> str:
    try:
        return isms_number(address, ton, npi, rules)
    except InvalidNumber as exc:
        raise Refusal(
            CommandStatus.ESME_RINVDSTADR, f"destination {exc}", kind="destination"
        ) from None


def origin(system_id: str, pdu: SubmitSm | DataSm) -> MessageOrigin:
    return MessageOrigin(
        account=system_id,
        source_addr_ton=pdu.source_addr_ton,
        source_addr_npi=pdu.source_addr_npi,
        source_addr=pdu.source_addr,
        destinations=(
            SmeAddress(
                dest_addr_ton=pdu.dest_addr_ton,
                dest_addr_npi=pdu.dest_addr_npi,
                destination_addr=pdu.destination_addr,
            ),
        ),
    )


# Bound once: on Python 3.11 every `Tag.X` lookup goes through EnumType's __getattr__ hook.
_USER_MESSAGE_REFERENCE: Final = Tag.USER_MESSAGE_REFERENCE


def user_message_reference(pdu: MessagePdu) -> int | None:
    value = pdu.tlv(_USER_MESSAGE_REFERENCE)
    return value if isinstance(value, int) else None


# iSMS `type` by number, without an enum call per message.
_SMS_TYPES = {int(sms_type): sms_type for sms_type in SmsType}


def isms_message(
    route: AccountRoute,
    *,
    destinations: tuple[str, ...],
    message_text: str,
    source_addr: str,
    reference: str,
) -> IsmsMessage:
    return IsmsMessage(
        credentials=route.credentials,
        destinations=destinations,
        text=message_text,
        sms_type=_SMS_TYPES[isms_type(message_text)],
        sender_id=choose_sender_id(
            source_addr, allowed=route.allowed_sender_ids, default=route.default_sender
        ),
        reference=reference,
    )


def parts_of(pdu: MessagePdu) -> int:
    """How many SMS parts one PDU carries, for the account's throughput bucket.

    A part of a UDH/SAR long message is one part; a whole message (message_payload can hold
    a long one) counts as the parts a handset would receive. Malformed PDUs count 1 and are
    refused by `handle` with their own status.
    """
    if _plain(pdu):
        size = len(pdu.short_message)
    else:
        try:
            if concatenation_of(pdu) is not None:
                return 1
            size = len(payload_of(pdu))
        except UserDataError:
            return 1
    single, part = (
        (_SINGLE_OCTETS, _PART_OCTETS) if _is_ucs2(pdu.data_coding) else (_SINGLE_7BIT, _PART_7BIT)
    )
    return 1 if size <= single else -(-size // part)


def _plain(pdu: MessagePdu) -> TypeGuard[SubmitSm | SubmitMulti]:
    """The common case, decided without parsing: the whole text in short_message (no UDH,
    no TLVs, so no SAR and no message_payload)."""
    return not pdu.tlvs and not pdu.esm_class & UDHI and not isinstance(pdu, DataSm)


def _is_ucs2(data_coding: int) -> bool:
    # 0x08, and the GSM DCS general / auto-deletion groups with alphabet bits 10 (23.038 §4).
    return data_coding == 0x08 or (
        (data_coding >> 4) in (0x1, 0x4, 0x5) and (data_coding >> 2) & 0x3 == 2
    )


def destinations_count(pdu: SubmitMulti) -> int:
    return max(1, len(pdu.dest_addresses))
