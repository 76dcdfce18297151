"""The codec's one error type, saying what broke, where, and what a server answers.

Modelled on h11's `error_status_hint` and h2's per-class error codes: every failure carries
the `command_status` to answer with, and whether the byte stream is still framed
(`in_sync`). A bad body costs one error reply; only a lost frame (command_length < 16 or
over the maximum) costs the connection (SMPP 3.4 §4.3: generic_nack, then close).
"""

from __future__ import annotations

from bridge.pdu.status import CommandStatus, status_name


class PduError(Exception):
    """A PDU that cannot be decoded or encoded.

    command_id and sequence_number are those of the offending PDU when its header could be
    read (so the answer can echo them), else None. `offset` is the byte offset from the start
    of the PDU where decoding stopped.
    """

    def __init__(
        self,
        message: str,
        *,
        command_status: int,
        command_id: int | None = None,
        sequence_number: int | None = None,
        field: str | None = None,
        offset: int | None = None,
        in_sync: bool = True,
    ) -> None:
        self.message = message
        self.command_status = command_status
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.field = field
        self.offset = offset
        self.in_sync = in_sync
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.command_id is not None:
            where.append(f"command_id=0x{self.command_id:08x}")
        if self.field is not None:
            where.append(f"field={self.field}")
        if self.offset is not None:
            where.append(f"offset={self.offset}")
        if not self.in_sync:
            where.append("stream out of sync")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.message}{suffix} -> {status_name(self.command_status)}"


__all__ = ["CommandStatus", "PduError"]
