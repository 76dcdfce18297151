"""decode() and encode(): one whole PDU <-> one typed dataclass, failing only with PduError.

Two paths give the same answers:
- the reference path runs the construct declarations in `layout.py` (the single source of
  truth for every layout) and produces every error, with field, offset and status;
- the fast path (`fast.py`) handles the hot PDUs with hand-written struct/bytes code. It
  returns None for anything it does not handle cleanly, and the reference path then decides.
  Differential property tests prove the two equal on every input, valid or not.

Tolerance (see README, "The PDU layer"): values 3.4 does not define but whose meaning is
unambiguous decode as they are and encode back byte for byte (undefined command_status,
sequence_number above 0x7FFFFFFF, vendor TLVs, error responses with a body, responses without
one). Anything whose meaning would be a guess raises PduError.
"""

from __future__ import annotations

import dataclasses
import io
import struct
from typing import Any

from construct import ConstructError

from bridge.pdu.commands import command_name
from bridge.pdu.errors import PduError
from bridge.pdu.fast import FAST_DECODERS, FAST_ENCODERS
from bridge.pdu.field_types import LayoutError, OptionalBody
from bridge.pdu.layout import BODIES, HEADER, HEADER_SIZE
from bridge.pdu.pdus import PDU_CLASSES, Pdu
from bridge.pdu.status import ESME_RINVCMDID, ESME_RINVCMDLEN, ESME_RSYSERR, ESME_RUNKNOWNERR

_HEADER = struct.Struct(">IIII")
_HEADER_FIELDS = frozenset({"command_status", "sequence_number"})


def _body_fields(cls: type[Pdu]) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.name not in _HEADER_FIELDS)


# Per class: the dataclass fields that live in the body (everything but the header).
_BODY_FIELDS = {command_id: _body_fields(cls) for command_id, cls in PDU_CLASSES.items()}


def decode(data: bytes) -> Pdu:
    """Decode exactly one whole PDU; command_length must equal len(data).

    Raises PduError (and nothing else) with the command_status a server answers with.
    """
    if type(data) is not bytes:
        data = _as_bytes(data)
    size = len(data)
    if size < HEADER_SIZE:
        raise _short_header(data)
    # _check_header only on the rare path: this line runs for every PDU of every session.
    command_length, command_id, command_status, sequence_number = _HEADER.unpack_from(data)
    fast = FAST_DECODERS.get(command_id)
    if command_length != size or (fast is None and command_id not in PDU_CLASSES):
        _check_header(size, command_length, command_id, sequence_number)
    if fast is not None:
        pdu = fast(data, command_status, sequence_number)
        if pdu is not None:
            return pdu
    return _decode_body(data, command_id, command_status, sequence_number)


def encode(pdu: Pdu) -> bytes:
    """Encode one PDU, command_length computed. Raises PduError (and nothing else)."""
    fast = FAST_ENCODERS.get(type(pdu))
    if fast is not None:
        encoded = fast(pdu)
        if encoded is not None:
            return encoded
    return encode_reference(pdu)


def decode_reference(data: bytes) -> Pdu:
    """decode() through the construct declarations only (for differential tests)."""
    data = _as_bytes(data)
    if len(data) < HEADER_SIZE:
        raise _short_header(data)
    header = HEADER.parse(data)
    _check_header(len(data), header.command_length, header.command_id, header.sequence_number)
    return _decode_body(data, header.command_id, header.command_status, header.sequence_number)


def encode_reference(pdu: Pdu) -> bytes:
    """encode() through the construct declarations only (for differential tests)."""
    cls = type(pdu)
    command_id = getattr(cls, "command_id", None)
    if command_id is None or PDU_CLASSES.get(command_id) is not cls:
        raise PduError(
            f"{cls.__name__} is not a concrete SMPP 3.4 PDU", command_status=ESME_RSYSERR
        )
    header = {"command_length": 0, "command_id": command_id}
    for name, offset in (("command_status", 8), ("sequence_number", 12)):
        value = getattr(pdu, name, None)
        if not isinstance(value, int) or not 0 <= value <= 0xFFFF_FFFF:
            raise PduError(
                f"{name} {value!r} is not an Int4 (0..0xFFFFFFFF)",
                command_status=ESME_RUNKNOWNERR,
                command_id=command_id,
                field=name,
                offset=offset,
            )
        header[name] = value
    sequence_number = header["sequence_number"]
    layout = BODIES[command_id]
    stream = io.BytesIO()
    stream.write(bytes(HEADER_SIZE))
    try:
        layout.build_stream(_body_values(pdu, command_id, layout), stream)
    except LayoutError as error:
        raise _from_layout(error, command_id, sequence_number) from None
    except ConstructError as error:  # a declaration bug, not a peer's fault
        raise PduError(
            f"cannot build: {error}",
            command_status=ESME_RSYSERR,
            command_id=command_id,
            sequence_number=sequence_number,
        ) from None
    body = stream.getvalue()[HEADER_SIZE:]
    header["command_length"] = HEADER_SIZE + len(body)
    built: bytes = HEADER.build(header)
    return built + body


