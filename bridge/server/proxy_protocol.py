"""The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2), read without I/O.

A load balancer in TCP mode opens its own connection to the bridge and sends one header
before any SMPP byte, naming the ESME's address; then it relays the ESME's bytes unchanged.
`ProxyHeaderReader` is the pull parser for that header, in the shape of the session machine:
`receive_data(bytes)` only stores, `next_header()` returns a `ProxyHeader`, `NEED_DATA`, or
raises `ProxyHeaderError` naming what was wrong. Whatever followed the header in the same
read is `trailing`, left untouched: it is the start of the SMPP stream.

Rules it enforces:
1. Bounded. A v1 line is at most 107 bytes including CRLF (spec 2.1); v2's 16-bit length
   field is the peer's, so anything over `max_v2_length` is refused before it is buffered.
   The buffer never holds more than one header, and the search for CRLF resumes where it
   stopped, so a header dripped one byte per read costs O(n) in total.
2. Early refusal. Bytes that cannot begin a header (an SMPP command_length, garbage) are
   refused as soon as they differ from both signatures, not after a timeout.
3. Exact reads. `bytes_wanted()` is the most the caller may read next without reading past
   the header. A TLS listener needs that: the bytes after the header are the ClientHello,
   and they must reach the TLS layer, not this parser.
4. LOCAL (v2) and UNKNOWN (v1) carry no usable address (a health check, or a proxy that does
   not know): `source` is None and the connection's own peer address stands.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "MAX_V1_LENGTH",
    "MAX_V2_LENGTH",
    "NEED_DATA",
    "NeedData",
    "ProxyHeader",
    "ProxyHeaderError",
    "ProxyHeaderReader",
    "ProxyRejection",
]

V1_SIGNATURE = b"PROXY "
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
# Spec 2.1: "a receiver may wait for up to 107 bytes": the longest TCP6 line with CRLF.
MAX_V1_LENGTH = 107
# Spec 2.2: the largest address block is 216 bytes (AF_UNIX); TLVs come on top. HAProxy's
# own TLVs (ALPN, authority, unique-id up to 128, SSL details) fit in a few hundred bytes.
MAX_V2_LENGTH = 1024
_V2_FIXED = 16
_V2_FIXED_STRUCT = struct.Struct(">BBH")
_TLV_HEAD = 3
# The shortest v1 lines, by protocol word (spec 2.1), with CRLF.
_V1_SHORTEST = {b"UNKNOWN": len(b"PROXY UNKNOWN\r\n"), b"TCP4": 32, b"TCP6": 22}
_V1_SHORTEST_ANY = min(_V1_SHORTEST.values())
# Spec 2.2, byte 14: family << 4 | transport; the address block each needs, at least.
_INET_STREAM = 0x11
_INET6_STREAM = 0x21
_UNSPEC = 0x00
_UNIX_STREAM = 0x31
_ADDRESS_BLOCK = {_INET_STREAM: 12, _INET6_STREAM: 36, _UNSPEC: 0, _UNIX_STREAM: 216}
_LOCAL = 0x0
_PROXY = 0x1
_V1_PRINTABLE = frozenset(range(0x20, 0x7F))
_CR, _LF = 0x0D, 0x0A
# The CR of a 107-byte line is its 106th byte.
_V1_LAST_CR = MAX_V1_LENGTH - 2


class ProxyRejection(enum.Enum):
    """Why a connection's header was refused; also the metric label."""

    MISSING = "missing"  # the connection did not start with a PROXY signature
    MALFORMED = "malformed"  # a signature, then something the spec does not allow
    TOO_LONG = "too_long"  # over 107 bytes (v1) or a v2 length over the bound
    TRUNCATED = "truncated"  # the peer closed in the middle of the header


class ProxyHeaderError(Exception):
    """The peer (the proxy, or whoever pretends to be one) broke the PROXY protocol."""

    def __init__(self, rejection: ProxyRejection, detail: str) -> None:
        super().__init__(f"{rejection.value}: {detail}")
        self.rejection = rejection
        self.detail = detail


class NeedData:
    """Sentinel: the header is not complete yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyHeader:
    """A complete header. `source`/`destination` are (address, port) as the proxy saw the
    client's connection; None for LOCAL, UNKNOWN and address families without an IP."""

    version: int
    local: bool = False
    source: tuple[str, int] | None = None
    destination: tuple[str, int] | None = None
    length: int = 0


