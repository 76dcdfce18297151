"""The checks a message PDU passes before anything is taken, and its text's once it is whole.

Every refusal is a `Refusal` carrying the SMPP status to answer, a reason for the log line
(never the message text) and a bounded `kind` for metrics. `checked` runs the checks in the
order an operator reads them in the log: the octets and their segmentation (udh.py), the
data_coding of a part of a long message, the destination(s); once the message is whole,
`text` decodes it (encoding.py) and `check_length` measures it.

Destinations (SMPP 3.4 §4.4, §4.5, §4.7): a submit_sm or data_sm names one, a submit_multi up
to 254, each an SME address or a distribution list. Rules:
1. Each SME address (dest_flag 1) becomes an iSMS number by numbers.py. The one destination
   of a submit_sm or data_sm that cannot is the request's refusal (ESME_RINVDSTADR); one of
   a submit_multi's is refused alone (ESME_RINVDSTADR) and the others still go.
   Distribution lists (dest_flag 2) are held by an SMSC, and iSMS has none: each is refused
   with ESME_RCNTSUBDL (0x44). A submit_multi naming none is refused ESME_RINVNUMDESTS.
2. An address given twice (the same iSMS number) is sent once: iSMS would charge twice.
3. An account's number lists (policy/lists.py), when it has any, judge each iSMS number
   like rule 1's check: a prefix outside its allowlist or in its denylist is
   ESME_RINVDSTADR, an opted-out number ESME_RSUBMITFAIL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeGuard

from bridge.pdu import (
    CommandStatus,
    DataSm,
    DistributionList,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Tag,
    TlvValue,
    UnsuccessSme,
)
from bridge.pipeline.checks.encoding import UndecodableText, decode_text
from bridge.pipeline.checks.numbers import InvalidNumber, NumberRules, isms_number
from bridge.pipeline.checks.udh import (
    UDHI,
    ConcatenatedPart,
    UserDataError,
    concatenation_of,
    payload_of,
)
from bridge.pipeline.policy.lists import list_refusal
from bridge.pipeline.policy.settings import NumberLists
from bridge.pipeline.seams import MessagePdu
from bridge.pipeline.settings import AccountRoute

# Octets per SMS, by how wide a character is (3GPP TS 23.038 / 23.040): one part holds 160
# septets (or 140 octets of 8-bit / UCS-2 data); a part of a long message loses 6 or 7 to
# its UDH, so 153 septets / 134 octets.
_SINGLE_7BIT, _PART_7BIT = 160, 153
_SINGLE_OCTETS, _PART_OCTETS = 140, 134


class Refusal(Exception):
    """The bridge answers `command_status` without calling iSMS."""

    def __init__(self, command_status: CommandStatus, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.command_status = command_status
        self.reason = reason
        self.kind = kind


@dataclass(slots=True, kw_only=True)
class MessageOrigin:
    """Who sent a message and to whom (one destination, or a submit_multi's several, each
    with its own TON/NPI): a long message's key and its receipts' addresses."""

    account: Final[str]
    source_addr_ton: Final[int] = 0
    source_addr_npi: Final[int] = 0
    source_addr: Final[str] = ""
    destinations: Final[tuple[SmeAddress, ...]] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiDestinations:
    """A submit_multi's destinations as it names them (`given`), each with its iSMS number
    (`number_at`, by position; None where refused) or its refusal (`refused`, by position;
    `reasons` has one log phrase each, in that order)."""

    given: tuple[SmeAddress | DistributionList, ...]
    number_at: tuple[str | None, ...]
    refused: dict[int, UnsuccessSme]
    reasons: tuple[str, ...]

    @property
    def unsuccess(self) -> tuple[UnsuccessSme, ...]:
        """The destinations refused here, in the order given."""
        refused = self.refused
        return tuple(refused[position] for position in sorted(refused))


@dataclass(slots=True, kw_only=True)
class Submission:
    """One message PDU that passed the checks: its text octets, where it sits in a long
    message (`part`, None: whole), and where it goes.

    `numbers` are its unique iSMS numbers in the order given, `origin.destinations` the
    first SME address of each (rule 2); `several` says, for a submit_multi, what became of
    each destination it names (None: one destination, a submit_sm's or data_sm's).
    """

    octets: Final[bytes]
    part: Final[ConcatenatedPart | None]
    numbers: Final[tuple[str, ...]]
    origin: Final[MessageOrigin]
    several: Final[MultiDestinations | None]
    user_message_reference: Final[int | None]

    @property
    def unsuccess(self) -> tuple[UnsuccessSme, ...]:
        """The destinations refused here, in the order given."""
        return () if self.several is None else self.several.unsuccess


# Bound once: on Python 3.11 every `Tag.X` lookup goes through EnumType's __getattr__ hook.
_USER_MESSAGE_REFERENCE: Final = Tag.USER_MESSAGE_REFERENCE
_MESSAGE_PAYLOAD: Final = Tag.MESSAGE_PAYLOAD


def checked(
    pdu: MessagePdu, route: AccountRoute, rules: NumberRules, lists: NumberLists | None = None
) -> Submission:
    """`pdu` as a Submission, or the Refusal of the first check it fails (`lists`: the
    account's number lists, rule 3)."""
    part: ConcatenatedPart | None = None
    if _plain(pdu):
        octets = pdu.short_message
    else:
        try:
            part = concatenation_of(pdu)
            octets = part.payload if part is not None else payload_of(pdu)
        except UserDataError as exc:
            raise Refusal(exc.command_status, exc.reason, kind="user_data") from None
        if isinstance(pdu, DataSm) and pdu.tlv(_MESSAGE_PAYLOAD) is None:
            # SMPP 3.4 §4.7.1: data_sm has no short_message; its text is message_payload.
            raise Refusal(
                CommandStatus.ESME_RMISSINGOPTPARAM,
                "data_sm without message_payload carries no text",
                kind="user_data",
            )
        if part is not None:
            # A coding iSMS cannot carry is refused before a part is taken (a whole message
            # is decoded, and refused, once it is whole).
            check_coding(pdu.data_coding, route)
    umr = pdu.tlv(_USER_MESSAGE_REFERENCE)
    if isinstance(pdu, SubmitMulti):
        return _to_several(pdu, route.system_id, rules, octets, part, umr, lists)
    number = destination(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr, rules, lists)
    address = SmeAddress(
        dest_addr_ton=pdu.dest_addr_ton,
        dest_addr_npi=pdu.dest_addr_npi,
        destination_addr=pdu.destination_addr,
    )
    origin = MessageOrigin(
        account=route.system_id,
        source_addr_ton=pdu.source_addr_ton,
        source_addr_npi=pdu.source_addr_npi,
        source_addr=pdu.source_addr,
        destinations=(address,),
    )
    return Submission(
        octets=octets,
        part=part,
        numbers=(number,),
        origin=origin,
        several=None,
        user_message_reference=umr if isinstance(umr, int) else None,
    )


def _to_several(
    pdu: SubmitMulti,
    account: str,
    rules: NumberRules,
    octets: bytes,
    part: ConcatenatedPart | None,
    umr: TlvValue | None,
    lists: NumberLists | None,
) -> Submission:
    """A submit_multi's destinations (rules 1 to 3)."""
    if not pdu.dest_addresses:
        raise Refusal(
            CommandStatus.ESME_RINVNUMDESTS,
            "submit_multi with number_of_dests 0",
            kind="destination",
        )
    address_of: dict[str, SmeAddress] = {}
    number_at: list[str | None] = []
    refused: dict[int, UnsuccessSme] = {}
    reasons: list[str] = []
    for position, entry in enumerate(pdu.dest_addresses):
        number = None
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
                        entry.dest_addr_ton,
                        entry.dest_addr_npi,
                        entry.destination_addr,
                        rules,
                        lists,
                    )
                except Refusal as refusal:
                    refused[position] = unsuccess(entry, refusal.command_status)
                    reasons.append(refusal.reason)
                else:
                    address_of.setdefault(number, entry)
        number_at.append(number)
    origin = MessageOrigin(
        account=account,
        source_addr_ton=pdu.source_addr_ton,
        source_addr_npi=pdu.source_addr_npi,
        source_addr=pdu.source_addr,
        destinations=tuple(address_of.values()),
    )
    several = MultiDestinations(
        given=pdu.dest_addresses,
        number_at=tuple(number_at),
        refused=refused,
        reasons=tuple(reasons),
    )
    return Submission(
        octets=octets,
        part=part,
        numbers=tuple(address_of),
        origin=origin,
        several=several,
        user_message_reference=umr if isinstance(umr, int) else None,
    )


