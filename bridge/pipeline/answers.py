"""The answer to a request the pipeline handled, under the request's sequence_number (so the
server need not copy it)."""

from __future__ import annotations

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
    UnsuccessSme,
)
from bridge.pipeline.seams import PipelineRequest
from bridge.pipeline.statuses import ROK, SubmitStatus


def response(request: PipelineRequest, status: SubmitStatus) -> Pdu:
    # An error response carries no body (SMPP 3.4 §4.4.2); smpplib reads a bare header fine.
    message_id = status.message_id if status.command_status == ROK else None
    sequence, command_status = request.sequence_number, status.command_status
    match request:
        case SubmitSm():
            return SubmitSmResp(
                sequence_number=sequence, command_status=command_status, message_id=message_id
            )
        case DataSm():
            return DataSmResp(
                sequence_number=sequence, command_status=command_status, message_id=message_id
            )
        case SubmitMulti():
            return SubmitMultiResp(
                sequence_number=sequence, command_status=command_status, message_id=message_id
            )
        case QuerySm():
            return QuerySmResp(
                sequence_number=sequence, command_status=command_status, message_id=None
            )
        case CancelSm():
            return CancelSmResp(sequence_number=sequence, command_status=command_status)
        case ReplaceSm():
            return ReplaceSmResp(sequence_number=sequence, command_status=command_status)


def multi_response(
    command_status: CommandStatus, message_id: str, unsuccess: tuple[UnsuccessSme, ...]
) -> SubmitMultiResp:
    return SubmitMultiResp(
        command_status=command_status, message_id=message_id, unsuccess_sme=unsuccess
    )