class ProxyHeaderReader:
    """Reads one PROXY header from the start of a connection (v1 or v2, either accepted)."""

    __slots__ = ("_buffer", "_done", "_eof", "_max_v2_length", "_searched", "trailing")

    def __init__(self, *, max_v2_length: int = MAX_V2_LENGTH) -> None:
        if max_v2_length < _ADDRESS_BLOCK[_INET6_STREAM]:
            raise ValueError("max_v2_length must hold at least an IPv6 address block (36)")
        self._max_v2_length = max_v2_length
        self._buffer = bytearray()
        self._searched = 0  # where the CRLF search of a v1 line resumes
        self._eof = False
        self._done = False
        self.trailing = b""

    def receive_data(self, data: bytes) -> None:
        """Store `data`; b"" means the peer closed."""
        if self._done:
            raise RuntimeError("the header is complete; later bytes belong to the SMPP stream")
        if data:
            self._buffer += data
        else:
            self._eof = True

    def bytes_wanted(self) -> int:
        """The most bytes that can be read next without reading past the header (>= 1)."""
        buffer = self._buffer
        if not buffer:
            return min(_V1_SHORTEST_ANY, _V2_FIXED)
        if buffer[0] == V2_SIGNATURE[0]:
            if len(buffer) < _V2_FIXED:
                return _V2_FIXED - len(buffer)
            length = int.from_bytes(buffer[14:16], "big")
            return max(1, _V2_FIXED + length - len(buffer))
        shortest = _V1_SHORTEST_ANY
        for word, size in _V1_SHORTEST.items():
            if buffer.startswith(V1_SIGNATURE + word):
                shortest = size
        # Without its CRLF the line needs two more bytes, one if it already ends in CR.
        at_least = 1 if buffer.endswith(b"\r") else 2
        return max(shortest - len(buffer), at_least)

    def next_header(self) -> ProxyHeader | NeedData:
        if self._done:
            raise RuntimeError("the header was already read")
        buffer = self._buffer
        if not buffer:
            if self._eof:
                raise ProxyHeaderError(ProxyRejection.MISSING, "closed before any byte")
            return NEED_DATA
        _check_signature(buffer)
        header = self._v2() if buffer[0] == V2_SIGNATURE[0] else self._v1()
        if header is NEED_DATA:
            if self._eof:
                raise ProxyHeaderError(
                    ProxyRejection.TRUNCATED, f"closed after {len(buffer)} bytes of a header"
                )
            return NEED_DATA
        assert isinstance(header, ProxyHeader)
        self.trailing = bytes(buffer[header.length :])
        self._buffer = bytearray()
        self._done = True
        return header

    def _v1(self) -> ProxyHeader | NeedData:
        buffer = self._buffer
        index = self._searched
        limit = min(len(buffer), _V1_LAST_CR + 1)
        while index < limit:
            byte = buffer[index]
            if byte == _CR:
                if index + 1 == len(buffer):
                    break  # its LF has not arrived yet; look at this CR again next time
                if buffer[index + 1] != _LF:
                    raise ProxyHeaderError(ProxyRejection.MALFORMED, "v1 CR without LF")
                return _parse_v1_line(bytes(buffer[:index]), index + 2)
            if byte not in _V1_PRINTABLE:
                raise ProxyHeaderError(ProxyRejection.MALFORMED, f"v1 line has byte 0x{byte:02x}")
            index += 1
        self._searched = index
        if index > _V1_LAST_CR:
            raise ProxyHeaderError(
                ProxyRejection.TOO_LONG, f"no CRLF within {MAX_V1_LENGTH} bytes (v1)"
            )
        return NEED_DATA

    def _v2(self) -> ProxyHeader | NeedData:
        buffer = self._buffer
        if len(buffer) < _V2_FIXED:
            return NEED_DATA
        version_command, family, length = _V2_FIXED_STRUCT.unpack_from(buffer, 12)
        version, command = version_command >> 4, version_command & 0x0F
        if version != 2:
            raise ProxyHeaderError(ProxyRejection.MALFORMED, f"v2 signature, version {version}")
        if command not in (_LOCAL, _PROXY):
            raise ProxyHeaderError(ProxyRejection.MALFORMED, f"v2 command 0x{command:x}")
        if length > self._max_v2_length:
            raise ProxyHeaderError(
                ProxyRejection.TOO_LONG, f"v2 length {length} over {self._max_v2_length}"
            )
        total = _V2_FIXED + length
        if len(buffer) < total:
            return NEED_DATA
        block = bytes(buffer[_V2_FIXED:total])
        if command == _LOCAL:
            # Spec 2.2: for LOCAL the receiver must ignore the address information.
            return ProxyHeader(version=2, local=True, length=total)
        return _parse_v2_addresses(family, block, total)


