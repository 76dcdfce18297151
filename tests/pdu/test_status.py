"""command_status in words: every 3.4 status has its description, any other value a label."""

from __future__ import annotations

from bridge.pdu import CommandStatus, status_description, status_name


def test_every_status_smpp_3_4_defines_has_its_own_words() -> None:
    words = {status: status_description(status) for status in CommandStatus}
    assert "not defined by SMPP 3.4" not in words.values()
    assert len(set(words.values())) == len(words)


def test_the_destination_refusal_reads_as_table_5_2_says() -> None:
    assert status_description(0x0000000B) == "invalid destination address"
    assert status_name(0x0000000B) == "ESME_RINVDSTADR"


def test_a_vendor_status_and_an_undefined_one_are_told_apart() -> None:
    assert status_description(0x00000401) == "SMSC vendor-specific error"
    assert status_description(0x00000022) == "not defined by SMPP 3.4"
