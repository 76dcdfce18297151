"""Delivery receipts: what iSMS let us know about a message, as a deliver_sm an ESME parses.

The text is the de-facto form of SMPP 3.4 Appendix B, fields in this order, single spaces:
    id:<message_id> sub:001 dlvrd:<000|001> submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:<STAT> err:<EEE> text:<first 20 characters>
sent as a deliver_sm with esm_class 0x04 (SMSC delivery receipt, §5.2.12), the original
source and destination swapped, and exactly the TLVs receipted_message_id, message_state and
(when the submit had one) user_message_reference: smpplib refuses any TLV outside its
deliver_sm list, and these three are the ones 3.4 recommends.

What the receipt can honestly say: iSMS reports acceptance by the operator, not handset
delivery, so success is `stat:ACCEPTD` (message_state 6). A per-account option reports
`stat:DELIVRD` (2) instead, for ESMEs that treat anything else as a failure; that is an
ASSUMPTION the operator opts into, not something iSMS told us. A refusal is `stat:REJECTD` (8).
A long message dropped incomplete at its reassembly deadline is `stat:EXPIRED` (3): it was
never sent, and its time ran out.

err: three digits, the same number query_sm_resp returns as error_code (Int1, 0-255):
| err | meaning |
|---|---|
| 000 | no error |
| 001-249 | iSMS code -1001..-1249, as (-code - 1000): -1004 INSUFFICIENT CREDITS -> 004 |
| 250 | the bridge dropped an incomplete long message at its reassembly deadline |
| 251 | the bridge refused the completed message before iSMS (undecodable, too long) |
| 255 | iSMS -1000 UNKNOWN ERROR, or any code outside the table |

registered_delivery & 3 (§5.2.17): 0 none; 1 on any final state; 2 on failure only;
3 is reserved in 3.4 and means "success only" in SMPP 5.0 — honoured as 5.0 defines it,
since an ESME that sets it asked for something and 5.0 is the only meaning it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final, assert_never

from bridge.pdu import DeliverSm, Tag, Tlv
from bridge.pipeline.checks.encoding import DefaultAlphabet
from bridge.pipeline.checks.gsm7 import encode_gsm7

ESM_CLASS_DELIVERY_RECEIPT = 0x04
RECEIPT_TEXT_LENGTH = 20
MAX_MESSAGE_ID_LENGTH = 64

ERR_NONE = 0
ERR_REASSEMBLY_TIMEOUT = 250
ERR_REFUSED_BY_BRIDGE = 251
ERR_UNKNOWN = 255

_ISMS_FIRST_CODE = -1001
_ISMS_LAST_CODE = -1249


class MessageState(IntEnum):
    """message_state (SMPP 3.4 §5.2.28) with the receipt's `stat:` word for each."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8

    @property
    def stat(self) -> str:
        return _STAT_WORDS[self]

    @property
    def is_final(self) -> bool:
        return self is not _ENROUTE

    @property
    def is_success(self) -> bool:
        return self in _SUCCESSES


# Members bound to module names where they are used per message: on Python 3.11 every
# `MessageState.X` lookup goes through EnumType's __getattr__ hook (docs/performance-notes.md).
_ENROUTE: Final = MessageState.ENROUTE
_DELIVERED: Final = MessageState.DELIVERED
_ACCEPTED: Final = MessageState.ACCEPTED
_SUCCESSES = frozenset({_DELIVERED, _ACCEPTED})


_STAT_WORDS: dict[MessageState, str] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """The final state of one message_id. Addresses are the ORIGINAL submit's."""

    message_id: str
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    submit_date: datetime
    done_date: datetime
    message_state: MessageState
    error_code: int = ERR_NONE
    text: str = ""
    user_message_reference: int | None = None

    def __post_init__(self) -> None:
        # SMPP 3.4 §5.3.2.12: receipted_message_id is a C-Octet String of at most 65 octets.
        if not 0 < len(self.message_id) <= MAX_MESSAGE_ID_LENGTH:
            raise ValueError(f"receipt message_id length {len(self.message_id)} is not 1-64")
        if not 0 <= self.error_code <= 255:
            raise ValueError(f"receipt error_code {self.error_code} is outside 0-255")


def success_state(*, report_delivered: bool) -> MessageState:
    """State after iSMS 2000: ACCEPTED, or DELIVERED when the account opted in (assumed)."""
    return _DELIVERED if report_delivered else _ACCEPTED


def receipt_error_code(isms_code: int) -> int:
    """The err:/error_code number for an iSMS refusal code (see the table above)."""
    if _ISMS_LAST_CODE <= isms_code <= _ISMS_FIRST_CODE:
        return -isms_code - 1000
    return ERR_UNKNOWN


# SMPP 3.4 §5.2.17: bits 1-0 of registered_delivery ask for an SMSC delivery receipt; 0
# asks for none, whatever the message's fate.
RECEIPT_BITS = 0x03


def receipt_wanted(registered_delivery: int, state: MessageState) -> bool:
    """Whether registered_delivery (SMPP 3.4 §5.2.17, bits 1-0) asks for this receipt."""
    if not state.is_final:
        return False
    match registered_delivery & RECEIPT_BITS:
        case 1:
            return True
        case 2:
            return not state.is_success
        case 3:
            return state.is_success  # SMPP 5.0: success only
        case _:
            return False


def receipt_text(receipt: DeliveryReceipt) -> str:
    delivered = 1 if receipt.message_state is MessageState.DELIVERED else 0
    return (
        f"id:{receipt.message_id} sub:001 dlvrd:{delivered:03d}"
        f" submit date:{receipt.submit_date:%y%m%d%H%M}"
        f" done date:{receipt.done_date:%y%m%d%H%M}"
        f" stat:{receipt.message_state.stat} err:{receipt.error_code:03d}"
        f" text:{receipt.text[:RECEIPT_TEXT_LENGTH]}"
    )


def receipt_deliver_sm(
    receipt: DeliveryReceipt, *, dc0: DefaultAlphabet = "gsm7", sequence_number: int = 0
) -> DeliverSm:
    """The deliver_sm carrying `receipt`, with data_coding 0.

    The text is written the way this account reads data_coding 0 (`dc0`), so the ESME reads
    back what it sent; a character that alphabet lacks becomes "?".
    """
    tlvs = [
        Tlv(Tag.RECEIPTED_MESSAGE_ID, receipt.message_id),
        Tlv(Tag.MESSAGE_STATE, int(receipt.message_state)),
    ]
    if receipt.user_message_reference is not None:
        tlvs.append(Tlv(Tag.USER_MESSAGE_REFERENCE, receipt.user_message_reference))
    return DeliverSm(
        sequence_number=sequence_number,
        source_addr_ton=receipt.dest_addr_ton,
        source_addr_npi=receipt.dest_addr_npi,
        source_addr=receipt.destination_addr,
        dest_addr_ton=receipt.source_addr_ton,
        dest_addr_npi=receipt.source_addr_npi,
        destination_addr=receipt.source_addr,
        esm_class=ESM_CLASS_DELIVERY_RECEIPT,
        data_coding=0,
        short_message=_encode(receipt_text(receipt), dc0),
        tlvs=tuple(tlvs),
    )


def _encode(text: str, dc0: DefaultAlphabet) -> bytes:
    match dc0:
        case "gsm7":
            return encode_gsm7(text, errors="replace")
        case "latin1":
            return text.encode("latin-1", errors="replace")
        case "ascii":
            return text.encode("ascii", errors="replace")
        case _:
            assert_never(dc0)