# --- shared pieces ---------------------------------------------------------------------


def _as_bytes(data: object) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise PduError(
        f"expected bytes, got {type(data).__name__}", command_status=ESME_RSYSERR, in_sync=False
    )


def _short_header(data: bytes) -> PduError:
    # SMPP 3.4 §3.2: every PDU has a 16-octet header; command_length is at least 16.
    return PduError(
        f"{len(data)} octets cannot hold the 16-octet header",
        command_status=ESME_RINVCMDLEN,
        field="command_length",
        offset=0,
        in_sync=False,
    )


def _check_header(size: int, command_length: int, command_id: int, sequence_number: int) -> None:
    if command_length != size:
        raise PduError(
            f"command_length {command_length} but the PDU has {size} octets",
            command_status=ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence_number,
            field="command_length",
            offset=0,
            in_sync=False,
        )
    if command_id not in PDU_CLASSES:
        # SMPP 3.4 §4.3: answer generic_nack ESME_RINVCMDID, echoing sequence_number; the
        # frame itself is intact, so the session goes on.
        raise PduError(
            f"command_id 0x{command_id:08x} is not an SMPP 3.4 command",
            command_status=ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=sequence_number,
            field="command_id",
            offset=4,
        )


def _decode_body(data: bytes, command_id: int, command_status: int, sequence_number: int) -> Pdu:
    layout = BODIES[command_id]
    stream = io.BytesIO(data)
    stream.seek(HEADER_SIZE)
    try:
        body = layout.parse_stream(stream)
        if stream.tell() != len(data):
            raise LayoutError(
                f"{len(data) - stream.tell()} octets after the {command_name(command_id)} body",
                status=ESME_RINVCMDLEN,
                field="command_length",
                offset=stream.tell(),
            )
    except LayoutError as error:
        raise _from_layout(error, command_id, sequence_number) from None
    except ConstructError as error:  # a declaration bug, not a peer's fault
        raise PduError(
            f"cannot parse: {error}",
            command_status=ESME_RSYSERR,
            command_id=command_id,
            sequence_number=sequence_number,
        ) from None
    values: dict[str, Any] = {}
    if body is None:
        values[layout.presence_field] = None
    else:
        for body_field in _BODY_FIELDS[command_id]:
            values[body_field.name] = body[body_field.name]
    return PDU_CLASSES[command_id](
        command_status=command_status, sequence_number=sequence_number, **values
    )


def _body_values(pdu: Pdu, command_id: int, layout: Any) -> dict[str, Any] | None:
    values = {f.name: getattr(pdu, f.name) for f in _BODY_FIELDS[command_id]}
    if isinstance(layout, OptionalBody) and values[layout.presence_field] is None:
        # "No body" must not silently drop values the caller set.
        for body_field in _BODY_FIELDS[command_id]:
            if body_field.name != layout.presence_field and (
                values[body_field.name] != body_field.default
            ):
                raise LayoutError(
                    f"{layout.presence_field} is None (no body) but {body_field.name} is set",
                    status=ESME_RSYSERR,
                    field=body_field.name,
                    offset=HEADER_SIZE,
                )
        return None
    return values


def _from_layout(error: LayoutError, command_id: int, sequence_number: object) -> PduError:
    return PduError(
        f"{command_name(command_id)}: {error.message}",
        command_status=error.status,
        command_id=command_id,
        sequence_number=sequence_number if isinstance(sequence_number, int) else None,
        field=error.field,
        offset=error.offset,
    )
