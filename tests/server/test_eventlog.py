"""Structured log lines: logfmt, escaped peer bytes, no empty fields."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pdu import DataSm, Tag, Tlv
from bridge.server.eventlog import SessionLog, body_of, escape, format_fields, status_label


def test_printable_ascii_is_kept_as_is() -> None:
    assert escape("esme1") == "esme1"


def test_control_characters_and_separators_are_escaped() -> None:
    assert escape("a\nb=c\x00") == "a\\x0ab\\x3dc\\x00"


def test_values_with_spaces_or_nothing_are_quoted() -> None:
    assert escape("wrong password") == '"wrong password"'
    assert escape("") == '""'


def test_bytes_are_escaped_byte_by_byte() -> None:
    assert escape(b"hi\xff\r") == "hi\\xff\\x0d"


def test_non_latin_characters_are_escaped_by_code_point() -> None:
    assert escape("€😀") == "\\u20ac\\U0001f600"


@given(st.text() | st.binary())
def test_an_escaped_value_is_always_one_printable_ascii_token(value: str | bytes) -> None:
    escaped = escape(value)
    assert escaped.isascii() and escaped.isprintable()
    inner = escaped[1:-1] if escaped.startswith('"') else escaped
    assert '"' not in inner and "=" not in inner


def test_fields_that_are_none_are_left_out() -> None:
    assert format_fields({"seq": 3, "reason": None, "tls": True}) == "seq=3 tls=true"


def test_status_label_names_known_statuses_and_shows_others_in_hex() -> None:
    assert status_label(0x58) == "ESME_RTHROTTLED"
    assert status_label(0x401) == "0x00000401"


def test_body_of_falls_back_to_message_payload() -> None:
    pdu = DataSm(tlvs=(Tlv(tag=Tag.MESSAGE_PAYLOAD, value=b"payload"),))
    assert body_of(pdu) == b"payload"


def test_every_line_carries_session_and_peer_and_after_the_bind_who_is_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    session_log = SessionLog(logging.getLogger("test"), "s9", "[::1]:4000")
    session_log.event(logging.INFO, "connected")
    session_log.identify("esme1", "receiver")
    session_log.event(logging.INFO, "answered", seq=4)
    assert caplog.messages == [
        "event=connected session=s9 peer=[::1]:4000",
        "event=answered session=s9 peer=[::1]:4000 system_id=esme1 bind=receiver seq=4",
    ]
