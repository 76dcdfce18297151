"""Small builders shared by the codec tests: raw PDUs from a header and a body."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from bridge.pdu import PduError, PduSplitter


def frame(command_id: int, body: bytes = b"", *, status: int = 0, sequence: int = 1) -> bytes:
    """A PDU with a correct command_length around `body`."""
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def drain(splitter: PduSplitter) -> list[bytes]:
    frames = []
    while (frame_octets := splitter.next_frame()) is not None:
        frames.append(frame_octets)
    return frames


def feed_three_ways(raw: bytes, expected: list[bytes], *, max_pdu_size: int = 65_536) -> None:
    """Feed `raw` whole, one byte at a time, and followed by trailing bytes: every reader
    must give the same frames however the bytes arrive.

    The trailing bytes are the start of another PDU, which must stay buffered, untouched.
    """
    whole = PduSplitter(max_pdu_size)
    whole.feed(raw)
    assert drain(whole) == expected
    assert whole.buffered == 0

    by_byte = PduSplitter(max_pdu_size)
    frames: list[bytes] = []
    for index in range(len(raw)):
        by_byte.feed(raw[index : index + 1])
        frames.extend(drain(by_byte))
    assert frames == expected
    assert by_byte.buffered == 0

    trailing = bytes.fromhex("0000001000000015")  # half of an enquire_link header
    with_tail = PduSplitter(max_pdu_size)
    with_tail.feed(raw + trailing)
    assert drain(with_tail) == expected
    assert with_tail.buffered == len(trailing)


def raises_pdu_error(call: Any, *args: Any) -> PduError:
    with pytest.raises(PduError) as caught:
        call(*args)
    return caught.value
