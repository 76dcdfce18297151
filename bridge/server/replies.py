"""The answers the shell itself builds: a request's own *_resp carrying an error status."""

from __future__ import annotations

import dataclasses

from bridge.pdu import PDU_CLASSES, RESPONSE_BIT, Pdu


def error_response(request: Pdu, status: int) -> Pdu:
    """The request's own *_resp with `status` and no body (SMPP 3.4 §4.4.2: the body of an
    error response is not returned; smpplib and other clients read a bare header fine)."""
    cls = PDU_CLASSES[request.command_id | RESPONSE_BIT]
    fields = {f.name for f in dataclasses.fields(cls)}
    no_body: dict[str, None] = {"message_id": None} if "message_id" in fields else {}
    return cls(command_status=status, sequence_number=request.sequence_number, **no_body)
