"""The PROXY protocol header reader (HAProxy proxy-protocol.txt v1 §2.1, v2 §2.2), no sockets.

Every valid header is fed whole, one byte at a time, in the reader's own exact reads
(bytes_wanted), and followed by SMPP bytes that must come out untouched as `trailing`.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.server.proxy_protocol import (
    MAX_V1_LENGTH,
    MAX_V2_LENGTH,
    NEED_DATA,
    ProxyHeader,
    ProxyHeaderError,
    ProxyHeaderReader,
    ProxyRejection,
)

SIGNATURE = bytes.fromhex("0d0a0d0a000d0a515549540a")
# Captured from HAProxy 2.6 with send-proxy-v2, a client bound to 127.0.0.2.
HAPROXY_V2_TCP4 = bytes.fromhex("0d0a0d0a000d0a515549540a 2111000c 7f000002 7f000001 a2c5 c025")
# Captured from HAProxy 2.6's check-send-proxy health check: v2 LOCAL, UNSPEC, length 0.
HAPROXY_V2_LOCAL = bytes.fromhex("0d0a0d0a000d0a515549540a 20000000")
# The start of a bind_transmitter (command_length 0x27, command_id 0x02).
SMPP_BYTES = bytes.fromhex("00000027000000020000000000000001")


def v2(command: int, family: int, block: bytes) -> bytes:
    return SIGNATURE + struct.pack(">BBH", 0x20 | command, family, len(block)) + block


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">BH", kind, len(value)) + value


def read_whole(raw: bytes) -> ProxyHeaderReader:
    reader = ProxyHeaderReader()
    reader.receive_data(raw)
    return reader


def read_header(raw: bytes) -> ProxyHeader:
    header = read_whole(raw).next_header()
    assert isinstance(header, ProxyHeader)
    return header


def feed_three_ways(raw: bytes, expected: ProxyHeader) -> None:
    whole = read_whole(raw)
    assert whole.next_header() == expected
    assert whole.trailing == b""

    by_byte = ProxyHeaderReader()
    for index, byte in enumerate(raw):
        by_byte.receive_data(bytes([byte]))
        result = by_byte.next_header()
        if index < len(raw) - 1:
            assert result is NEED_DATA, f"complete after {index + 1} of {len(raw)} bytes"
    assert result == expected

    exact = ProxyHeaderReader()
    offset = 0
    result = NEED_DATA
    while result is NEED_DATA:
        wanted = exact.bytes_wanted()
        assert wanted >= 1
        assert offset + wanted <= len(raw), "bytes_wanted would read past the header"
        exact.receive_data(raw[offset : offset + wanted])
        offset += wanted
        result = exact.next_header()
    assert result == expected
    assert offset == len(raw)

    with_smpp = read_whole(raw + SMPP_BYTES)
    assert with_smpp.next_header() == expected
    assert with_smpp.trailing == SMPP_BYTES


def reject(raw: bytes, rejection: ProxyRejection, *, eof: bool = False) -> ProxyHeaderError:
    reader = read_whole(raw)
    if eof:
        reader.receive_data(b"")
    with pytest.raises(ProxyHeaderError) as caught:
        reader.next_header()
    assert caught.value.rejection is rejection
    return caught.value


# --- version 1 ------------------------------------------------------------------------------


def test_v1_tcp4_gives_the_client_address_and_port() -> None:
    raw = b"PROXY TCP4 192.0.2.7 198.51.100.1 41669 2775\r\n"
    feed_three_ways(
        raw,
        ProxyHeader(
            version=1,
            source=("192.0.2.7", 41669),
            destination=("198.51.100.1", 2775),
            length=len(raw),
        ),
    )


def test_v1_tcp6_gives_the_client_address_in_canonical_form() -> None:
    raw = b"PROXY TCP6 2001:DB8:0:0:0:0:0:7 2001:db8::1 65535 0\r\n"
    feed_three_ways(
        raw,
        ProxyHeader(
            version=1,
            source=("2001:db8::7", 65535),
            destination=("2001:db8::1", 0),
            length=len(raw),
        ),
    )


def test_v1_unknown_carries_no_address_and_its_rest_is_ignored() -> None:
    raw = b"PROXY UNKNOWN ffff::1 whatever the proxy wrote\r\n"
    feed_three_ways(raw, ProxyHeader(version=1, length=len(raw)))


def test_v1_shortest_unknown_line_is_read_exactly() -> None:
    raw = b"PROXY UNKNOWN\r\n"
    feed_three_ways(raw, ProxyHeader(version=1, length=len(raw)))


def test_v1_longest_line_of_107_bytes_is_accepted() -> None:
    # Spec 2.1's worst case: UNKNOWN followed by the longest TCP6 addresses and ports.
    address = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    raw = f"PROXY UNKNOWN {address} {address} 65535 65535\r\n".encode()
    assert len(raw) == MAX_V1_LENGTH
    assert read_header(raw) == ProxyHeader(version=1, length=MAX_V1_LENGTH)
    tcp6 = f"PROXY TCP6 {address} {address} 65535 65535\r\n".encode()
    assert read_header(tcp6).source == (address, 65535)


def test_v1_without_crlf_within_107_bytes_is_too_long() -> None:
    error = reject(b"PROXY UNKNOWN " + b"x" * 100, ProxyRejection.TOO_LONG)
    assert "107" in str(error)


def test_v1_whose_crlf_would_be_byte_108_is_too_long() -> None:
    raw = b"PROXY UNKNOWN " + b"x" * (MAX_V1_LENGTH - 15) + b"\r\n"
    assert len(raw) == MAX_V1_LENGTH + 1
    reject(raw, ProxyRejection.TOO_LONG)


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 192.0.2.7 198.51.100.1 41669\r\n",  # a port missing
        b"PROXY TCP4 192.0.2.7  198.51.100.1 1 2\r\n",  # two spaces
        b"PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n",  # IPv6 under TCP4
        b"PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",  # IPv4 under TCP6
        b"PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n",  # a scope id
        b"PROXY TCP4 192.0.2.007 198.51.100.1 1 2\r\n",  # leading zeros in an octet
        b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",  # port over 65535
        b"PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n",  # a sign
        b"PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n",  # a leading zero
        b"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",  # not a stream protocol
        b"PROXY tcp4 192.0.2.7 198.51.100.1 1 2\r\n",  # the words are upper case
        b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\n",  # LF without CR (then CR later)
    ],
)
def test_v1_line_the_spec_does_not_allow_is_malformed(line: bytes) -> None:
    if line.endswith(b" 2\n"):
        line += b"\r\n"
    reject(line, ProxyRejection.MALFORMED)


def test_v1_cr_not_followed_by_lf_is_malformed_at_once() -> None:
    reject(b"PROXY TCP4\rX", ProxyRejection.MALFORMED)


def test_v1_control_byte_is_refused_without_waiting_for_the_crlf() -> None:
    reject(b"PROXY TCP4 \x00", ProxyRejection.MALFORMED)


def test_v1_header_cut_by_the_peer_closing_is_truncated() -> None:
    reject(b"PROXY TCP4 192.0.2.7 198.5", ProxyRejection.TRUNCATED, eof=True)


def test_v1_cr_at_the_end_of_a_read_waits_for_its_lf() -> None:
    reader = read_whole(b"PROXY UNKNOWN\r")
    assert reader.next_header() is NEED_DATA
    assert reader.bytes_wanted() == 1
    reader.receive_data(b"\n")
    assert reader.next_header() == ProxyHeader(version=1, length=15)


# --- version 2 ------------------------------------------------------------------------------


def test_v2_header_captured_from_haproxy_gives_the_client_address() -> None:
    feed_three_ways(
        HAPROXY_V2_TCP4,
        ProxyHeader(
            version=2,
            source=("127.0.0.2", 0xA2C5),
            destination=("127.0.0.1", 0xC025),
            length=28,
        ),
    )


def test_v2_local_health_check_from_haproxy_carries_no_address() -> None:
    feed_three_ways(HAPROXY_V2_LOCAL, ProxyHeader(version=2, local=True, length=16))


def test_v2_local_ignores_whatever_address_block_it_has() -> None:
    raw = v2(0x0, 0x11, bytes(12))
    assert read_header(raw) == ProxyHeader(version=2, local=True, length=28)


def test_v2_tcp6_gives_the_client_address() -> None:
    source = bytes.fromhex("20010db8000000000000000000000007")
    destination = bytes.fromhex("20010db8000000000000000000000001")
    raw = v2(0x1, 0x21, source + destination + struct.pack(">HH", 40000, 2775))
    feed_three_ways(
        raw,
        ProxyHeader(
            version=2,
            source=("2001:db8::7", 40000),
            destination=("2001:db8::1", 2775),
            length=52,
        ),
    )


def test_v2_tlvs_after_the_addresses_are_skipped() -> None:
    block = bytes.fromhex("c0000207 c6336401 9c45 0ad7")
    tlvs = tlv(0x01, b"smpp") + tlv(0x05, b"unique-id-1234") + tlv(0x04, b"")
    raw = v2(0x1, 0x11, block + tlvs)
    feed_three_ways(
        raw,
        ProxyHeader(
            version=2,
            source=("192.0.2.7", 0x9C45),
            destination=("198.51.100.1", 0x0AD7),
            length=16 + 12 + len(tlvs),
        ),
    )


def test_v2_unspec_and_unix_proxy_headers_carry_no_address() -> None:
    assert read_header(v2(0x1, 0x00, b"")) == ProxyHeader(version=2, length=16)
    assert read_header(v2(0x1, 0x31, bytes(216))) == ProxyHeader(version=2, length=232)


def test_v2_length_over_the_bound_is_refused_before_the_rest_arrives() -> None:
    head = SIGNATURE + struct.pack(">BBH", 0x21, 0x11, MAX_V2_LENGTH + 1)
    error = reject(head, ProxyRejection.TOO_LONG)
    assert str(MAX_V2_LENGTH + 1) in str(error)


def test_v2_length_at_the_bound_is_read() -> None:
    padding = tlv(0x04, bytes(MAX_V2_LENGTH - 12 - 3))
    header = read_header(v2(0x1, 0x11, bytes(12) + padding))
    assert header.length == 16 + MAX_V2_LENGTH


def test_v2_bound_is_configurable() -> None:
    reader = ProxyHeaderReader(max_v2_length=64)
    reader.receive_data(SIGNATURE + struct.pack(">BBH", 0x21, 0x11, 65))
    with pytest.raises(ProxyHeaderError, match="too_long"):
        reader.next_header()


def test_v2_bound_too_small_for_an_ipv6_block_is_a_local_error() -> None:
    with pytest.raises(ValueError, match="36"):
        ProxyHeaderReader(max_v2_length=35)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (SIGNATURE + bytes([0x11, 0x11, 0, 12]) + bytes(12), "version 1 in a v2 header"),
        (SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12), "version 3"),
        (SIGNATURE + bytes([0x22, 0x11, 0, 12]) + bytes(12), "command 2"),
        (v2(0x1, 0x11, bytes(11)), "TCP4 with fewer than 12 address bytes"),
        (v2(0x1, 0x21, bytes(35)), "TCP6 with fewer than 36 address bytes"),
        (v2(0x1, 0x12, bytes(12)), "UDP over IPv4"),
        (v2(0x1, 0x41, bytes(12)), "an unknown family"),
        (v2(0x1, 0x11, bytes(12) + b"\x01\x00"), "a TLV head cut short"),
        (v2(0x1, 0x11, bytes(12) + b"\x01\x00\x05abc"), "a TLV running past the header"),
    ],
)
def test_v2_header_the_spec_does_not_allow_is_malformed(raw: bytes, why: str) -> None:
    reject(raw, ProxyRejection.MALFORMED)


def test_v2_header_cut_by_the_peer_closing_is_truncated() -> None:
    reject(HAPROXY_V2_TCP4[:20], ProxyRejection.TRUNCATED, eof=True)
    reject(SIGNATURE[:5], ProxyRejection.TRUNCATED, eof=True)


# --- no header at all -----------------------------------------------------------------------


def test_smpp_bytes_without_a_header_are_missing_at_the_first_byte() -> None:
    error = reject(SMPP_BYTES[:1], ProxyRejection.MISSING)
    assert "00" in error.detail


def test_connection_closed_before_any_byte_is_missing() -> None:
    reject(b"", ProxyRejection.MISSING, eof=True)


def test_text_that_is_not_proxy_is_missing() -> None:
    reject(b"GET / HTTP/1.1\r\n", ProxyRejection.MISSING)
    reject(b"PROXYX", ProxyRejection.MISSING)


def test_a_signature_prefix_alone_waits_for_more() -> None:
    for partial in (b"P", b"PROXY", SIGNATURE[:1], SIGNATURE[:11]):
        assert read_whole(partial).next_header() is NEED_DATA


def test_nothing_is_read_after_the_header_is_complete() -> None:
    reader = read_whole(HAPROXY_V2_LOCAL)
    reader.next_header()
    with pytest.raises(RuntimeError):
        reader.receive_data(SMPP_BYTES)
    with pytest.raises(RuntimeError):
        reader.next_header()


# --- invariants -----------------------------------------------------------------------------


@given(st.binary(max_size=400), st.integers(min_value=1, max_value=64))
def test_any_bytes_give_a_header_need_data_or_a_proxy_header_error(raw: bytes, chunk: int) -> None:
    reader = ProxyHeaderReader()
    for offset in range(0, len(raw), chunk):
        reader.receive_data(raw[offset : offset + chunk])
        try:
            result = reader.next_header()
        except ProxyHeaderError:
            return
        if isinstance(result, ProxyHeader):
            assert result.length <= MAX_V1_LENGTH or result.length <= 16 + MAX_V2_LENGTH
            assert reader.trailing == raw[result.length :]
            return
    # Still waiting: never more than one header's worth is buffered.
    assert len(raw) < 16 + MAX_V2_LENGTH


@given(st.binary(min_size=1, max_size=200))
def test_bytes_after_a_v2_signature_prefix_give_need_data_or_an_error(tail: bytes) -> None:
    reader = read_whole(SIGNATURE + tail)
    try:
        result = reader.next_header()
    except ProxyHeaderError:
        return
    if isinstance(result, ProxyHeader):
        assert result.version == 2
        assert reader.trailing == (SIGNATURE + tail)[result.length :]


@given(
    st.ip_addresses(v=4),
    st.ip_addresses(v=4),
    st.integers(0, 65535),
    st.integers(0, 65535),
)
def test_any_v1_tcp4_line_reads_back_what_was_written(
    source: object, destination: object, sport: int, dport: int
) -> None:
    raw = f"PROXY TCP4 {source} {destination} {sport} {dport}\r\n".encode()
    header = read_header(raw + SMPP_BYTES)
    assert header.source == (str(source), sport)
    assert header.destination == (str(destination), dport)


@given(st.ip_addresses(v=6), st.integers(0, 65535))
def test_any_v2_tcp6_header_reads_back_what_was_written(source: object, port: int) -> None:
    import ipaddress

    packed = ipaddress.IPv6Address(str(source)).packed
    raw = v2(0x1, 0x21, packed + packed + struct.pack(">HH", port, port))
    assert read_header(raw).source == (str(source), port)
