"""Message records: what the bridge did with each message, kept for query_sm and operators.

One record per message_id the ESME was given (a long message's parts share their message's
record), stored under kind "message" with the key `account/message_id` (a message_id never
holds "/": bridge ids are 0-9A-Z, iSMS trx_ids digits). A message iSMS refused or never
got gave out no message_id: its record is keyed `account/~reference` instead (the reference
its iSMS request and log lines carry: system_id/session/sequence_number), which no
query_sm can name. query_sm reads its state, final
date and error from it; `isms-bridge messages` prints it. The text is kept only when the
operator opts in (`[state] record_text`); otherwise no message text is stored beyond the
20 characters a receipt carries.

A receipt's fate after it was queued (sent, held again, confirmed, refused, dropped) is a
small record of kind "receipt" under the same key, so the message record is written once.

Values are JSON arrays (compact, readable with the sqlite3 shell), version 4: times are
integer milliseconds, since writing a float's shortest repr is most of the cost of encoding
a record. They are written by orjson (one record per submit: ~1.2 µs instead of the
standard library's ~5.8 µs, the same bytes) and read by either. Version 3 adds the
message's estimated credits and what duplicate suppression made of it (pipeline/policy/);
version 4 the addresses' TON/NPI and each message_id's user_message_reference, so that a
receipt sent again is the one first sent (resend.py). `decode` also reads versions 3, 2
and 1 (float seconds; 0/0 and no reference for what they did not keep) and refuses
anything else with ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

MESSAGE_KIND = "message"
RECEIPT_KIND = "receipt"

# What became of a message's receipt (`receipt` field, then the receipt record).
RECEIPT_NONE = "none"  # none asked, or none for this outcome
RECEIPT_HELD = "held"  # queued: waiting for a receiver, or for its next attempt
RECEIPT_SENT = "sent"  # deliver_sm handed to a receiver, no deliver_sm_resp yet
RECEIPT_CONFIRMED = "confirmed"  # the ESME answered the deliver_sm with ESME_ROK
RECEIPT_REFUSED = "refused"  # the ESME answered it with a permanent error
RECEIPT_DROPPED = "dropped"  # too many or too old while held, or out of attempts


@dataclass(slots=True, kw_only=True)
class MessageRecord:
    """One message (one submit, or a whole long message). Times are Unix seconds."""

    account: Final[str]
    message_ids: Final[tuple[str, ...]]
    pdu: Final[str]  # submit_sm, data_sm, submit_multi
    source_addr: Final[str]
    destinations: Final[tuple[str, ...]]
    parts: Final[int]
    status: Final[str]  # the SMPP answer: ESME_ROK, ESME_RSYSERR, ...
    message_state: Final[int]  # SMPP 3.4 §5.2.28 (query_sm_resp message_state)
    error_code: Final[int]  # query_sm_resp error_code: the receipt's err: number
    received_at: Final[float]
    answered_at: Final[float]
    final_at: Final[float | None]  # None while not final (a long message's earlier parts)
    trx_id: Final[str] = ""
    isms_code: Final[int | None] = None
    mirror: Final[str] = ""
    sent_at: Final[float | None] = None  # when iSMS got the request (None: never sent)
    receipt: Final[str] = RECEIPT_NONE
    text: Final[str | None] = None  # only with [state] record_text
    reference: Final[str] = ""  # system_id/session/sequence_number of the (completing) submit
    credits: Final[int] = 0  # estimated iSMS credits, every destination (policy/credits.py)
    # A resend within the account's duplicate window: flagged, suppressed, sent_again or
    # assumed_sent, and the first's message_id (or reference) (policy/duplicates.py).
    duplicate: Final[str] = ""
    duplicate_of: Final[str] = ""
    # Version 4 on (0/0 and none before): the source's TON/NPI, each destination's (by
    # position in `destinations`), each message_id's user_message_reference (by position
    # in `message_ids`; None: its submit had none).
    source_addr_ton: Final[int] = 0
    source_addr_npi: Final[int] = 0
    destination_types: Final[tuple[tuple[int, int], ...]] = ()
    user_message_references: Final[tuple[int | None, ...]] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The message_ids it is stored under, or its reference when it has none."""
        return self.message_ids or (f"~{self.reference}",)


def record_key(account: str, message_id: str) -> str:
    return f"{account}/{message_id}"


def encode_record(record: MessageRecord) -> bytes:
    final, sent = record.final_at, record.sent_at
    # Times in integer milliseconds (version 2 on), computed inline: a record is written per
    # submit.
    return orjson.dumps(
        (
            4,
            record.account,
            record.message_ids,
            record.pdu,
            record.source_addr,
            record.destinations,
            record.parts,
            record.status,
            record.message_state,
            record.error_code,
            round(record.received_at * 1000),
            round(record.answered_at * 1000),
            None if final is None else round(final * 1000),
            record.trx_id,
            record.isms_code,
            record.mirror,
            None if sent is None else round(sent * 1000),
            record.receipt,
            record.text,
            record.reference,
            record.credits,
            record.duplicate,
            record.duplicate_of,
            record.source_addr_ton,
            record.source_addr_npi,
            record.destination_types,
            record.user_message_references,
        )
    )


# What versions before 4 did not keep (the fields after `reference`), as they read.
_LATER: Final = (0, "", "", 0, 0, (), ())


def decode_record(value: bytes) -> MessageRecord:
    try:
        fields = orjson.loads(value)
        (version, account, ids, pdu, source, destinations, parts, status, state, error,
         received, answered, final, trx_id, code, mirror, sent, receipt, text,
         reference, *later) = fields  # fmt: skip
        (credits, duplicate, duplicate_of, source_ton, source_npi, types,
         umrs) = (*later, *_LATER[len(later):]) if version in (3, 4) else _LATER  # fmt: skip
        types = tuple((int(ton), int(npi)) for ton, npi in types)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a message record: {exc}") from None
    if version in (2, 3, 4):
        received, answered = received / 1000, answered / 1000
        final = None if final is None else final / 1000
        sent = None if sent is None else sent / 1000
    elif version != 1:
        raise ValueError(f"message record version {version!r} is not 1, 2, 3 or 4")
    return MessageRecord(
        account=account,
        message_ids=tuple(ids),
        pdu=pdu,
        source_addr=source,
        destinations=tuple(destinations),
        parts=parts,
        status=status,
        message_state=state,
        error_code=error,
        received_at=received,
        answered_at=answered,
        final_at=final,
        trx_id=trx_id,
        isms_code=code,
        mirror=mirror,
        sent_at=sent,
        receipt=receipt,
        text=text,
        reference=reference,
        credits=credits,
        duplicate=duplicate,
        duplicate_of=duplicate_of,
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        destination_types=types,
        user_message_references=tuple(umrs),
    )