def _check_signature(buffer: bytearray) -> None:
    """Rule 2: refuse as soon as the bytes differ from both signatures."""
    head = bytes(buffer[: len(V2_SIGNATURE)])
    if V2_SIGNATURE.startswith(head) or V1_SIGNATURE.startswith(head[: len(V1_SIGNATURE)]):
        return
    raise ProxyHeaderError(ProxyRejection.MISSING, f"starts with {head[:8].hex()}, no signature")


def _parse_v1_line(line: bytes, length: int) -> ProxyHeader:
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[1] == b"UNKNOWN":
        # Spec 2.1: after UNKNOWN the receiver must ignore everything up to the CRLF.
        return ProxyHeader(version=1, length=length)
    if len(parts) != 6 or parts[1] not in (b"TCP4", b"TCP6"):
        raise ProxyHeaderError(
            ProxyRejection.MALFORMED,
            "v1 line is not 'PROXY TCP4|TCP6 <src> <dst> <sport> <dport>' (single spaces)",
        )
    family = 4 if parts[1] == b"TCP4" else 6
    source = _v1_address(parts[2], family)
    destination = _v1_address(parts[3], family)
    return ProxyHeader(
        version=1,
        source=(source, _v1_port(parts[4])),
        destination=(destination, _v1_port(parts[5])),
        length=length,
    )


def _v1_address(raw: bytes, family: int) -> str:
    text = raw.decode("ascii")
    try:
        if "%" in text:  # a scope id names an interface of the proxy's host, not the client
            raise ValueError(text)
        address = ipaddress.IPv4Address(text) if family == 4 else ipaddress.IPv6Address(text)
    except ValueError:
        raise ProxyHeaderError(
            ProxyRejection.MALFORMED, f"v1 {text[:45]!r} is not an IPv{family} address"
        ) from None
    return str(address)


def _v1_port(raw: bytes) -> int:
    # Spec 2.1: a decimal integer 0..65535; no sign, no spaces, at most five digits.
    if not raw.isdigit() or len(raw) > 5 or (len(raw) > 1 and raw[0:1] == b"0"):
        raise ProxyHeaderError(ProxyRejection.MALFORMED, f"v1 port {raw[:8]!r}")
    port = int(raw)
    if port > 65_535:
        raise ProxyHeaderError(ProxyRejection.MALFORMED, f"v1 port {port} over 65535")
    return port


def _parse_v2_addresses(family: int, block: bytes, total: int) -> ProxyHeader:
    needed = _ADDRESS_BLOCK.get(family)
    if needed is None:
        raise ProxyHeaderError(
            ProxyRejection.MALFORMED, f"v2 family/transport 0x{family:02x} (not a stream)"
        )
    if len(block) < needed:
        raise ProxyHeaderError(
            ProxyRejection.MALFORMED,
            f"v2 family 0x{family:02x} needs {needed} address bytes, length is {len(block)}",
        )
    _check_tlvs(block[needed:])
    if family == _INET_STREAM:
        source = str(ipaddress.IPv4Address(block[0:4]))
        destination = str(ipaddress.IPv4Address(block[4:8]))
        ports = struct.unpack_from(">HH", block, 8)
    elif family == _INET6_STREAM:
        source = str(ipaddress.IPv6Address(block[0:16]))
        destination = str(ipaddress.IPv6Address(block[16:32]))
        ports = struct.unpack_from(">HH", block, 32)
    else:
        # UNSPEC, or a UNIX socket: no IP address to judge; the connection's own stands.
        return ProxyHeader(version=2, length=total)
    return ProxyHeader(
        version=2,
        source=(source, ports[0]),
        destination=(destination, ports[1]),
        length=total,
    )


def _check_tlvs(tlvs: bytes) -> None:
    """Spec 2.2.7: TLVs we do not use are skipped, but each must fit inside the header."""
    offset = 0
    while offset < len(tlvs):
        if len(tlvs) - offset < _TLV_HEAD:
            raise ProxyHeaderError(ProxyRejection.MALFORMED, "v2 TLV cut short")
        (size,) = struct.unpack_from(">H", tlvs, offset + 1)
        offset += _TLV_HEAD + size
        if offset > len(tlvs):
            raise ProxyHeaderError(ProxyRejection.MALFORMED, "v2 TLV runs past the header")
