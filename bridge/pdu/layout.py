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

This module is a declaration table (STYLE.md §9 exempts it from the size aim).
"""

from __future__ import annotations

import io
from typing import Any

from construct import (
    Adapter,
    Construct,
    ConstructError,
    Int8ub,
    Int16ub,
    Int32ub,
    PrefixedArray,
    StreamError,
    Struct,
    Subconstruct,
)

from bridge.pdu.commands import CommandId
from bridge.pdu.pdus import DistributionList, SmeAddress, UnsuccessSme
from bridge.pdu.status import (
    ESME_RBINDFAIL,
    ESME_RINVCMDLEN,
    ESME_RINVDESTFLAG,
    ESME_RINVDFTMSGID,
    ESME_RINVDLNAME,
    ESME_RINVDSTADR,
    ESME_RINVDSTNPI,
    ESME_RINVDSTTON,
    ESME_RINVESMCLASS,
    ESME_RINVEXPIRY,
    ESME_RINVMSGID,
    ESME_RINVMSGLEN,
    ESME_RINVNUMDESTS,
    ESME_RINVOPTPARAMVAL,
    ESME_RINVOPTPARSTREAM,
    ESME_RINVPARLEN,
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
from bridge.pdu.tlv import TLV_SPECS, NetworkErrorCode, Tag, Tlv, TlvKind, TlvSpec, TlvValue

# SMPP 3.4 §3.2: command_length, command_id, command_status, sequence_number.
HEADER = Struct(
    "command_length" / Int32ub,
    "command_id" / Int32ub,
    "command_status" / Int32ub,
    "sequence_number" / Int32ub,
)
HEADER_SIZE = 16

# SMPP 3.4 §5.3.1: every optional parameter is tag Int2, length Int2, value[length].
TLV_HEADER = Struct("tag" / Int16ub, "length" / Int16ub)

# The value layout of each TLV kind (SMPP 3.4 §5.3.2).
TLV_VALUE_LAYOUTS: dict[TlvKind, Any] = {
    TlvKind.INT1: Int8ub,
    TlvKind.INT2: Int16ub,
    TlvKind.INT4: Int32ub,
    TlvKind.NETWORK_ERROR_CODE: Struct("network_type" / Int8ub, "error_code" / Int16ub),
}

# submit_multi (SMPP 3.4 §4.5.1.1): number_of_dests is at most 254.
MAX_NUMBER_OF_DESTS = 254
MAX_SM_LENGTH = 255
MAX_TLV_LENGTH = 0xFFFF


class LayoutError(ConstructError):  # type: ignore[misc]
    """A field that cannot be parsed or built: which field, where, and the status to answer."""

    def __init__(self, message: str, *, status: int, field: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.offset = offset


class InvalidValue(ConstructError):  # type: ignore[misc]
    """Raised by a field's own construct; `Field` adds the field name and offset."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def tlv_field_name(tag: int) -> str:
    """The spec name of a TLV (`receipted_message_id`), or `tlv_0x1403` for others."""
    try:
        return Tag(tag).name.lower()
    except ValueError:
        return f"tlv_0x{tag:04x}"


class Field(Subconstruct):  # type: ignore[misc]
    """One mandatory field: names it in errors and maps construct failures to a status.

    Running out of bytes is ESME_RINVCMDLEN (the body is shorter than its layout); any other
    failure is this field's own status (ESME_RINVSRCADR for source_addr, …).
    """

    def __init__(self, name: str, subcon: Any, status: int) -> None:
        super().__init__(subcon)
        self.field_name = name
        self.status = status

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> Any:
        start = stream.tell()
        try:
            return self.subcon._parsereport(stream, context, path)
        except LayoutError:
            raise
        except InvalidValue as error:
            status = self.status if error.status is None else error.status
            raise LayoutError(
                error.message, status=status, field=self.field_name, offset=start
            ) from None
        except StreamError:
            raise LayoutError(
                "PDU ends inside this field",
                status=ESME_RINVCMDLEN,
                field=self.field_name,
                offset=start,
            ) from None

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        start = stream.tell()
        try:
            return self.subcon._build(obj, stream, context, path)
        except LayoutError:
            raise
        except InvalidValue as error:
            status = self.status if error.status is None else error.status
            raise LayoutError(
                error.message, status=status, field=self.field_name, offset=start
            ) from None
        except (ConstructError, TypeError, ValueError, AttributeError, OverflowError):
            raise LayoutError(
                f"{obj!r} does not fit", status=self.status, field=self.field_name, offset=start
            ) from None


