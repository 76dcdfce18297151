"""The answer to a request the pipeline handled, and what one message's requests came to.

A message goes to iSMS as one request per batch of its destinations (sending/requests.py):
one request for a submit_sm or data_sm, as many as its batches for a submit_multi. What they
come to (`answer_of`):
1. A request iSMS refuses fails all of its destinations with that request's status
   (statuses.py); one that raised fails them as an unknown outcome (sending/sender.py).
2. The answer is ESME_ROK when any destination was accepted, with the message_id of the
   first accepted request; `unsuccess` lists every failed destination, in the order given,
   with its own status (a submit_multi_resp carries it as unsuccess_sme). Nothing accepted:
   the first failure's status, and the list.
3. The message's final state (its record's) is the first accepted request's, else the first
   request's; each destination has its own request's (its receipts'); the record traces the
   first result with a trx_id, else the first.

A response carries the request's sequence_number (so the server need not copy it), but for
a submit_multi_resp, whose sequence_number the server sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

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
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    UnsuccessSme,
)
from bridge.pipeline.checks.submission import MultiDestinations, Submission, unsuccess
from bridge.pipeline.outcome.settlement import Delivery, FinalState, final_state
from bridge.pipeline.outcome.statuses import ROK, StatusMapping, SubmitStatus
from bridge.pipeline.seams import MessagePdu, PipelineRequest
from bridge.smpp import error_answer
from bridge.upstream import IsmsMessage, SendResult


@dataclass(slots=True, kw_only=True)
class Answer:
    """What the requests of one message came to (rules 2 and 3)."""

    status: Final[SubmitStatus]
    unsuccess: Final[tuple[UnsuccessSme, ...]]
    overall: Final[FinalState]
    deliveries: Final[list[Delivery]]
    traced: Final[SendResult]


def answer_of(
    submission: Submission,
    requests: Sequence[IsmsMessage],
    results: Sequence[SendResult],
    statuses: StatusMapping,
    new_message_id: Callable[[], str],
    *,
    report_delivered: bool,
) -> Answer:
    """What `requests` (with their `results`, in the same order) came to."""
    destinations = submission.origin.destinations
    if submission.several is None:
        # One destination (a submit_sm's, a data_sm's), one request: its result is the
        # message's.
        result = results[0]
        status = statuses.submit_status(result, new_message_id)
        if status.command_status == ROK:
            state = final_state(result, report_delivered=report_delivered)
            deliveries = [Delivery(destination=destinations[0], state=state)]
            return Answer(
                status=status, unsuccess=(), overall=state, deliveries=deliveries, traced=result
            )
    status_of: dict[str, CommandStatus] = {}
    message_id = ""
    deliveries = []
    accepted: FinalState | None = None
    states: list[FinalState] = []
    # The first SME address of each number, in the order the requests carry the numbers.
    addresses = iter(destinations)
    for request, result in zip(requests, results, strict=True):
        status = statuses.submit_status(result, new_message_id)
        state = final_state(result, report_delivered=report_delivered)
        states.append(state)
        for number in request.destinations:
            status_of[number] = status.command_status
            deliveries.append(Delivery(destination=next(addresses), state=state))
        if status.command_status == ROK:
            message_id = message_id or status.message_id
        if accepted is None and state.message_state.is_success:
            accepted = state
    failed = _failed(submission, status_of)
    if message_id:
        answer = SubmitStatus(command_status=ROK, message_id=message_id)
    else:
        answer = SubmitStatus(
            command_status=CommandStatus(failed[0].error_status_code), message_id=""
        )
    return Answer(
        status=answer,
        unsuccess=failed,
        overall=accepted or states[0],
        deliveries=deliveries,
        traced=next((result for result in results if result.trx_id), results[0]),
    )


def _failed(
    submission: Submission, status_of: dict[str, CommandStatus]
) -> tuple[UnsuccessSme, ...]:
    """Every destination that failed, in the order given: refused here, or by its request."""
    several = submission.several
    if several is None:
        [address], [number] = submission.origin.destinations, submission.numbers
        status = status_of[number]
        return () if status == ROK else (unsuccess(address, status),)
    failed: list[UnsuccessSme] = []
    for position, entry in enumerate(several.given):
        refusal = several.refused.get(position)
        if refusal is None:
            given_number = several.number_at[position]
            assert given_number is not None and isinstance(entry, SmeAddress)  # not refused
            status = status_of[given_number]
            if status == ROK:
                continue
            refusal = unsuccess(entry, status)
        failed.append(refusal)
    return tuple(failed)


def submitted(pdu: MessagePdu, status: SubmitStatus, failed: tuple[UnsuccessSme, ...]) -> Pdu:
    """The response to a message PDU: `status`, and for a submit_multi the destinations that
    `failed` (rule 2)."""
    if isinstance(pdu, SubmitMulti):
        return SubmitMultiResp(
            command_status=status.command_status,
            message_id=status.message_id,
            unsuccess_sme=failed,
        )
    return response(pdu, status)


def none_sent(pdu: MessagePdu, several: MultiDestinations) -> Pdu:
    """The response to a message whose every destination was refused: the first refusal's
    status, and the list (rule 2)."""
    failed = several.unsuccess
    status = SubmitStatus(command_status=CommandStatus(failed[0].error_status_code), message_id="")
    return submitted(pdu, status, failed)


def response(request: PipelineRequest, status: SubmitStatus) -> Pdu:
    if status.command_status != ROK:
        # The refusal every request gets, built in one place: its own *_resp with no body
        # (SMPP 3.4 §4.4.2; smpplib reads a bare header fine).
        return error_answer(request.command_id, request.sequence_number, status.command_status)
    sequence = request.sequence_number
    match request:
        case SubmitSm():
            return SubmitSmResp(sequence_number=sequence, message_id=status.message_id)
        case DataSm():
            return DataSmResp(sequence_number=sequence, message_id=status.message_id)
        case SubmitMulti():
            return SubmitMultiResp(sequence_number=sequence, message_id=status.message_id)
        case QuerySm():
            return QuerySmResp(sequence_number=sequence, message_id=None)
        case CancelSm():
            return CancelSmResp(sequence_number=sequence)
        case ReplaceSm():
            return ReplaceSmResp(sequence_number=sequence)
