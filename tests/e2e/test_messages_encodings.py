"""Each data_coding, through smpplib, the bridge and the sandbox: exactly the text, the right
type. What iSMS received is read back from the sandbox's /messages.json."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import smpplib.gsm
from smpplib_esme import submit

from bridge.pdu import CommandStatus

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e

CODINGS = [
    # (data_coding, octets, account options, text iSMS receives, type)
    pytest.param(0x00, b"Hello", {}, "Hello", "1", id="dc0-ascii-letters"),
    pytest.param(0x00, b"\x00\x01\x02\x11 \x1b\x65", {}, "@£$_ €", "2", id="dc0-gsm7"),
    pytest.param(0x00, b"caf\xe9", {"dc0": "latin1"}, "café", "2", id="dc0-latin1"),
    pytest.param(0x00, b"a@b$c", {"dc0": "ascii"}, "a@b$c", "1", id="dc0-ascii"),
    pytest.param(0x01, b"user@example.com", {}, "user@example.com", "1", id="dc1-ascii"),
    pytest.param(0x01, b"\x00\x02", {"dc1": "gsm7"}, "@$", "1", id="dc1-gsm7"),
    pytest.param(0x03, b"\xa3\xe9", {}, "£é", "2", id="dc3-latin1"),
    pytest.param(0x08, "Привет".encode("utf-16-be"), {}, "Привет", "2", id="dc8-ucs2"),
    pytest.param(0xF0, b"Flash", {}, "Flash", "1", id="dcF0-gsm7-class0"),
    pytest.param(0xF1, b"\x1b\x3c1\x1b\x3e", {}, "[1]", "1", id="dcF1-gsm7-class1"),
    pytest.param(0x18, "Olá".encode("utf-16-be"), {}, "Olá", "2", id="dc18-ucs2-flash"),
]


@pytest.fixture
def bridge_for(
    tmp_path: Path, run_server: Callable[..., object]
) -> Iterator[Callable[..., MessagesRig]]:
    with ExitStack() as stack:
        yield lambda **account: stack.enter_context(running(tmp_path, run_server, account=account))


@pytest.mark.parametrize(("data_coding", "octets", "options", "text", "sms_type"), CODINGS)
def test_each_data_coding_reaches_isms_as_exactly_its_text_and_type(
    bridge_for: Callable[..., MessagesRig],
    data_coding: int,
    octets: bytes,
    options: dict[str, str],
    text: str,
    sms_type: str,
) -> None:
    rig = bridge_for(**options)
    answer = submit(
        rig.smpplib(),
        destination_addr="60123456789",
        short_message=octets,
        data_coding=data_coding,
    )
    [record] = rig.sandbox.wait_for(1)
    assert answer.status == 0 and answer.message_id == record["trx_id"]
    assert (record["text"], record["sms_type"], record["destinations"]) == (
        text,
        sms_type,
        ["60123456789"],
    )


def test_an_emoji_goes_through_ucs2_as_itself(bridge_for: Callable[..., MessagesRig]) -> None:
    rig = bridge_for()
    [part], data_coding, esm_class = smpplib.gsm.make_parts("Party 🎉 tonight")
    assert data_coding == 8
    answer = submit(
        rig.smpplib(),
        destination_addr="60123456789",
        short_message=part,
        data_coding=data_coding,
        esm_class=esm_class,
    )
    [record] = rig.sandbox.wait_for(1)
    assert answer.status == 0
    assert (record["text"], record["sms_type"]) == ("Party 🎉 tonight", "2")


def test_binary_data_coding_is_refused_rsubmitfail_and_isms_gets_nothing(
    bridge_for: Callable[..., MessagesRig],
) -> None:
    rig = bridge_for()
    answer = submit(
        rig.smpplib(), destination_addr="60123456789", short_message=b"\x01\x02", data_coding=4
    )
    assert answer.status == CommandStatus.ESME_RSUBMITFAIL
    assert rig.sandbox.messages() == []


def test_a_valid_source_addr_reaches_isms_as_the_sender_id(
    bridge_for: Callable[..., MessagesRig],
) -> None:
    rig = bridge_for()
    submit(
        rig.smpplib(),
        source_addr="MyBrand",
        destination_addr="+60123456789",
        short_message=b"hi",
    )
    [record] = rig.sandbox.wait_for(1)
    assert (record["sender_id"], record["destinations"]) == ("MyBrand", ["60123456789"])


def test_an_isms_refusal_reaches_the_esme_as_its_mapped_status(
    bridge_for: Callable[..., MessagesRig],
) -> None:
    rig = bridge_for()
    # Reserved sandbox number 60000001004: iSMS answers -1004 INSUFFICIENT CREDITS.
    answer = submit(rig.smpplib(), destination_addr="60000001004", short_message=b"hi")
    assert answer.status == CommandStatus.ESME_RSUBMITFAIL and answer.message_id is None


def test_a_blank_isms_success_gets_a_bridge_message_id(
    bridge_for: Callable[..., MessagesRig],
) -> None:
    rig = bridge_for()
    # Reserved sandbox number 60000002000: success with an empty body.
    answer = submit(rig.smpplib(), destination_addr="60000002000", short_message=b"hi")
    assert answer.status == 0 and answer.message_id is not None and len(answer.message_id) == 18
