"""Sans-I/O framing: arbitrary byte chunks in, whole PDU byte strings out.

SMPP 3.4 §3.2 frames every PDU by its 4-octet command_length, so the splitter never looks past
the header. It checks command_length the moment its 4 octets are in, before buffering any
body (h2's frame buffer checks only after the whole frame arrived; with a 32-bit length we
cannot afford that). A length below 16 or above `max_pdu_size` loses the framing for good:
the splitter drops what follows and reports PduError(ESME_RINVCMDLEN, in_sync=False) once the
frames before it have been taken; SMPP 3.4 §4.3 then wants generic_nack and a close.

Cost is O(n) in total however the bytes arrive: each feed() looks only at headers it has not
seen, and a frame is copied out once. The incomplete tail is always shorter than one declared
(and checked) command_length, so a peer can make us hold at most one max_pdu_size of partial
PDU; complete frames wait only until the caller takes them with next_frame().
"""

from __future__ import annotations

from bridge.pdu.errors import PduError
from bridge.pdu.status import ESME_RINVCMDLEN

MIN_PDU_SIZE = 16  # SMPP 3.4 §3.2: the header alone
DEFAULT_MAX_PDU_SIZE = 65_536


class PduSplitter:
    """Feed bytes with feed(); take whole PDUs with next_frame() until it returns None."""

    def __init__(self, max_pdu_size: int = DEFAULT_MAX_PDU_SIZE) -> None:
        if max_pdu_size < MIN_PDU_SIZE:
            raise ValueError(f"max_pdu_size must be at least {MIN_PDU_SIZE}")
        self.max_pdu_size = max_pdu_size
        self._buffer = bytearray()
        # Octets [0, _framed) are whole frames whose lengths were checked.
        self._framed = 0
        self._error: PduError | None = None

    @property
    def buffered(self) -> int:
        """Octets held: complete frames not yet taken plus the incomplete tail."""
        return len(self._buffer)

    @property
    def in_sync(self) -> bool:
        """False once a command_length was out of range: nothing after it can be framed."""
        return self._error is None

    def feed(self, chunk: bytes) -> None:
        """Store a chunk (any size, b"" is fine). Never raises; errors come from next_frame."""
        if self._error is not None or not chunk:
            return
        self._buffer += chunk
        self._advance()

    def next_frame(self) -> bytes | None:
        """The next whole PDU, or None if more bytes are needed.

        Raises PduError (ESME_RINVCMDLEN, in_sync=False) once every frame before a bad
        command_length has been taken, and again on every later call.
        """
        if self._framed:
            length = int.from_bytes(self._buffer[:4])
            frame = bytes(self._buffer[:length])
            del self._buffer[:length]
            self._framed -= length
            return frame
        if self._error is not None:
            raise self._error
        return None

    def _advance(self) -> None:
        buffer = self._buffer
        size = len(buffer)
        while True:
            start = self._framed
            available = size - start
            if available < 4:
                lowest = int.from_bytes(bytes(buffer[start:]).ljust(4, b"\x00"))
                if available and lowest > self.max_pdu_size:
                    # The octets so far already make command_length too large (e.g. "\r\n"
                    # from a non-SMPP port): no need to wait for the rest of it.
                    self._lose_framing(start, lowest, partial=True)
                return
            length = int.from_bytes(buffer[start : start + 4])
            if not MIN_PDU_SIZE <= length <= self.max_pdu_size:
                self._lose_framing(start, length)
                return
            if available < length:
                return
            self._framed = start + length

    def _lose_framing(self, start: int, length: int, *, partial: bool = False) -> None:
        # Nothing from the bad header on is kept: it can never be framed.
        del self._buffer[start:]
        if length < MIN_PDU_SIZE:
            reason = f"command_length {length} is below the 16-octet header"
        else:
            at_least = "at least " if partial else ""
            reason = f"command_length {at_least}{length} exceeds the maximum of {self.max_pdu_size}"
        self._error = PduError(
            reason,
            command_status=ESME_RINVCMDLEN,
            field="command_length",
            offset=0,
            in_sync=False,
        )
