"""The optional-parameter (TLV) stream as a `construct` construct (SMPP 3.4 §3.2.4, §5.3).

TLVs run from the end of the mandatory fields to the end of the PDU, in any order. Values are
typed by `TLV_SPECS` (tlv.py); tags it does not list, vendor tags included, are kept as raw
octets so they encode back unchanged.
"""

from __future__ import annotations

import io
from typing import Any

from construct import Construct, ConstructError, Int8ub, Int16ub, Int32ub, Struct

from bridge.pdu.field_types import LayoutError
from bridge.pdu.status import ESME_RINVOPTPARAMVAL, ESME_RINVOPTPARSTREAM, ESME_RINVPARLEN
from bridge.pdu.tlv import TLV_SPECS, NetworkErrorCode, Tag, Tlv, TlvKind, TlvSpec, TlvValue

# SMPP 3.4 §5.3.1: every optional parameter is tag Int2, length Int2, value[length].
TLV_HEADER = Struct("tag" / Int16ub, "length" / Int16ub)
MAX_TLV_LENGTH = 0xFFFF

# The value layout of each TLV kind (SMPP 3.4 §5.3.2).
TLV_VALUE_LAYOUTS: dict[TlvKind, Any] = {
    TlvKind.INT1: Int8ub,
    TlvKind.INT2: Int16ub,
    TlvKind.INT4: Int32ub,
    TlvKind.NETWORK_ERROR_CODE: Struct("network_type" / Int8ub, "error_code" / Int16ub),
}


def tlv_field_name(tag: int) -> str:
    """The spec name of a TLV (`receipted_message_id`), or `tlv_0x1403` for others."""
    try:
        return Tag(tag).name.lower()
    except ValueError:
        return f"tlv_0x{tag:04x}"


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


def tlvs() -> Any:
    return "tlvs" / TlvStream()