class COctetString(Construct):  # type: ignore[misc]
    """A NUL-terminated Latin-1 string; `maximum` counts the NUL (SMPP 3.4 §3.1).

    `lengths`, when given, lists the only character counts allowed (time fields: 0 or 16).
    """

    def __init__(self, maximum: int, lengths: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.maximum = maximum
        self.lengths = lengths

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> str:
        start = stream.tell()
        chunk = stream.read(self.maximum)
        end = chunk.find(b"\x00")
        if end < 0:
            if len(chunk) < self.maximum:
                raise StreamError("no NUL before the end of the PDU", path=path)
            raise InvalidValue(f"no NUL within {self.maximum} octets (maximum includes the NUL)")
        if self.lengths is not None and end not in self.lengths:
            raise InvalidValue(f"{end} characters; only {self.lengths} allowed")
        stream.seek(start + end + 1)
        return chunk[:end].decode("latin-1")

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        if not isinstance(obj, str):
            raise InvalidValue(f"expected str, got {type(obj).__name__}")
        try:
            raw = obj.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidValue("not representable in Latin-1") from None
        if b"\x00" in raw:
            raise InvalidValue("contains NUL")
        if len(raw) >= self.maximum:
            raise InvalidValue(f"{len(raw)} characters; maximum is {self.maximum - 1}")
        if self.lengths is not None and len(raw) not in self.lengths:
            raise InvalidValue(f"{len(raw)} characters; only {self.lengths} allowed")
        stream.write(raw + b"\x00")
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise ConstructError("variable size", path=path)


class ShortMessage(Construct):  # type: ignore[misc]
    """sm_length (Int1) followed by that many octets of short_message (SMPP 3.4 §4.4.1)."""

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> bytes:
        start = stream.tell()
        prefix = stream.read(1)
        if not prefix:
            raise LayoutError(
                "PDU ends before sm_length", status=ESME_RINVCMDLEN, field="sm_length", offset=start
            )
        sm_length = Int8ub.parse(prefix)
        message = stream.read(sm_length)
        if len(message) != sm_length:
            raise LayoutError(
                f"sm_length {sm_length} but {len(message)} octets remain",
                status=ESME_RINVMSGLEN,
                field="short_message",
                offset=start + 1,
            )
        return bytes(message)

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        start = stream.tell()
        if not isinstance(obj, bytes | bytearray):
            raise LayoutError(
                f"expected bytes, got {type(obj).__name__}",
                status=ESME_RINVMSGLEN,
                field="short_message",
                offset=start,
            )
        if len(obj) > MAX_SM_LENGTH:
            raise LayoutError(
                f"{len(obj)} octets; sm_length is one octet (use message_payload)",
                status=ESME_RINVMSGLEN,
                field="short_message",
                offset=start,
            )
        stream.write(Int8ub.build(len(obj)) + bytes(obj))
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise ConstructError("variable size", path=path)


def parse_tlv_value(tag: int, raw: bytes, offset: int) -> TlvValue:
    """A TLV's value typed by TLV_SPECS; unknown tags and octet strings stay raw bytes."""
    spec = TLV_SPECS.get(tag)
    if spec is None or spec.kind is TlvKind.OCTETS:
        return raw
    name = tlv_field_name(tag)
    if spec.kind is TlvKind.CSTRING:
        if not spec.min_length <= len(raw) <= spec.max_length:
            raise LayoutError(
                f"length {len(raw)} outside {spec.min_length}..{spec.max_length}",
                status=ESME_RINVPARLEN,
                field=name,
                offset=offset,
            )
        if raw.find(b"\x00") != len(raw) - 1:
            raise LayoutError(
                "C-Octet String value must end with its only NUL",
                status=ESME_RINVOPTPARAMVAL,
                field=name,
                offset=offset,
            )
        return raw[:-1].decode("latin-1")
    if len(raw) != spec.min_length:
        raise LayoutError(
            f"length {len(raw)}; {spec.kind.value} needs {spec.min_length}",
            status=ESME_RINVPARLEN,
            field=name,
            offset=offset,
        )
    parsed = TLV_VALUE_LAYOUTS[spec.kind].parse(raw)
    if spec.kind is TlvKind.NETWORK_ERROR_CODE:
        return NetworkErrorCode(network_type=parsed.network_type, error_code=parsed.error_code)
    value: int = parsed
    return value


def build_tlv_value(tag: int, value: object, offset: int) -> bytes:
    """The octets of a TLV value, checked against its tag's type (TLV_SPECS)."""
    spec: TlvSpec | None = TLV_SPECS.get(tag)
    name = tlv_field_name(tag)

    def invalid(message: str) -> LayoutError:
        return LayoutError(message, status=ESME_RINVOPTPARAMVAL, field=name, offset=offset)

    if spec is None or spec.kind is TlvKind.OCTETS:
        if not isinstance(value, bytes):
            raise invalid(f"expected bytes, got {type(value).__name__}")
        return value
    if spec.kind is TlvKind.CSTRING:
        if not isinstance(value, str):
            raise invalid(f"expected str, got {type(value).__name__}")
        try:
            raw = value.encode("latin-1") + b"\x00"
        except UnicodeEncodeError:
            raise invalid("not representable in Latin-1") from None
        if raw.find(b"\x00") != len(raw) - 1:
            raise invalid("contains NUL")
        if len(raw) > spec.max_length:
            raise LayoutError(
                f"{len(raw)} octets with NUL; maximum is {spec.max_length}",
                status=ESME_RINVPARLEN,
                field=name,
                offset=offset,
            )
        return raw
    if spec.kind is TlvKind.NETWORK_ERROR_CODE:
        if not isinstance(value, NetworkErrorCode):
            raise invalid(f"expected NetworkErrorCode, got {type(value).__name__}")
        fields = {"network_type": value.network_type, "error_code": value.error_code}
    elif isinstance(value, int):
        fields = value  # type: ignore[assignment]
    else:
        raise invalid(f"expected int, got {type(value).__name__}")
    try:
        built: bytes = TLV_VALUE_LAYOUTS[spec.kind].build(fields)
    except (ConstructError, TypeError, ValueError, OverflowError):
        raise invalid(f"{value!r} does not fit {spec.kind.value}") from None
    return built


class TlvStream(Construct):  # type: ignore[misc]
    """Optional parameters to the end of the PDU, in wire order (SMPP 3.4 §3.2.4, §5.3).

    Tolerance: 1-3 trailing zero octets that cannot form a TLV header are padding (a stray NUL
    after short_message, seen from larvitsmpp) and are skipped; any other short tail is
    ESME_RINVOPTPARSTREAM.
    """

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> tuple[Tlv, ...]:
        tlvs: list[Tlv] = []
        while True:
            start = stream.tell()
            head = stream.read(4)
            if not head:
                return tuple(tlvs)
            if len(head) < 4:
                if not head.strip(b"\x00"):
                    return tuple(tlvs)
                raise LayoutError(
                    f"{len(head)} octets cannot form a TLV header",
                    status=ESME_RINVOPTPARSTREAM,
                    field="tlvs",
                    offset=start,
                )
            header = TLV_HEADER.parse(head)
            raw = stream.read(header.length)
            if len(raw) != header.length:
                raise LayoutError(
                    f"TLV length {header.length} but {len(raw)} octets remain",
                    status=ESME_RINVOPTPARSTREAM,
                    field=tlv_field_name(header.tag),
                    offset=start,
                )
            tlvs.append(Tlv(header.tag, parse_tlv_value(header.tag, raw, start)))

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        if not isinstance(obj, tuple | list):
            raise LayoutError(
                "tlvs must be a tuple of Tlv",
                status=ESME_RINVOPTPARSTREAM,
                field="tlvs",
                offset=stream.tell(),
            )
        for tlv in obj:
            start = stream.tell()
            if not isinstance(tlv, Tlv) or not isinstance(tlv.tag, int):
                raise LayoutError(
                    f"not a Tlv: {tlv!r}", status=ESME_RINVOPTPARSTREAM, field="tlvs", offset=start
                )
            if not 0 <= tlv.tag <= 0xFFFF:
                raise LayoutError(
                    f"tag {tlv.tag} does not fit Int2",
                    status=ESME_RINVOPTPARSTREAM,
                    field="tlvs",
                    offset=start,
                )
            raw = build_tlv_value(tlv.tag, tlv.value, start)
            if len(raw) > MAX_TLV_LENGTH:
                raise LayoutError(
                    f"value of {len(raw)} octets does not fit the Int2 length",
                    status=ESME_RINVPARLEN,
                    field=tlv_field_name(tlv.tag),
                    offset=start,
                )
            stream.write(TLV_HEADER.build({"tag": tlv.tag, "length": len(raw)}) + raw)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise ConstructError("variable size", path=path)


class OptionalBody(Subconstruct):  # type: ignore[misc]
    """A response body a peer may omit (SMPP 3.4 §4.4.2); None <-> no octets after the header.

    `presence_field` is the body's first field: None there means "no body".
    """

    def __init__(self, subcon: Any) -> None:
        super().__init__(subcon)
        self.presence_field: str = subcon.subcons[0].name

    def _parse(self, stream: io.BytesIO, context: Any, path: str) -> Any:
        start = stream.tell()
        if not stream.read(1):
            return None
        stream.seek(start)
        return self.subcon._parsereport(stream, context, path)

    def _build(self, obj: Any, stream: io.BytesIO, context: Any, path: str) -> Any:
        if obj is None:
            return None
        return self.subcon._build(obj, stream, context, path)


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


# --- field helpers: name, layout and the status a server answers when it is wrong ----------


def c_octet_string(name: str, maximum: int, status: int = ESME_RUNKNOWNERR) -> Any:
    return name / Field(name, COctetString(maximum), status)


def time_field(name: str, status: int) -> Any:
    # SMPP 3.4 §7.1: "" or YYMMDDhhmmsstnnp (16 characters + NUL).
    return name / Field(name, COctetString(17, lengths=(0, 16)), status)


def int1(name: str, status: int = ESME_RUNKNOWNERR) -> Any:
    return name / Field(name, Int8ub, status)


def int4(name: str, status: int = ESME_RUNKNOWNERR) -> Any:
    return name / Field(name, Int32ub, status)


def short_message() -> Any:
    return "short_message" / ShortMessage()


def tlvs() -> Any:
    return "tlvs" / TlvStream()


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

# §4.4.1 submit_sm and §4.6.1 deliver_sm share one layout.
SHORT_MESSAGE_BODY = Struct(
    c_octet_string("service_type", 6, ESME_RINVSERTYP),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
    int1("dest_addr_ton", ESME_RINVDSTTON),
    int1("dest_addr_npi", ESME_RINVDSTNPI),
    c_octet_string("destination_addr", 21, ESME_RINVDSTADR),
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

# §4.4.2 submit_sm_resp, §4.6.2 deliver_sm_resp, §4.7.2 data_sm_resp.
MESSAGE_ID_RESP = OptionalBody(Struct(c_octet_string("message_id", 65, ESME_RINVMSGID), tlvs()))

# §4.5.1
SUBMIT_MULTI = Struct(
    c_octet_string("service_type", 6, ESME_RINVSERTYP),
    int1("source_addr_ton", ESME_RINVSRCTON),
    int1("source_addr_npi", ESME_RINVSRCNPI),
    c_octet_string("source_addr", 21, ESME_RINVSRCADR),
    "dest_addresses" / DestAddressList(),
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
