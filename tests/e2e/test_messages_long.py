"""Long messages over real sockets: every SMPP form becomes ONE iSMS request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import smpplib.gsm
from smpplib_esme import read_receipts, submit, submit_many

from bridge.pdu import CommandStatus

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e

TO = "60123456789"


@pytest.fixture
def rig(tmp_path: Path, run_server: Callable[..., object]) -> Iterator[MessagesRig]:
    with running(tmp_path, run_server, messages={"reassembly_timeout_s": 0.5}) as running_rig:
        yield running_rig


def parts_of(text: str) -> tuple[list[bytes], int, int]:
    return smpplib.gsm.make_parts(text)  # type: ignore[no-any-return]


def udh_messages(parts: list[bytes], data_coding: int, esm_class: int) -> list[dict[str, object]]:
    return [
        {
            "destination_addr": TO,
            "short_message": p,
            "data_coding": data_coding,
            "esm_class": esm_class,
        }
        for p in parts
    ]


def test_make_parts_udh_parts_become_one_isms_request_with_the_whole_text(rig: MessagesRig) -> None:
    text = "Dear customer, " + "your statement is ready. " * 12
    parts, data_coding, esm_class = parts_of(text)
    assert len(parts) == 3
    answers = submit_many(rig.smpplib(), udh_messages(parts, data_coding, esm_class))
    [record] = rig.sandbox.wait_for(1)
    assert [a.status for a in answers] == [0, 0, 0]
    assert answers[-1].message_id == record["trx_id"]
    assert len({a.message_id for a in answers}) == 3  # each part has its own message_id
    assert (record["text"], record["sms_type"]) == (text, "1")


def test_an_escape_pair_split_by_make_parts_arrives_as_one_euro_sign(rig: MessagesRig) -> None:
    text = "x" * 152 + "€ and the rest"
    parts, data_coding, esm_class = parts_of(text)
    assert parts[0].endswith(b"\x1b")  # smpplib cut the ESC pair in two
    submit_many(rig.smpplib(), udh_messages(parts, data_coding, esm_class))
    [record] = rig.sandbox.wait_for(1)
    assert (record["text"], record["sms_type"]) == (text, "2")


def test_a_surrogate_pair_split_by_make_parts_arrives_as_the_emoji(rig: MessagesRig) -> None:
    text = "a" * 66 + "😀" + " the end"
    parts, data_coding, esm_class = parts_of(text)
    assert data_coding == 8 and parts[0].endswith(b"\xd8\x3d")
    submit_many(rig.smpplib(), udh_messages(parts, data_coding, esm_class))
    [record] = rig.sandbox.wait_for(1)
    assert record["text"] == text


def test_parts_sent_out_of_order_are_joined_in_part_order(rig: MessagesRig) -> None:
    text = "one " * 60
    parts, data_coding, esm_class = parts_of(text)
    submit_many(rig.smpplib(), udh_messages(parts[::-1], data_coding, esm_class))
    [record] = rig.sandbox.wait_for(1)
    assert record["text"] == text


def test_a_duplicated_part_is_answered_twice_and_the_text_is_sent_once(rig: MessagesRig) -> None:
    text = "dup " * 60
    parts, data_coding, esm_class = parts_of(text)
    sent = [parts[0], parts[0], parts[1]]
    answers = submit_many(rig.smpplib(), udh_messages(sent, data_coding, esm_class))
    [record] = rig.sandbox.wait_for(1)
    assert answers[0].message_id == answers[1].message_id
    assert record["text"] == text


def test_parts_with_a_16_bit_reference_built_by_hand_are_joined(rig: MessagesRig) -> None:
    header = bytes([6, 0x08, 4, 0xAB, 0xCD, 2])
    messages = [
        {"destination_addr": TO, "esm_class": 0x40, "short_message": header + b"\x01" + b"first "},
        {"destination_addr": TO, "esm_class": 0x40, "short_message": header + b"\x02" + b"second"},
    ]
    submit_many(rig.smpplib(), messages)
    [record] = rig.sandbox.wait_for(1)
    assert record["text"] == "first second"


def test_parts_with_sar_tlvs_are_joined(rig: MessagesRig) -> None:
    parts, data_coding, _ = smpplib.gsm.make_parts("sar " * 60, use_udhi=False)
    messages = [
        {
            "destination_addr": TO,
            "short_message": part,
            "data_coding": data_coding,
            "sar_msg_ref_num": 513,
            "sar_total_segments": len(parts),
            "sar_segment_seqnum": seqnum,
        }
        for seqnum, part in enumerate(parts, start=1)
    ]
    submit_many(rig.smpplib(), messages)
    [record] = rig.sandbox.wait_for(1)
    assert record["text"] == "sar " * 60


def test_a_long_message_payload_in_one_submit_sm_is_one_request(rig: MessagesRig) -> None:
    text = "payload " * 50
    answer = submit(rig.smpplib(), destination_addr=TO, message_payload=text.encode())
    [record] = rig.sandbox.wait_for(1)
    assert answer.message_id == record["trx_id"] and record["text"] == text


def test_a_joined_text_over_700_characters_refuses_the_last_part_rinvmsglen(
    rig: MessagesRig,
) -> None:
    parts, data_coding, esm_class = parts_of("y" * 765)  # 5 parts of 153
    answers = submit_many(rig.smpplib(), udh_messages(parts, data_coding, esm_class))
    assert [a.status for a in answers] == [0, 0, 0, 0, CommandStatus.ESME_RINVMSGLEN]
    assert rig.sandbox.messages() == []


def test_an_incomplete_message_expires_with_a_failure_receipt(rig: MessagesRig) -> None:
    parts, data_coding, esm_class = parts_of("never finished " * 20)
    client = rig.smpplib("transceiver")
    [answer] = submit_many(
        client, [{**udh_messages(parts, data_coding, esm_class)[0], "registered_delivery": 1}]
    )
    [receipt] = read_receipts(client, 1)  # the sweep runs each second; the timeout is 0.5 s
    text = receipt.short_message.decode()
    assert text.startswith(f"id:{answer.message_id} ") and "stat:EXPIRED err:250" in text
    assert receipt.message_state == 3
    assert rig.sandbox.messages() == []
    assert rig.server.run(lambda: rig.pipeline.counters.reassembly_expired) == 1
