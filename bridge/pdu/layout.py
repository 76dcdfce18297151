"""Every SMPP 3.4 PDU body declared with `construct`: the single source of truth for layouts.

Each mandatory field is declared once, in spec order, with its spec maximum and the
command_status a server answers when that field is wrong (SMPP 3.4 §4, Table 5-2). The codec's
reference path (`codec.decode_reference` / `encode_reference`) runs these declarations; the
hand-written fast path in `fast.py` is proven equal to them by differential tests.

Rules the declarations enforce:
- C-Octet String maxima include the NUL (SMPP 3.4 §3.1); a longer value is the field's own
  error status, never a silent truncation. A PDU that ends before the NUL is truncated
  (ESME_RINVCMDLEN: command_length does not cover the body).
- Time fields are "" or exactly 16 characters (SMPP 3.4 §7.1).
- short_message is prefixed by sm_length; fewer octets than declared is ESME_RINVMSGLEN.
- The TLV stream runs to the end of the PDU (SMPP 3.4 §3.2.4). A TLV running past the end is
  ESME_RINVOPTPARSTREAM; a known tag with a length its type cannot have is ESME_RINVPARLEN.

The parameter types live in `field_types.py` and `tlv_stream.py`; this module is the
declaration table (a table of declarations, so it may run past the 400-line aim).
"""

from __future__ import annotations

import io
from typing import Any

from construct import Adapter, Construct, ConstructError, Int8ub, Int32ub, PrefixedArray, Struct

from bridge.pdu.commands import CommandId
from bridge.pdu.field_types import (
    Field,
    InvalidValue,
    LayoutError,
    OptionalBody,
    c_octet_string,
    int1,
    int4,
    short_message,
    time_field,
)
from bridge.pdu.pdus import DistributionList, SmeAddress, UnsuccessSme
from bridge.pdu.status import (
    ESME_RBINDFAIL,
    ESME_RINVDESTFLAG,
    ESME_RINVDFTMSGID,
    ESME_RINVDLNAME,
    ESME_RINVDSTADR,
    ESME_RINVDSTNPI,
    ESME_RINVDSTTON,
    ESME_RINVESMCLASS,
    ESME_RINVEXPIRY,
    ESME_RINVMSGID,
    ESME_RINVNUMDESTS,
    ESME_RINVPASWD,
    ESME_RINVPRTFLG,
    ESME_RINVREGDLVFLG,
    ESME_RINVREPFLAG,
    ESME_RINVSCHED,
    ESME_RINVSERTYP,
    ESME_RINVSRCADR,
    ESME_RINVSRCNPI,
    ESME_RINVSRCTON,
    ESME_RINVSYSID,
    ESME_RINVSYSTYP,
    ESME_RUNKNOWNERR,
)
from bridge.pdu.tlv_stream import tlvs

# SMPP 3.4 §3.2: command_length, command_id, command_status, sequence_number.
HEADER = Struct(
    "command_length" / Int32ub,
    "command_id" / Int32ub,
    "command_status" / Int32ub,
    "sequence_number" / Int32ub,
)
HEADER_SIZE = 16

# submit_multi (SMPP 3.4 §4.5.1.1): number_of_dests is at most 254.
MAX_NUMBER_OF_DESTS = 254


class DestAddressList(Construct):  # type: ignore[misc]
    """submit_multi's number_of_dests and dest_address list (SMPP 3.4 §4.5.1.1).

    dest_flag 1 = SME address, 2 = distribution list name; anything else is ESME_RINVDESTFLAG.
    """

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> tuple[Any, ...]:
        start = stream.tell()
        count = NUMBER_OF_DESTS.parse_stream(stream)
        if count > MAX_NUMBER_OF_DESTS:
            raise LayoutError(
                f"number_of_dests {count} > {MAX_NUMBER_OF_DESTS}",
                status=ESME_RINVNUMDESTS,
                field="number_of_dests",
                offset=start,
            )
        addresses: list[SmeAddress | DistributionList] = []
        for _ in range(count):
            flag_at = stream.tell()
            flag = DEST_FLAG.parse_stream(stream)
            if flag == 1:
                sme = SME_ADDRESS.parse_stream(stream)
                addresses.append(
                    SmeAddress(
                        dest_addr_ton=sme.dest_addr_ton,
                        dest_addr_npi=sme.dest_addr_npi,
                        destination_addr=sme.destination_addr,
                    )
                )
            elif flag == 2:
                addresses.append(DistributionList(dl_name=DL_NAME.parse_stream(stream).dl_name))
            else:
                raise LayoutError(
                    f"dest_flag {flag}; 1 (SME) or 2 (list) expected",
                    status=ESME_RINVDESTFLAG,
                    field="dest_flag",
                    offset=flag_at,
                )
        return tuple(addresses)

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        start = stream.tell()
        if not isinstance(obj, tuple | list) or len(obj) > MAX_NUMBER_OF_DESTS:
            raise LayoutError(
                f"dest_addresses must be a tuple of at most {MAX_NUMBER_OF_DESTS}",
                status=ESME_RINVNUMDESTS,
                field="number_of_dests",
                offset=start,
            )
        NUMBER_OF_DESTS.build_stream(len(obj), stream)
        for address in obj:
            if isinstance(address, SmeAddress):
                DEST_FLAG.build_stream(1, stream)
                SME_ADDRESS.build_stream(
                    {
                        "dest_addr_ton": address.dest_addr_ton,
                        "dest_addr_npi": address.dest_addr_npi,
                        "destination_addr": address.destination_addr,
                    },
                    stream,
                )
            elif isinstance(address, DistributionList):
                DEST_FLAG.build_stream(2, stream)
                DL_NAME.build_stream({"dl_name": address.dl_name}, stream)
            else:
                raise LayoutError(
                    f"not an SmeAddress or DistributionList: {address!r}",
                    status=ESME_RINVDESTFLAG,
                    field="dest_flag",
                    offset=stream.tell(),
                )
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise ConstructError("variable size", path=path)


