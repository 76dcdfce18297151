"""The SubmitHandler `serve` uses while the message pipeline (issue 5) is not built.

It never pretends a message was taken: submit_sm, submit_multi and data_sm are answered
ESME_RSYSERR (0x08, a temporary system error, so the ESME keeps the message and retries
later), and query_sm / cancel_sm / replace_sm get their own failure statuses because no
message was ever accepted. Binds, keep-alives, throttling and graceful stop all work.
"""

from __future__ import annotations

import logging

from bridge.pdu import (
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
)
from bridge.server import SessionContext, SubmitRequest

log = logging.getLogger(__name__)

NOT_BUILT = (
    "message forwarding to iSMS is not built yet (issue 5): submit_sm, submit_multi and "
    "data_sm are answered ESME_RSYSERR and nothing is sent"
)


class ForwardingNotBuilt:
    """Answers every message with ESME_RSYSERR and says why in the log (the first time; the
    server's `answered` line shows each one)."""

    __slots__ = ("_told",)

    def __init__(self) -> None:
        self._told = False

    def parts(self, request: SubmitRequest) -> int:
        # Throttling still applies, as it will with the pipeline (one part per PDU here:
        # without decoding the text, a long message_payload cannot be counted by parts).
        if isinstance(request, SubmitMulti):
            return max(1, len(request.dest_addresses))
        return 1 if isinstance(request, SubmitSm | DataSm) else 0

    async def handle(self, context: SessionContext, request: SubmitRequest) -> Pdu:
        if isinstance(request, SubmitSm | SubmitMulti | DataSm) and not self._told:
            self._told = True
            log.warning("event=forwarding_not_built session=%s %s", context.session_id, NOT_BUILT)
        status = CommandStatus.ESME_RSYSERR
        match request:
            case SubmitSm():
                return SubmitSmResp(command_status=status, message_id=None)
            case SubmitMulti():
                return SubmitMultiResp(command_status=status, message_id=None)
            case DataSm():
                return DataSmResp(command_status=status, message_id=None)
            case QuerySm():
                # SMPP 3.4 §4.8: no message was ever accepted, so none can be found.
                return QuerySmResp(command_status=CommandStatus.ESME_RQUERYFAIL, message_id=None)
            case CancelSm():
                return CancelSmResp(command_status=CommandStatus.ESME_RCANCELFAIL)
            case ReplaceSm():
                return ReplaceSmResp(command_status=CommandStatus.ESME_RREPLACEFAIL)