def destination(
    ton: int, npi: int, address: str, rules: NumberRules, lists: NumberLists | None = None
) -> str:
    """The iSMS number of one SME address (rules 1 and 3), or a Refusal."""
    try:
        number = isms_number(address, ton, npi, rules)
    except InvalidNumber as exc:
        raise Refusal(
            CommandStatus.ESME_RINVDSTADR, f"destination {exc}", kind="destination"
        ) from None
    if lists is not None:
        refused = list_refusal(lists, number)
        if refused is not None:
            raise Refusal(refused.command_status, refused.reason, kind=refused.kind)
    return number


def unsuccess(address: SmeAddress, status: int) -> UnsuccessSme:
    """A destination that failed, as a submit_multi_resp lists it."""
    return UnsuccessSme(
        dest_addr_ton=address.dest_addr_ton,
        dest_addr_npi=address.dest_addr_npi,
        destination_addr=address.destination_addr,
        error_status_code=status,
    )


def check_coding(data_coding: int, route: AccountRoute) -> None:
    """Refuse a data_coding iSMS cannot carry before any part of the message is taken."""
    text(data_coding, b"", route)


def text(data_coding: int, octets: bytes, route: AccountRoute) -> str:
    """The text of a whole message's octets, or a Refusal saying why there is none."""
    try:
        return decode_text(data_coding, octets, dc0=route.dc0, dc1=route.dc1)
    except UndecodableText as exc:
        raise Refusal(exc.command_status, str(exc), kind=exc.kind) from None