class UnsuccessSmeAdapter(Adapter):  # type: ignore[misc]
    """submit_multi_resp's unsuccess_sme entries <-> `UnsuccessSme` values."""

    def _decode(self, obj: Any, context: Any, path: str) -> tuple[UnsuccessSme, ...]:
        return tuple(
            UnsuccessSme(
                dest_addr_ton=entry.dest_addr_ton,
                dest_addr_npi=entry.dest_addr_npi,
                destination_addr=entry.destination_addr,
                error_status_code=entry.error_status_code,
            )
            for entry in obj
        )

    def _encode(self, obj: Any, context: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(obj, tuple | list) or not all(isinstance(e, UnsuccessSme) for e in obj):
            raise InvalidValue("unsuccess_sme must be a tuple of UnsuccessSme")
        return [
            {
                "dest_addr_ton": entry.dest_addr_ton,
                "dest_addr_npi": entry.dest_addr_npi,
                "destination_addr": entry.destination_addr,
                "error_status_code": entry.error_status_code,
            }
            for entry in obj
        ]


NUMBER_OF_DESTS = Field("number_of_dests", Int8ub, ESME_RINVNUMDESTS)
DEST_FLAG = Field("dest_flag", Int8ub, ESME_RINVDESTFLAG)
SME_ADDRESS = Struct(
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 21, ESME_RINVDSTADR),
)
DL_NAME = Struct(c_octet_string("dl_name", 21, ESME_RINVDLNAME))
UNSUCCESS_SME = Struct(
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 21, ESME_RINVDSTADR),
    int4("error_status_code"),
)


# --- PDU bodies (SMPP 3.4 §4) -------------------------------------------------------------

# §4.1.1, §4.1.3, §4.1.5
BIND = Struct(
    c_octet_string("system_id", 16, ESME_RINVSYSID),
    c_octet_string("password", 9, ESME_RINVPASWD),
    c_octet_string("system_type", 13, ESME_RINVSYSTYP),
    int1("interface_version", ESME_RBINDFAIL),
    int1("addr_ton", ESME_RBINDFAIL),
    int1("addr_npi", ESME_RBINDFAIL),
    c_octet_string("address_range", 41, ESME_RBINDFAIL),
)

# §4.1.2, §4.1.4, §4.1.6: system_id, then sc_interface_version (a TLV).
BIND_RESP = OptionalBody(Struct(c_octet_string("system_id", 16, ESME_RINVSYSID), tlvs()))

# §4.1.7
OUTBIND = Struct(
    c_octet_string("system_id", 16, ESME_RINVSYSID),
    c_octet_string("password", 9, ESME_RINVPASWD),
)

# §4.2, §4.3, §4.11: unbind(_resp), generic_nack, enquire_link(_resp), cancel/replace_sm_resp.
HEADER_ONLY = Struct()

# §4.4.1 submit_sm, §4.5.1 submit_multi and §4.6.1 deliver_sm: the same source fields open
# all three, and the same message fields (esm_class .. short_message, then TLVs) close them.
_SOURCE_FIELDS = (
    c_octet_string("service_type", 6, ESME_RINVSERTYP),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
)
_MESSAGE_FIELDS = (
    int1("esm_class", ESME_RINVESMCLASS),
    int1("protocol_id"),
    int1("priority_flag", ESME_RINVPRTFLG),
    time_field("schedule_delivery_time", ESME_RINVSCHED),
    time_field("validity_period", ESME_RINVEXPIRY),
    int1("registered_delivery", ESME_RINVREGDLVFLG),
    int1("replace_if_present_flag", ESME_RINVREPFLAG),
    int1("data_coding"),
    int1("sm_default_msg_id", ESME_RINVDFTMSGID),
    short_message(),
    tlvs(),
)

