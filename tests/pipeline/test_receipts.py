"""Delivery receipts (SMPP 3.4 Appendix B, §5.2.12, §5.2.17, §5.2.28)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from bridge.pdu import DeliverSm, Tag, Tlv
from bridge.pipeline import MessageState, decode_text
from bridge.pipeline.outcome.receipts import (
    ERR_NONE,
    ERR_REASSEMBLY_TIMEOUT,
    ERR_UNKNOWN,
    DeliveryReceipt,
    receipt_deliver_sm,
    receipt_error_code,
    receipt_text,
    receipt_wanted,
    success_state,
)

SUBMITTED = datetime(2024, 3, 9, 14, 5, 59)
DONE = datetime(2024, 3, 9, 14, 6, 1)

# Jasmin's receipt regex, the strictest common parser: stat 7 word chars, err 3.
JASMIN_RECEIPT = re.compile(
    r"id:(?P<id>[\dA-Za-z\-_]+) sub:(?P<sub>\d{3}) dlvrd:(?P<dlvrd>\d{3}) "
    r"submit date:(?P<sdate>\d+) done date:(?P<ddate>\d+) stat:(?P<stat>\w{7}) "
    r"err:(?P<err>\w{3}) text:(?P<text>.*)"
)


def receipt(**overrides: object) -> DeliveryReceipt:
    fields: dict[str, object] = {
        "message_id": "1234567890",
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "MYSHOP",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "60123456789",
        "submit_date": SUBMITTED,
        "done_date": DONE,
        "message_state": MessageState.ACCEPTED,
        "text": "Your code is 123456. Do not share it.",
    }
    fields.update(overrides)
    return DeliveryReceipt(**fields)  # type: ignore[arg-type]


def test_an_accepted_receipt_reads_in_the_de_facto_form() -> None:
    assert receipt_text(receipt()) == (
        "id:1234567890 sub:001 dlvrd:000 submit date:2403091405 done date:2403091406 "
        "stat:ACCEPTD err:000 text:Your code is 123456."
    )


def test_a_delivered_receipt_counts_one_delivered() -> None:
    text = receipt_text(receipt(message_state=MessageState.DELIVERED))
    assert " dlvrd:001 " in text
    assert " stat:DELIVRD " in text


def test_a_rejected_receipt_carries_the_error_code_in_three_digits() -> None:
    text = receipt_text(receipt(message_state=MessageState.REJECTED, error_code=4))
    assert "stat:REJECTD err:004 text:" in text


def test_the_receipt_text_parses_with_jasmins_regex() -> None:
    match = JASMIN_RECEIPT.fullmatch(receipt_text(receipt(error_code=255)))
    assert match is not None
    assert match["err"] == "255"
    assert match["text"] == "Your code is 123456."


def test_only_the_first_20_characters_of_the_text_are_quoted() -> None:
    assert receipt_text(receipt(text="x" * 50)).endswith("text:" + "x" * 20)


def test_a_short_text_is_quoted_whole_and_an_empty_one_leaves_text_empty() -> None:
    assert receipt_text(receipt(text="Hi")).endswith(" text:Hi")
    assert receipt_text(receipt(text="")).endswith(" text:")


@pytest.mark.parametrize(
    ("state", "stat"),
    [
        (MessageState.ENROUTE, "ENROUTE"),
        (MessageState.DELIVERED, "DELIVRD"),
        (MessageState.EXPIRED, "EXPIRED"),
        (MessageState.DELETED, "DELETED"),
        (MessageState.UNDELIVERABLE, "UNDELIV"),
        (MessageState.ACCEPTED, "ACCEPTD"),
        (MessageState.UNKNOWN, "UNKNOWN"),
        (MessageState.REJECTED, "REJECTD"),
    ],
)
def test_each_message_state_has_its_appendix_b_stat_word(state: MessageState, stat: str) -> None:
    assert state.stat == stat


@pytest.mark.parametrize(
    ("state", "value"),
    [
        (MessageState.ENROUTE, 1),
        (MessageState.DELIVERED, 2),
        (MessageState.EXPIRED, 3),
        (MessageState.DELETED, 4),
        (MessageState.UNDELIVERABLE, 5),
        (MessageState.ACCEPTED, 6),
        (MessageState.UNKNOWN, 7),
        (MessageState.REJECTED, 8),
    ],
)
def test_message_state_values_are_those_of_smpp_3_4(state: MessageState, value: int) -> None:
    assert state == value


# --- the deliver_sm -------------------------------------------------------------------


def test_the_deliver_sm_is_a_receipt_from_the_original_destination_to_the_source() -> None:
    pdu = receipt_deliver_sm(receipt(), sequence_number=77)
    assert isinstance(pdu, DeliverSm)
    assert pdu.esm_class == 0x04
    assert pdu.sequence_number == 77
    assert (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr) == (1, 1, "60123456789")
    assert (pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr) == (5, 0, "MYSHOP")
    assert (pdu.data_coding, pdu.registered_delivery) == (0, 0)


def test_the_deliver_sm_carries_only_receipted_message_id_and_message_state() -> None:
    pdu = receipt_deliver_sm(receipt(message_state=MessageState.REJECTED))
    assert pdu.tlvs == (
        Tlv(Tag.RECEIPTED_MESSAGE_ID, "1234567890"),
        Tlv(Tag.MESSAGE_STATE, 8),
    )


def test_the_deliver_sm_adds_the_user_message_reference_the_submit_had() -> None:
    pdu = receipt_deliver_sm(receipt(user_message_reference=0x1234))
    assert pdu.tlv(Tag.USER_MESSAGE_REFERENCE) == 0x1234
    assert len(pdu.tlvs) == 3


def test_the_short_message_is_the_receipt_text_in_gsm_by_default() -> None:
    pdu = receipt_deliver_sm(receipt(text="Pay @ shop_1 €5"))
    assert pdu.short_message.startswith(b"id:1234567890 sub:001 ")
    assert pdu.short_message.endswith(b"text:Pay \x00 shop\x111 \x1b\x655")
    assert decode_text(0, pdu.short_message) == receipt_text(receipt(text="Pay @ shop_1 €5"))


def test_an_account_reading_dc0_as_latin1_gets_a_latin1_receipt() -> None:
    pdu = receipt_deliver_sm(receipt(text="Pay @ café"), dc0="latin1")
    assert pdu.short_message.endswith(b"text:Pay @ caf\xe9")


def test_an_account_reading_dc0_as_ascii_gets_an_ascii_receipt() -> None:
    pdu = receipt_deliver_sm(receipt(text="Pay @ café"), dc0="ascii")
    assert pdu.short_message.endswith(b"text:Pay @ caf?")


def test_characters_the_alphabet_lacks_become_question_marks() -> None:
    pdu = receipt_deliver_sm(receipt(text="Hi 😀 你好"))
    assert pdu.short_message.endswith(b"text:Hi ? ??")


def test_the_longest_receipt_fits_in_short_message() -> None:
    pdu = receipt_deliver_sm(receipt(message_id="Z" * 64, text="€" * 40))
    assert len(pdu.short_message) <= 254


def test_a_receipt_refuses_an_id_longer_than_smpp_allows() -> None:
    with pytest.raises(ValueError, match="1-64"):
        receipt(message_id="9" * 65)


def test_a_receipt_refuses_an_error_code_outside_a_byte() -> None:
    with pytest.raises(ValueError, match="0-255"):
        receipt(error_code=1004)


# --- error codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("isms_code", "err"),
    [(-1001, 1), (-1004, 4), (-1009, 9), (-1012, 12), (-1013, 13), (-1249, 249)],
)
def test_an_isms_refusal_code_reads_as_its_last_digits(isms_code: int, err: int) -> None:
    assert receipt_error_code(isms_code) == err


@pytest.mark.parametrize("isms_code", [-1000, -1250, -999, 0, 2000, -5])
def test_isms_unknown_error_and_codes_outside_the_table_read_as_255(isms_code: int) -> None:
    assert receipt_error_code(isms_code) == ERR_UNKNOWN == 255


def test_bridge_reasons_sit_outside_the_isms_range() -> None:
    assert ERR_NONE == 0
    assert ERR_REASSEMBLY_TIMEOUT == 250


# --- when to send ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered_delivery", "state", "wanted"),
    [
        (0x00, MessageState.ACCEPTED, False),
        (0x00, MessageState.REJECTED, False),
        (0x01, MessageState.ACCEPTED, True),
        (0x01, MessageState.DELIVERED, True),
        (0x01, MessageState.REJECTED, True),
        (0x01, MessageState.EXPIRED, True),
        (0x02, MessageState.ACCEPTED, False),
        (0x02, MessageState.DELIVERED, False),
        (0x02, MessageState.REJECTED, True),
        (0x02, MessageState.EXPIRED, True),
        (0x02, MessageState.UNKNOWN, True),
        (0x03, MessageState.ACCEPTED, True),
        (0x03, MessageState.REJECTED, False),
        (0x01, MessageState.ENROUTE, False),
        (0x11, MessageState.ACCEPTED, True),
        (0x1C, MessageState.ACCEPTED, False),
        (0x1E, MessageState.REJECTED, True),
    ],
)
def test_registered_delivery_decides_which_receipts_are_sent(
    registered_delivery: int, state: MessageState, wanted: bool
) -> None:
    assert receipt_wanted(registered_delivery, state) is wanted


def test_isms_success_is_reported_as_accepted() -> None:
    assert success_state(report_delivered=False) is MessageState.ACCEPTED


def test_an_account_that_opted_in_gets_delivered_after_isms_success() -> None:
    assert success_state(report_delivered=True) is MessageState.DELIVERED
