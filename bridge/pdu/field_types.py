"""SMPP 3.4 parameter types as `construct` constructs (SMPP 3.4 §3.1), with their errors.

`Field` names a mandatory field in errors and maps construct's failures to the status a
server answers with; `COctetString`, `ShortMessage` and `OptionalBody` are the types 3.4 has
and construct does not (its CString neither enforces a maximum nor tells a missing NUL from
the end of the PDU). `layout.py` declares every PDU body from these.
"""

from __future__ import annotations

import io
from typing import Any

from construct import Construct, ConstructError, Int8ub, Int32ub, StreamError, Subconstruct

from bridge.pdu.status import ESME_RINVCMDLEN, ESME_RINVMSGLEN, ESME_RUNKNOWNERR

MAX_SM_LENGTH = 255


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