SHORT_MESSAGE_BODY = Struct(
    *_SOURCE_FIELDS,
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 21, ESME_RINVDSTADR),
    *_MESSAGE_FIELDS,
)

# §4.4.2 submit_sm_resp, §4.6.2 deliver_sm_resp, §4.7.2 data_sm_resp.
MESSAGE_ID_RESP = OptionalBody(Struct(c_octet_string("message_id", 65, ESME_RINVMSGID), tlvs()))

# §4.5.1
SUBMIT_MULTI = Struct(*_SOURCE_FIELDS, "dest_addresses" / DestAddressList(), *_MESSAGE_FIELDS)

# §4.5.2
SUBMIT_MULTI_RESP = OptionalBody(
    Struct(
        c_octet_string("message_id", 65, ESME_RINVMSGID),
        "unsuccess_sme"
        / Field(
            "no_unsuccess",
            UnsuccessSmeAdapter(PrefixedArray(Int8ub, UNSUCCESS_SME)),
            ESME_RUNKNOWNERR,
        ),
        tlvs(),
    )
)

# §4.7.1: source_addr and destination_addr are C-Octet Strings of up to 65.
DATA_SM = Struct(
    c_octet_string("service_type", 6, ESME_RINVSERTYP),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 65, ESME_RINVSRCADR),
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 65, ESME_RINVDSTADR),
    int1("esm_class", ESME_RINVESMCLASS),
    int1("registered_delivery", ESME_RINVREGDLVFLG),
    int1("data_coding"),
    tlvs(),
)

# §4.8.1
QUERY_SM = Struct(
    c_octet_string("message_id", 65, ESME_RINVMSGID),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
)

# §4.8.2
QUERY_SM_RESP = OptionalBody(
    Struct(
        c_octet_string("message_id", 65, ESME_RINVMSGID),
        time_field("final_date", ESME_RUNKNOWNERR),
        int1("message_state"),
        int1("error_code"),
    )
)

# §4.9.1
CANCEL_SM = Struct(
    c_octet_string("service_type", 6, ESME_RINVSERTYP),
    c_octet_string("message_id", 65, ESME_RINVMSGID),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 21, ESME_RINVDSTADR),
)

# §4.10.1
REPLACE_SM = Struct(
    c_octet_string("message_id", 65, ESME_RINVMSGID),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
    time_field("schedule_delivery_time", ESME_RINVSCHED),
    time_field("validity_period", ESME_RINVEXPIRY),
    int1("registered_delivery", ESME_RINVREGDLVFLG),
    int1("sm_default_msg_id", ESME_RINVDFTMSGID),
    short_message(),
)

# §4.12.1: source_addr and esme_addr are C-Octet Strings of up to 65.
ALERT_NOTIFICATION = Struct(
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 65, ESME_RINVSRCADR),
    int1("esme_addr_ton", ESME_RINVDSTTON),
    int1("esme_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("esme_addr", 65, ESME_RINVDSTADR),
    tlvs(),
)

BODIES: dict[int, Any] = {
    CommandId.GENERIC_NACK: HEADER_ONLY,
    CommandId.BIND_RECEIVER: BIND,
    CommandId.BIND_RECEIVER_RESP: BIND_RESP,
    CommandId.BIND_TRANSMITTER: BIND,
    CommandId.BIND_TRANSMITTER_RESP: BIND_RESP,
    CommandId.QUERY_SM: QUERY_SM,
    CommandId.QUERY_SM_RESP: QUERY_SM_RESP,
    CommandId.SUBMIT_SM: SHORT_MESSAGE_BODY,
    CommandId.SUBMIT_SM_RESP: MESSAGE_ID_RESP,
    CommandId.DELIVER_SM: SHORT_MESSAGE_BODY,
    CommandId.DELIVER_SM_RESP: MESSAGE_ID_RESP,
    CommandId.UNBIND: HEADER_ONLY,
    CommandId.UNBIND_RESP: HEADER_ONLY,
    CommandId.REPLACE_SM: REPLACE_SM,
    CommandId.REPLACE_SM_RESP: HEADER_ONLY,
    CommandId.CANCEL_SM: CANCEL_SM,
    CommandId.CANCEL_SM_RESP: HEADER_ONLY,
    CommandId.BIND_TRANSCEIVER: BIND,
    CommandId.BIND_TRANSCEIVER_RESP: BIND_RESP,
    CommandId.OUTBIND: OUTBIND,
    CommandId.ENQUIRE_LINK: HEADER_ONLY,
    CommandId.ENQUIRE_LINK_RESP: HEADER_ONLY,
    CommandId.SUBMIT_MULTI: SUBMIT_MULTI,
    CommandId.SUBMIT_MULTI_RESP: SUBMIT_MULTI_RESP,
    CommandId.ALERT_NOTIFICATION: ALERT_NOTIFICATION,
    CommandId.DATA_SM: DATA_SM,
    CommandId.DATA_SM_RESP: MESSAGE_ID_RESP,
}
