"""Pieces of the fast path every hot PDU shares: filling frozen dataclasses, and TLVs.

Same contract as `fast.py`: read_tlvs returns what the construct path (`tlv_stream.py`) would
decode or None, and write_tlvs the octets it would write or raises one of UNFIT.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable

from bridge.pdu.pdus import Pdu
from bridge.pdu.tlv import TLV_SPECS, NetworkErrorCode, Tlv, TlvKind, TlvSpec, TlvValue

_TLV_HEAD = struct.Struct(">HH")
_NUL = b"\x00"

# Everything a clean-looking but wrong value can raise on the way to bytes.
UNFIT = (AttributeError, TypeError, ValueError, UnicodeEncodeError, OverflowError, struct.error)


# --- building the frozen dataclasses --------------------------------------------------------
#
# A frozen dataclass's __init__ sets each field through object.__setattr__ with keyword
# arguments: 2.6 us for submit_sm's 20 fields, more than parsing its octets. The fast path
# instead fills the slots straight through their member descriptors (what object.__setattr__
# does underneath). The object is the same one __init__ would build (the differential tests
# compare them with ==), and slot_setters refuses at import time to cover fewer fields than
# the class has, so a field added later cannot be left unset.

new_instance = object.__new__
Setter = Callable[[object, object], None]


def slot_setters(cls: type[Pdu] | type[Tlv], *names: str) -> tuple[Setter, ...]:
    declared = {f.name for f in dataclasses.fields(cls)}
    if set(names) != declared or len(names) != len(declared):
        raise RuntimeError(f"fast path for {cls.__name__} must set exactly {sorted(declared)}")
    return tuple(getattr(cls, name).__set__ for name in names)


_SET_TLV_TAG, _SET_TLV_VALUE = slot_setters(Tlv, "tag", "value")


# --- TLVs ---------------------------------------------------------------------------------


def _tlv_decoder(spec: TlvSpec) -> Callable[[bytes], TlvValue | None]:
    kind = spec.kind
    if kind is TlvKind.INT1:
        return lambda raw: raw[0] if len(raw) == 1 else None
    if kind is TlvKind.INT2:
        return lambda raw: (raw[0] << 8) | raw[1] if len(raw) == 2 else None
    if kind is TlvKind.INT4:
        return lambda raw: int.from_bytes(raw) if len(raw) == 4 else None
    if kind is TlvKind.NETWORK_ERROR_CODE:
        return lambda raw: (
            NetworkErrorCode(network_type=raw[0], error_code=(raw[1] << 8) | raw[2])
            if len(raw) == 3
            else None
        )
    if kind is TlvKind.CSTRING:
        low, high = spec.min_length, spec.max_length

        def cstring(raw: bytes) -> str | None:
            size = len(raw)
            if low <= size <= high and raw.find(0) == size - 1:
                return raw[:-1].decode("latin-1")
            return None

        return cstring
    return lambda raw: raw


def _tlv_encoder(spec: TlvSpec) -> Callable[[TlvValue], bytes]:
    """Raises one of _UNFIT for a value its tag cannot carry."""
    kind = spec.kind
    if kind is TlvKind.INT1:
        return lambda value: value.to_bytes(1)  # type: ignore[union-attr]
    if kind is TlvKind.INT2:
        return lambda value: value.to_bytes(2)  # type: ignore[union-attr]
    if kind is TlvKind.INT4:
        return lambda value: value.to_bytes(4)  # type: ignore[union-attr]
    if kind is TlvKind.NETWORK_ERROR_CODE:

        def network_error_code(value: TlvValue) -> bytes:
            if type(value) is not NetworkErrorCode:
                raise TypeError("expected NetworkErrorCode")
            return value.network_type.to_bytes(1) + value.error_code.to_bytes(2)

        return network_error_code
    if kind is TlvKind.CSTRING:
        high = spec.max_length

        def cstring(value: TlvValue) -> bytes:
            raw = value.encode("latin-1") + _NUL  # type: ignore[union-attr]
            if len(raw) > high or raw.find(0) != len(raw) - 1:
                raise ValueError("not a C-Octet String of the allowed size")
            return raw

        return cstring
    return _octets


def _octets(value: TlvValue) -> bytes:
    if type(value) is not bytes:
        raise TypeError("expected bytes")
    return value


_TLV_DECODERS = {tag: _tlv_decoder(spec) for tag, spec in TLV_SPECS.items()}
_TLV_ENCODERS = {tag: _tlv_encoder(spec) for tag, spec in TLV_SPECS.items()}


# Integer tags by width, read inline; C-Octet String and network_error_code tags through
# _TLV_DECODERS; octet-string and unknown tags stay raw.
_TLV_INT_WIDTHS = {
    tag: spec.min_length
    for tag, spec in TLV_SPECS.items()
    if spec.kind in (TlvKind.INT1, TlvKind.INT2, TlvKind.INT4)
}
_TLV_VALUE_DECODERS = {
    tag: _TLV_DECODERS[tag]
    for tag, spec in TLV_SPECS.items()
    if spec.kind in (TlvKind.CSTRING, TlvKind.NETWORK_ERROR_CODE)
}


def read_tlvs(data: bytes, position: int, end: int) -> tuple[Tlv, ...] | None:
    tlvs: list[Tlv] = []
    while position < end:
        value_at = position + 4
        if value_at > end:
            return None
        tag = (data[position] << 8) | data[position + 1]
        position = value_at + ((data[position + 2] << 8) | data[position + 3])
        if position > end:
            return None
        value: TlvValue | None
        width = _TLV_INT_WIDTHS.get(tag)
        if width is not None:
            if position - value_at != width:
                return None
            if width == 1:
                value = data[value_at]
            elif width == 2:
                value = (data[value_at] << 8) | data[value_at + 1]
            else:
                value = int.from_bytes(data[value_at:position])
        else:
            decoder = _TLV_VALUE_DECODERS.get(tag)
            if decoder is None:
                value = data[value_at:position]
            else:
                value = decoder(data[value_at:position])
                if value is None:
                    return None
        tlv = new_instance(Tlv)
        _SET_TLV_TAG(tlv, tag)
        _SET_TLV_VALUE(tlv, value)
        tlvs.append(tlv)
    return tuple(tlvs)


# An integer TLV in one struct call: tag, length and value.
_TLV_INT_PACKERS = {
    tag: struct.Struct({1: ">HHB", 2: ">HHH", 4: ">HHI"}[width])
    for tag, width in _TLV_INT_WIDTHS.items()
}


def write_tlvs(tlvs: tuple[Tlv, ...]) -> bytes:
    """Raises one of _UNFIT for anything the construct path must judge."""
    parts: list[bytes] = []
    for tlv in tlvs:
        tag = tlv.tag
        packer = _TLV_INT_PACKERS.get(tag)
        if packer is not None:
            parts.append(packer.pack(tag, packer.size - 4, tlv.value))
            continue
        encoder = _TLV_ENCODERS.get(tag)
        raw = _octets(tlv.value) if encoder is None else encoder(tlv.value)
        parts.append(_TLV_HEAD.pack(tag, len(raw)))
        parts.append(raw)
    return b"".join(parts)
