"""SMPP 3.4 optional parameters (TLVs), SMPP 3.4 §5.3.

A `Tlv` keeps its tag and a value typed by what 3.4 says the tag carries: `int` for the
integer tags, `str` for the C-Octet String tags, `NetworkErrorCode` for network_error_code,
and `bytes` for octet-string tags and for every tag 3.4 does not define (vendor tags
0x1400-0x3FFF and anything else a peer sends). Unknown tags are kept, in order, and encoded
back unchanged: SMPP 3.4 §5.3 says a receiver ignores what it does not know, and dropping a
session over one (as Jasmin does) is the failure we must not copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class Tag(IntEnum):
    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class TlvKind(Enum):
    """How a tag's value is laid out (SMPP 3.4 §5.3.2)."""

    INT1 = "int1"
    INT2 = "int2"
    INT4 = "int4"
    CSTRING = "cstring"
    OCTETS = "octets"
    NETWORK_ERROR_CODE = "network_error_code"


@dataclass(frozen=True, slots=True)
class TlvSpec:
    """A tag's value layout and length rule.

    INT1/INT2/INT4/NETWORK_ERROR_CODE: the length must be exactly `min_length`, else the
    decoder answers ESME_RINVPARLEN (an integer of the wrong width is ambiguous).
    CSTRING: `min_length`..`max_length` octets including the NUL.
    OCTETS: the spec's range, for information only: an octet string of any length is
    unambiguous, so it is kept verbatim (live peers send e.g. a 1-octet dest_subaddress, a
    bare subaddress-type octet, which 3.4's range of 2-23 would refuse).
    """

    kind: TlvKind
    min_length: int = 0
    max_length: int = 0xFFFF


_I1 = TlvSpec(TlvKind.INT1, 1, 1)
_I2 = TlvSpec(TlvKind.INT2, 2, 2)
_I4 = TlvSpec(TlvKind.INT4, 4, 4)

# SMPP 3.4 §5.3.2: the 3.4 tags and their value types. A tag missing here is carried raw.
TLV_SPECS: dict[int, TlvSpec] = {
    Tag.DEST_ADDR_SUBUNIT: _I1,
    Tag.DEST_NETWORK_TYPE: _I1,
    Tag.DEST_BEARER_TYPE: _I1,
    Tag.DEST_TELEMATICS_ID: _I2,
    Tag.SOURCE_ADDR_SUBUNIT: _I1,
    Tag.SOURCE_NETWORK_TYPE: _I1,
    Tag.SOURCE_BEARER_TYPE: _I1,
    # source_telematics_id is Int1 in some libraries and Int2 in others: carried raw.
    Tag.SOURCE_TELEMATICS_ID: TlvSpec(TlvKind.OCTETS, 1, 2),
    Tag.QOS_TIME_TO_LIVE: _I4,
    Tag.PAYLOAD_TYPE: _I1,
    Tag.ADDITIONAL_STATUS_INFO_TEXT: TlvSpec(TlvKind.CSTRING, 1, 256),
    Tag.RECEIPTED_MESSAGE_ID: TlvSpec(TlvKind.CSTRING, 1, 65),
    Tag.MS_MSG_WAIT_FACILITIES: _I1,
    Tag.PRIVACY_INDICATOR: _I1,
    Tag.SOURCE_SUBADDRESS: TlvSpec(TlvKind.OCTETS, 2, 23),
    Tag.DEST_SUBADDRESS: TlvSpec(TlvKind.OCTETS, 2, 23),
    Tag.USER_MESSAGE_REFERENCE: _I2,
    Tag.USER_RESPONSE_CODE: _I1,
    Tag.SOURCE_PORT: _I2,
    Tag.DESTINATION_PORT: _I2,
    Tag.SAR_MSG_REF_NUM: _I2,
    Tag.LANGUAGE_INDICATOR: _I1,
    Tag.SAR_TOTAL_SEGMENTS: _I1,
    Tag.SAR_SEGMENT_SEQNUM: _I1,
    Tag.SC_INTERFACE_VERSION: _I1,
    Tag.CALLBACK_NUM_PRES_IND: _I1,
    Tag.CALLBACK_NUM_ATAG: TlvSpec(TlvKind.OCTETS, 0, 65),
    Tag.NUMBER_OF_MESSAGES: _I1,
    Tag.CALLBACK_NUM: TlvSpec(TlvKind.OCTETS, 4, 19),
    Tag.DPF_RESULT: _I1,
    Tag.SET_DPF: _I1,
    Tag.MS_AVAILABILITY_STATUS: _I1,
    Tag.NETWORK_ERROR_CODE: TlvSpec(TlvKind.NETWORK_ERROR_CODE, 3, 3),
    Tag.MESSAGE_PAYLOAD: TlvSpec(TlvKind.OCTETS, 0, 0xFFFF),
    Tag.DELIVERY_FAILURE_REASON: _I1,
    Tag.MORE_MESSAGES_TO_SEND: _I1,
    Tag.MESSAGE_STATE: _I1,
    Tag.USSD_SERVICE_OP: _I1,
    Tag.DISPLAY_TIME: _I1,
    Tag.SMS_SIGNAL: _I2,
    Tag.MS_VALIDITY: _I1,
    Tag.ALERT_ON_MESSAGE_DELIVERY: TlvSpec(TlvKind.OCTETS, 0, 0),
    Tag.ITS_REPLY_TYPE: _I1,
    Tag.ITS_SESSION_INFO: TlvSpec(TlvKind.OCTETS, 2, 2),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkErrorCode:
    """network_error_code (0x0423): network type (1 ANSI-136 … 8 MC-specific) and its error."""

    network_type: int
    error_code: int


TlvValue = int | str | bytes | NetworkErrorCode


@dataclass(frozen=True, slots=True)
class Tlv:
    """One optional parameter. `value`'s type follows `TLV_SPECS` for its tag, else bytes."""

    tag: int
    value: TlvValue