def check_length(message_text: str, max_length: int) -> None:
    """iSMS takes 1 to 700 characters (REST reference, -1006): refuse before it charges."""
    if not message_text:
        raise Refusal(CommandStatus.ESME_RINVMSGLEN, "the message is empty", kind="length")
    if len(message_text) > max_length:
        raise Refusal(
            CommandStatus.ESME_RINVMSGLEN,
            f"{len(message_text)} characters; iSMS takes at most {max_length}",
            kind="length",
        )


def parts_of(pdu: MessagePdu) -> int:
    """How many SMS a message PDU costs the account's throughput bucket: its parts times its
    destinations.

    A part of a UDH/SAR long message is one part; a whole message (message_payload can hold
    a long one) counts as the parts a handset would receive. Malformed PDUs count 1 and are
    refused by `handle` with their own status.
    """
    destinations = max(1, len(pdu.dest_addresses)) if isinstance(pdu, SubmitMulti) else 1
    if _plain(pdu):
        size = len(pdu.short_message)
    else:
        try:
            if concatenation_of(pdu) is not None:
                return destinations
            size = len(payload_of(pdu))
        except UserDataError:
            return destinations
    single, part = (
        (_SINGLE_OCTETS, _PART_OCTETS) if _is_ucs2(pdu.data_coding) else (_SINGLE_7BIT, _PART_7BIT)
    )
    return destinations * (1 if size <= single else -(-size // part))


def _plain(pdu: MessagePdu) -> TypeGuard[SubmitSm | SubmitMulti]:
    """The common case, decided without parsing: the whole text in short_message (no UDH,
    no TLVs, so no SAR and no message_payload)."""
    return not pdu.tlvs and not pdu.esm_class & UDHI and not isinstance(pdu, DataSm)


def _is_ucs2(data_coding: int) -> bool:
    # 0x08, and the GSM DCS general / auto-deletion groups with alphabet bits 10 (23.038 §4).
    return data_coding == 0x08 or (
        (data_coding >> 4) in (0x1, 0x4, 0x5) and (data_coding >> 2) & 0x3 == 2
    )
