"""Reassembly of long messages: any order, duplicates, split pairs, and every bound."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
import smpplib.gsm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.pdu import CommandStatus, SmeAddress, SubmitSm, Tag, Tlv
from bridge.pipeline import ReassemblyLimits, decode_text
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.checks.udh import ConcatenatedPart, concatenation_of, payload_of
from bridge.pipeline.long_messages.reassembly import (
    Complete,
    Expired,
    Pending,
    Reassembly,
    Rejected,
)
from bridge.state import MemoryState


def origin(account: str, source_addr: str, destination_addr: str, ton: int = 0) -> MessageOrigin:
    return MessageOrigin(
        account=account,
        source_addr_ton=ton,
        source_addr=source_addr,
        destinations=(SmeAddress(dest_addr_ton=ton, destination_addr=destination_addr),),
    )


ALICE = origin("alice", "SENDER", "60123456789")
# The octets a kept part holds besides its payload: its message_id ("ID1") and receipt request.
HEAD = 8


def store(**limits: float) -> Reassembly:
    counter = itertools.count(1)
    return Reassembly(
        MemoryState(),
        limits=ReassemblyLimits(**limits),  # type: ignore[arg-type]
        new_message_id=lambda: f"ID{next(counter)}",
    )


def part(seqnum: int, total: int = 3, payload: bytes = b"", reference: int = 7) -> ConcatenatedPart:
    return ConcatenatedPart(
        reference=reference, total=total, seqnum=seqnum, payload=payload or f"<{seqnum}>".encode()
    )


# --- completing a message ---------------------------------------------------------------


async def test_parts_in_order_complete_with_the_payloads_joined() -> None:
    reassembly = store()
    assert await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0) == Pending(
        message_id="ID1"
    )
    assert await reassembly.add(part(2), origin=ALICE, data_coding=0, now=1) == Pending(
        message_id="ID2"
    )
    done = await reassembly.add(part(3), origin=ALICE, data_coding=0, now=2)
    assert isinstance(done, Complete)
    assert done.octets == b"<1><2><3>"
    assert done.message_ids == ("ID1", "ID2")
    assert (done.origin, done.reference, done.total, done.first_part_at) == (ALICE, 7, 3, 0)


async def test_parts_out_of_order_are_joined_in_seqnum_order() -> None:
    reassembly = store()
    await reassembly.add(part(3), origin=ALICE, data_coding=0, now=0)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    done = await reassembly.add(part(2), origin=ALICE, data_coding=0, now=0)
    assert isinstance(done, Complete)
    assert done.octets == b"<1><2><3>"
    assert [answer.seqnum for answer in done.answered] == [1, 3]


async def test_a_completed_message_is_forgotten_and_its_octets_released() -> None:
    reassembly = store()
    await reassembly.add(part(1, total=2), origin=ALICE, data_coding=0, now=0)
    assert await reassembly.counts() == (1, 3 + HEAD)
    await reassembly.add(part(2, total=2), origin=ALICE, data_coding=0, now=0)
    assert await reassembly.counts() == (0, 0)
    assert await reassembly.pending_for("alice") == 0


async def test_each_answered_part_keeps_its_own_receipt_request_and_reference() -> None:
    reassembly = store()
    await reassembly.add(
        part(1), origin=ALICE, data_coding=0, registered_delivery=1, user_message_reference=41,
        now=0,
    )  # fmt: skip
    await reassembly.add(part(2), origin=ALICE, data_coding=0, registered_delivery=0, now=0)
    done = await reassembly.add(part(3), origin=ALICE, data_coding=0, now=0)
    assert isinstance(done, Complete)
    first, second = done.answered
    assert (first.registered_delivery, first.user_message_reference) == (1, 41)
    assert (second.registered_delivery, second.user_message_reference) == (0, None)


# --- the key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        origin("bob", "SENDER", "60123456789"),
        origin("alice", "OTHER", "60123456789"),
        origin("alice", "SENDER", "60199999999"),
    ],
)
async def test_parts_from_another_account_source_or_destination_are_another_message(
    other: MessageOrigin,
) -> None:
    reassembly = store()
    await reassembly.add(part(1, total=2), origin=ALICE, data_coding=0, now=0)
    assert isinstance(
        await reassembly.add(part(2, total=2), origin=other, data_coding=0, now=0), Pending
    )
    assert (await reassembly.counts())[0] == 2


async def test_a_different_reference_is_another_message() -> None:
    reassembly = store()
    await reassembly.add(part(1, total=2, reference=1), origin=ALICE, data_coding=0, now=0)
    result = await reassembly.add(part(2, total=2, reference=2), origin=ALICE, data_coding=0, now=0)
    assert isinstance(result, Pending)


async def test_the_same_reference_with_a_different_total_is_another_message() -> None:
    reassembly = store()
    await reassembly.add(part(1, total=2), origin=ALICE, data_coding=0, now=0)
    assert isinstance(
        await reassembly.add(part(2, total=3), origin=ALICE, data_coding=0, now=0), Pending
    )
    assert (await reassembly.counts())[0] == 2


async def test_addresses_ton_and_npi_are_not_part_of_the_key() -> None:
    reassembly = store()
    await reassembly.add(part(1, total=2), origin=ALICE, data_coding=0, now=0)
    other_ton = origin("alice", "SENDER", "60123456789", ton=5)
    assert isinstance(
        await reassembly.add(part(2, total=2), origin=other_ton, data_coding=0, now=0), Complete
    )


# --- duplicates and conflicts -------------------------------------------------------------


async def test_a_duplicate_part_is_answered_with_the_id_it_got_the_first_time() -> None:
    reassembly = store()
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    again = await reassembly.add(part(1), origin=ALICE, data_coding=0, now=1)
    assert again == Pending(message_id="ID1", duplicate=True)
    assert await reassembly.counts() == (1, 3 + HEAD)


async def test_a_duplicate_does_not_count_towards_completion() -> None:
    reassembly = store()
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    assert isinstance(await reassembly.add(part(2), origin=ALICE, data_coding=0, now=0), Pending)


async def test_the_same_seqnum_with_different_octets_is_refused_and_the_first_kept() -> None:
    reassembly = store()
    await reassembly.add(part(1, payload=b"first"), origin=ALICE, data_coding=0, now=0)
    result = await reassembly.add(part(1, payload=b"other"), origin=ALICE, data_coding=0, now=0)
    assert isinstance(result, Rejected)
    assert result.command_status is CommandStatus.ESME_RSUBMITFAIL
    assert "different content" in result.reason
    await reassembly.add(part(2), origin=ALICE, data_coding=0, now=0)
    done = await reassembly.add(part(3), origin=ALICE, data_coding=0, now=0)
    assert isinstance(done, Complete)
    assert done.octets == b"first<2><3>"


async def test_a_part_with_another_data_coding_is_refused() -> None:
    reassembly = store()
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    result = await reassembly.add(part(2), origin=ALICE, data_coding=8, now=0)
    assert isinstance(result, Rejected)
    assert result.command_status is CommandStatus.ESME_RSUBMITFAIL
    assert "data_coding 0x08" in result.reason


async def test_a_concatenated_part_cannot_claim_an_impossible_position() -> None:
    with pytest.raises(ValueError, match="impossible"):
        ConcatenatedPart(reference=1, total=2, seqnum=3, payload=b"")


# --- bounds -------------------------------------------------------------------------------


async def test_an_account_at_its_pending_limit_gets_esme_rmsgqful_for_a_new_message() -> None:
    reassembly = store(max_pending_per_account=2)
    for reference in (1, 2):
        await reassembly.add(part(1, reference=reference), origin=ALICE, data_coding=0, now=0)
    result = await reassembly.add(part(1, reference=3), origin=ALICE, data_coding=0, now=0)
    assert isinstance(result, Rejected)
    assert result.command_status is CommandStatus.ESME_RMSGQFUL
    assert await reassembly.pending_for("alice") == 2


async def test_an_account_at_its_pending_limit_can_still_finish_what_it_started() -> None:
    reassembly = store(max_pending_per_account=1)
    await reassembly.add(part(1, total=2), origin=ALICE, data_coding=0, now=0)
    assert isinstance(
        await reassembly.add(part(2, total=2), origin=ALICE, data_coding=0, now=0), Complete
    )


async def test_one_account_at_its_limit_does_not_block_another() -> None:
    reassembly = store(max_pending_per_account=1)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    bob = origin("bob", "SENDER", "60123456789")
    assert isinstance(await reassembly.add(part(1), origin=bob, data_coding=0, now=0), Pending)


async def test_a_part_that_would_overflow_the_byte_budget_gets_esme_rmsgqful() -> None:
    reassembly = store(max_buffered_bytes=10 + 2 * HEAD)
    await reassembly.add(part(1, payload=b"x" * 8), origin=ALICE, data_coding=0, now=0)
    result = await reassembly.add(part(2, payload=b"y" * 3), origin=ALICE, data_coding=0, now=0)
    assert isinstance(result, Rejected)
    assert result.command_status is CommandStatus.ESME_RMSGQFUL
    assert await reassembly.counts() == (1, 8 + HEAD)


async def test_the_byte_budget_is_shared_by_every_account() -> None:
    reassembly = store(max_buffered_bytes=10 + 2 * HEAD)
    await reassembly.add(part(1, payload=b"x" * 8), origin=ALICE, data_coding=0, now=0)
    bob = origin("bob", "S", "D")
    result = await reassembly.add(part(1, payload=b"y" * 3), origin=bob, data_coding=0, now=0)
    assert isinstance(result, Rejected)
    assert result.command_status is CommandStatus.ESME_RMSGQFUL


async def test_the_completing_part_is_accepted_even_when_the_byte_budget_is_full() -> None:
    reassembly = store(max_buffered_bytes=10 + HEAD)
    await reassembly.add(part(1, total=2, payload=b"x" * 10), origin=ALICE, data_coding=0, now=0)
    done = await reassembly.add(
        part(2, total=2, payload=b"y" * 50), origin=ALICE, data_coding=0, now=0
    )
    assert isinstance(done, Complete)
    assert await reassembly.counts() == (0, 0)


async def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ReassemblyLimits(timeout=0)


# --- expiry -------------------------------------------------------------------------------


async def test_nothing_expires_before_its_deadline() -> None:
    reassembly = store(timeout=60)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    assert await reassembly.expire(59.9) == []
    assert (await reassembly.counts())[0] == 1


async def test_an_incomplete_message_expires_with_what_a_failure_receipt_needs() -> None:
    reassembly = store(timeout=60)
    await reassembly.add(part(2), origin=ALICE, data_coding=0, registered_delivery=2, now=5)
    await reassembly.add(
        part(1), origin=ALICE, data_coding=0, registered_delivery=1, user_message_reference=9,
        now=6,
    )  # fmt: skip
    [expired] = await reassembly.expire(65)
    assert expired == Expired(
        origin=ALICE,
        reference=7,
        total=3,
        parts_received=2,
        answered=expired.answered,
        first_part_at=5,
    )
    assert expired.message_ids == ("ID2", "ID1")  # in seqnum order: part 1 got ID2
    assert [
        (a.seqnum, a.registered_delivery, a.user_message_reference) for a in expired.answered
    ] == [
        (1, 1, 9),
        (2, 2, None),
    ]


async def test_expiry_frees_the_account_slot_and_the_octets() -> None:
    reassembly = store(timeout=60, max_pending_per_account=1)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    await reassembly.expire(60)
    assert await reassembly.counts() == (0, 0)
    assert isinstance(
        await reassembly.add(part(1, reference=2), origin=ALICE, data_coding=0, now=61), Pending
    )


async def test_expire_drops_only_the_messages_past_their_deadline_oldest_first() -> None:
    reassembly = store(timeout=60)
    for reference, now in ((1, 0), (2, 10), (3, 20)):
        await reassembly.add(part(1, reference=reference), origin=ALICE, data_coding=0, now=now)
    assert [e.reference for e in await reassembly.expire(75)] == [1, 2]
    assert [e.reference for e in await reassembly.expire(80)] == [3]


async def test_the_deadline_does_not_slide_with_later_parts() -> None:
    reassembly = store(timeout=60)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    await reassembly.add(part(2), origin=ALICE, data_coding=0, now=59)
    assert len(await reassembly.expire(60)) == 1


async def test_a_part_after_expiry_starts_a_new_message() -> None:
    reassembly = store(timeout=60)
    await reassembly.add(part(1), origin=ALICE, data_coding=0, now=0)
    await reassembly.expire(60)
    assert await reassembly.add(part(2), origin=ALICE, data_coding=0, now=61) == Pending(
        message_id="ID2"
    )


# --- real parts from smpplib, decoded after joining ---------------------------------------


def submit_sms(text: str, *, use_udhi: bool = True) -> list[SubmitSm]:
    parts, data_coding, esm_class = smpplib.gsm.make_parts(text, use_udhi=use_udhi)
    reference = random.randint(0, 0xFFFF)
    return [
        SubmitSm(
            source_addr="SENDER",
            destination_addr="60123456789",
            esm_class=esm_class,
            data_coding=data_coding,
            short_message=chunk,
            tlvs=()
            if use_udhi or len(parts) == 1
            else (
                Tlv(Tag.SAR_MSG_REF_NUM, reference),
                Tlv(Tag.SAR_TOTAL_SEGMENTS, len(parts)),
                Tlv(Tag.SAR_SEGMENT_SEQNUM, seqnum),
            ),
        )
        for seqnum, chunk in enumerate(parts, start=1)
    ]


async def reassemble(pdus: list[SubmitSm]) -> str:
    """Feed PDUs in the given order; exactly the last one must complete the message."""
    reassembly = store()
    results = []
    for pdu in pdus:
        concatenated = concatenation_of(pdu)
        if concatenated is None:
            return decode_text(pdu.data_coding, payload_of(pdu))
        results.append(
            await reassembly.add(concatenated, origin=ALICE, data_coding=pdu.data_coding, now=0)
        )
    *before, last = results
    assert all(isinstance(result, Pending) for result in before)
    assert isinstance(last, Complete)
    assert await reassembly.counts() == (0, 0)
    return decode_text(last.data_coding, last.octets)


async def test_an_escape_pair_cut_across_two_parts_survives() -> None:
    text = "a" * 152 + "€ and more"
    pdus = submit_sms(text)
    assert pdus[0].short_message.endswith(b"\x1b")
    assert pdus[1].short_message[6:7] == b"\x65"
    assert await reassemble(pdus) == text


async def test_a_surrogate_pair_cut_across_two_parts_survives() -> None:
    text = "a" * 66 + "😀 and more"
    pdus = submit_sms(text)
    assert pdus[0].data_coding == 8
    assert pdus[0].short_message.endswith(b"\xd8\x3d")
    assert await reassemble(pdus) == text


async def test_a_surrogate_pair_cut_across_sar_segments_survives() -> None:
    text = "b" * 66 + "👍" * 40
    pdus = submit_sms(text, use_udhi=False)
    assert pdus[0].short_message.endswith(b"\x00b\xd8\x3d")
    assert await reassemble(list(reversed(pdus))) == text


async def test_hand_built_16_bit_reference_parts_reassemble_in_any_order() -> None:
    octets = ("Long message " * 30).encode("ascii")
    chunks = [octets[i : i + 152] for i in range(0, len(octets), 152)]
    pdus = [
        SubmitSm(
            esm_class=0x40,
            data_coding=1,
            short_message=b"\x06\x08\x04\xab\xcd" + bytes([len(chunks), seqnum]) + chunk,
        )
        for seqnum, chunk in enumerate(chunks, start=1)
    ]
    assert await reassemble([pdus[1], pdus[2], pdus[0]]) == "Long message " * 30


# smpplib's table has "`" at 0x5F (the standard has "§"), and "\x1b" is no text character.
GSM_TEXT = st.text(
    alphabet=st.sampled_from(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "ÄÖÑÜ¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
    ),
    min_size=1,
    max_size=700,
)
ANY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="`\x1b"), min_size=1, max_size=400
)
# Runs of escape characters or emoji make splits inside pairs likely.
GSM_PAIRED_TEXT = st.lists(
    st.sampled_from(["a", "€", "[", "^", "é"]), min_size=80, max_size=500
).map("".join)
UCS2_PAIRED_TEXT = st.lists(
    st.sampled_from(["a", "😀", "中", "é", "𝄞"]), min_size=40, max_size=300
).map("".join)


@st.composite
def arrival_order(draw: st.DrawFn, count: int) -> list[int]:
    """A permutation of range(count) with duplicates of non-final parts sprinkled before the
    last one (a duplicate arriving after completion would start a new message)."""
    order = draw(st.permutations(range(count)))
    *head, last = order
    arrivals = list(head)
    for index in draw(st.lists(st.sampled_from(head), max_size=5) if head else st.just([])):
        position = draw(st.integers(min_value=arrivals.index(index) + 1, max_value=len(arrivals)))
        arrivals.insert(position, index)
    return [*arrivals, last]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(GSM_TEXT, ANY_TEXT, GSM_PAIRED_TEXT, UCS2_PAIRED_TEXT), st.booleans(), st.data())
def test_any_arrival_order_with_duplicates_yields_the_text_smpplib_split(
    text: str, use_udhi: bool, data: st.DataObject
) -> None:
    pdus = submit_sms(text, use_udhi=use_udhi)
    order = data.draw(arrival_order(len(pdus)))
    assert asyncio.run(reassemble([pdus[i] for i in order])) == text
