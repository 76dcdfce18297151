"""submit_multi (SMPP 3.4 §4.5): destinations in, iSMS batches out, one submit_multi_resp back.

Rules:
1. Each SME address (dest_flag 1) becomes an iSMS number by numbers.py; one that cannot is
   refused alone (ESME_RINVDSTADR) and the others still go. Distribution lists (dest_flag 2)
   are held by an SMSC, and iSMS has none: each is refused with ESME_RCNTSUBDL (0x44).
2. An address given twice (the same iSMS number) is sent once: iSMS would charge twice.
3. The numbers go in batches of `max_destinations_per_request` (the API page: at most 30
   per push), in the order given. A batch iSMS refuses fails all of its destinations with
   that batch's status. A batch whose request raised (a bug, not an iSMS answer) may have
   reached iSMS: its destinations fail as an unknown outcome, logged once with its
   reference, and the other batches keep their answers (the ESME resends only what failed).
4. submit_multi_resp: ESME_ROK when any destination was accepted, with the message_id of the
   first accepted batch; `unsuccess_sme` lists every failed destination, in the order given,
   with its own status. Nothing accepted: the first failure's status, and the list.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.pdu import CommandStatus, DistributionList, SmeAddress, SubmitMulti, UnsuccessSme
from bridge.pipeline.numbers import NumberRules
from bridge.pipeline.reassembly import MessageOrigin
from bridge.pipeline.statuses import SubmitStatus
from bridge.pipeline.submission import Refusal, destination
from bridge.upstream import IsmsMessage, Outcome, SendResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiDestinations:
    """numbers: unique iSMS numbers in order; address_of: the first SME address of each."""

    numbers: tuple[str, ...]
    address_of: dict[str, SmeAddress]
    refused: dict[int, UnsuccessSme]  # by position in dest_addresses
    number_at: dict[int, str]  # by position, for the addresses that became numbers
    reasons: tuple[str, ...]  # one log phrase per refusal


def resolve(pdu: SubmitMulti, rules: NumberRules) -> MultiDestinations:
    if not pdu.dest_addresses:
        raise Refusal(
            CommandStatus.ESME_RINVNUMDESTS,
            "submit_multi with number_of_dests 0",
            kind="destination",
        )
    numbers: list[str] = []
    address_of: dict[str, SmeAddress] = {}
    refused: dict[int, UnsuccessSme] = {}
    number_at: dict[int, str] = {}
    reasons: list[str] = []
    for position, entry in enumerate(pdu.dest_addresses):
        match entry:
            case DistributionList():
                refused[position] = UnsuccessSme(
                    destination_addr=entry.dl_name,
                    error_status_code=CommandStatus.ESME_RCNTSUBDL,
                )
                reasons.append(f"distribution list {entry.dl_name!r}: iSMS has none")
            case SmeAddress():
                try:
                    number = destination(
                        entry.dest_addr_ton, entry.dest_addr_npi, entry.destination_addr, rules
                    )
                except Refusal as refusal:
                    refused[position] = _unsuccess(entry, refusal.command_status)
                    reasons.append(refusal.reason)
                    continue
                number_at[position] = number
                if number not in address_of:
                    address_of[number] = entry
                    numbers.append(number)
    return MultiDestinations(
        numbers=tuple(numbers),
        address_of=address_of,
        refused=refused,
        number_at=number_at,
        reasons=tuple(reasons),
    )


def message_origin(
    system_id: str, pdu: SubmitMulti, destinations: MultiDestinations
) -> MessageOrigin:
    """Who sent the message and to whom: every destination iSMS gets, each with its own
    TON/NPI (the reassembly key of a long submit_multi, and its receipts' addresses)."""
    return MessageOrigin(
        account=system_id,
        source_addr_ton=pdu.source_addr_ton,
        source_addr_npi=pdu.source_addr_npi,
        source_addr=pdu.source_addr,
        destinations=tuple(destinations.address_of.values()),
    )


def batch_results(
    messages: Sequence[IsmsMessage], sent: Sequence[SendResult | BaseException]
) -> list[SendResult]:
    """Each batch's result from `asyncio.gather(..., return_exceptions=True)`.

    A batch that raised an Exception becomes an UNKNOWN outcome: its request may have been
    written. A CancelledError (or any other BaseException) is re-raised, never taken for
    a failed batch: the request is being cancelled, not answered.
    """
    for outcome in sent:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome
    return [
        _raised(message, outcome) if isinstance(outcome, BaseException) else outcome
        for message, outcome in zip(messages, sent, strict=True)
    ]


def _raised(message: IsmsMessage, error: BaseException) -> SendResult:
    log.error(
        "event=batch_failed ref=%s account=%s destinations=%s error=%s; iSMS may have sent "
        "it: check the iSMS portal before resending",
        message.reference,
        message.credentials.username,
        ";".join(message.destinations),
        type(error).__name__,
        exc_info=error,
    )
    return SendResult(
        outcome=Outcome.UNKNOWN,
        code=None,
        trx_id=None,
        mirror="",
        elapsed_s=0.0,
        attempts=0,
        reason=f"the bridge failed sending it ({type(error).__name__})",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOutcome:
    numbers: tuple[str, ...]
    status: SubmitStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiAnswer:
    command_status: CommandStatus
    message_id: str
    unsuccess_sme: tuple[UnsuccessSme, ...]


def answer(
    pdu: SubmitMulti, destinations: MultiDestinations, batches: Sequence[BatchOutcome]
) -> MultiAnswer:
    status_of: dict[str, CommandStatus] = {}
    message_id = ""
    first_failure: CommandStatus | None = None
    for batch in batches:
        status = batch.status.command_status
        for number in batch.numbers:
            status_of[number] = status
        if status == CommandStatus.ESME_ROK:
            message_id = message_id or batch.status.message_id
    unsuccess: list[UnsuccessSme] = []
    for position, entry in enumerate(pdu.dest_addresses):
        failed = destinations.refused.get(position)
        if failed is None:
            status = status_of[destinations.number_at[position]]
            if status == CommandStatus.ESME_ROK:
                continue
            assert isinstance(entry, SmeAddress)
            failed = _unsuccess(entry, status)
        unsuccess.append(failed)
        if first_failure is None:
            first_failure = CommandStatus(failed.error_status_code)
    if message_id:
        return MultiAnswer(
            command_status=CommandStatus.ESME_ROK,
            message_id=message_id,
            unsuccess_sme=tuple(unsuccess),
        )
    assert first_failure is not None  # nothing accepted, so something failed
    return MultiAnswer(command_status=first_failure, message_id="", unsuccess_sme=tuple(unsuccess))


def _unsuccess(address: SmeAddress, status: int) -> UnsuccessSme:
    return UnsuccessSme(
        dest_addr_ton=address.dest_addr_ton,
        dest_addr_npi=address.dest_addr_npi,
        destination_addr=address.destination_addr,
        error_status_code=status,
    )
