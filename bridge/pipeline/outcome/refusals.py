"""Refused submits, kept for operators: why a message never reached iSMS.

A submit the bridge refused before iSMS (a bad destination, a data_coding it cannot
decode, a bad UDH, an account past its cap, ...) gave out no message_id and sent nothing,
so it has no message record; the operator asked "why did my message fail?" would have only
the log. Its refusal is kept instead, as a record of kind `refusal` under
`account/~reference` (the reference its log line carries: system_id/session/sequence_number),
bounded and expiring like the message records: the PDU, the source and destinations as the
ESME gave them, the status answered and the reason. Never the text.

The record is written after the refusal is decided and before the answer leaves; a store
that cannot write it costs the record, never the answer (the refusal is logged either way,
`event=submit_refused`). Values are a JSON array, version 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import orjson

from bridge.pdu import DataSm, DistributionList, SubmitMulti, SubmitSm, status_name
from bridge.pipeline.checks.submission import Refusal
from bridge.pipeline.seams import SessionInfo
from bridge.state import RecordStore, StateError

log = logging.getLogger(__name__)

REFUSAL_KIND = "refusal"
_VERSION = 1


@dataclass(slots=True, kw_only=True)
class RefusedSubmit:
    """One submit refused before iSMS. `received_at` is Unix seconds."""

    account: Final[str]
    reference: Final[str]
    pdu: Final[str]
    source_addr: Final[str]
    destinations: Final[tuple[str, ...]]
    status: Final[str]  # the SMPP answer: ESME_RINVDSTADR, ESME_RSUBMITFAIL, ...
    reason: Final[str]
    kind: Final[str]  # the refusal's kind, as the pipeline_refusals metric counts it
    received_at: Final[float]


def refused_submit(
    account: str,
    reference: str,
    request: SubmitSm | DataSm | SubmitMulti,
    *,
    status: int,
    reason: str,
    kind: str,
    received_at: float,
) -> RefusedSubmit:
    if isinstance(request, SubmitMulti):
        destinations = tuple(
            f"list:{d.dl_name}" if isinstance(d, DistributionList) else d.destination_addr
            for d in request.dest_addresses
        )
        pdu = "submit_multi"
    else:
        destinations = (request.destination_addr,)
        pdu = "submit_sm" if isinstance(request, SubmitSm) else "data_sm"
    return RefusedSubmit(
        account=account,
        reference=reference,
        pdu=pdu,
        source_addr=request.source_addr,
        destinations=destinations,
        status=status_name(status),
        reason=reason,
        kind=kind,
        received_at=received_at,
    )


def encode_refusal(refusal: RefusedSubmit) -> bytes:
    return orjson.dumps(
        (
            _VERSION,
            refusal.account,
            refusal.reference,
            refusal.pdu,
            refusal.source_addr,
            refusal.destinations,
            refusal.status,
            refusal.reason,
            refusal.kind,
            round(refusal.received_at * 1000),
        )
    )


def decode_refusal(value: bytes) -> RefusedSubmit:
    """The refusal a record holds; ValueError for anything but version 1."""
    try:
        version, account, reference, pdu, source, destinations, status, reason, kind, at = (
            orjson.loads(value)
        )
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"not a refusal record: {exc}") from exc
    if version != _VERSION:
        raise ValueError(f"refusal record version {version!r} is not known")
    return RefusedSubmit(
        account=account,
        reference=reference,
        pdu=pdu,
        source_addr=source,
        destinations=tuple(destinations),
        status=status,
        reason=reason,
        kind=kind,
        received_at=at / 1000,
    )


class RefusalRecords:
    """Where refused submits are kept (module docstring), bounded like message records."""

    __slots__ = ("_max_age", "_max_records", "_state")

    def __init__(self, state: RecordStore, *, max_records: int, max_age: float) -> None:
        self._state = state
        self._max_records = max_records
        self._max_age = max_age

    async def keep(
        self,
        context: SessionInfo,
        request: SubmitSm | DataSm | SubmitMulti,
        refusal: Refusal,
        *,
        now: float,
    ) -> None:
        """Keep what `refusal` answered to `request`; a store that cannot costs the record
        alone (module docstring)."""
        reference = f"{context.system_id}/{context.session_id}/{request.sequence_number}"
        refused = refused_submit(
            context.system_id,
            reference,
            request,
            status=refusal.command_status,
            reason=refusal.reason,
            kind=refusal.kind,
            received_at=now,
        )
        try:
            await self.record(refused, now=now)
        except StateError as exc:
            log.debug("event=refusal_not_recorded reference=%s error=%r", reference, str(exc))

    async def record(self, refusal: RefusedSubmit, *, now: float) -> None:
        """Keep `refusal` (raises StateError when the store cannot)."""
        await self._state.put_record(
            REFUSAL_KIND,
            f"{refusal.account}/~{refusal.reference}",
            encode_refusal(refusal),
            now=now,
            expires_at=now + self._max_age,
            max_records=self._max_records,
        )
