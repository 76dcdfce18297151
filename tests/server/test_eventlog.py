"""Structured log lines: logfmt, escaped peer bytes, no empty fields."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pdu import DataSm, Tag, Tlv
from bridge.server.eventlog import (
    RepeatedEvents,
    SessionLog,
    body_of,
    escape,
    format_fields,
    status_label,
)


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


# --- repeated events -----------------------------------------------------------------------


def test_the_first_occurrence_is_written_and_the_rest_of_its_interval_only_counted() -> None:
    repeats = RepeatedEvents(10.0)
    assert [repeats.occurred("window_full", 100.0 + i) for i in range(4)] == [
        True,
        False,
        False,
        False,
    ]
    assert repeats.summaries(109.0) == []
    assert repeats.summaries(110.0) == [("window_full", 3)]


def test_a_flood_that_goes_on_gets_one_summary_per_interval_and_no_full_lines() -> None:
    repeats = RepeatedEvents(10.0)
    repeats.occurred("window_full", 0.0)
    written = []
    for tick in range(1, 30):
        written.append(repeats.occurred("window_full", float(tick)))
        written.extend(count > 0 for _name, count in repeats.summaries(float(tick)))
    assert written.count(True) == 2  # the summaries at 10 s and 20 s


def test_an_occurrence_after_a_quiet_interval_is_written_in_full_again() -> None:
    repeats = RepeatedEvents(10.0)
    repeats.occurred("throttled", 0.0)
    assert repeats.next_summary_at() is None  # nothing counted: nothing to summarise
    assert repeats.occurred("throttled", 11.0)


def test_names_are_counted_apart() -> None:
    repeats = RepeatedEvents(10.0)
    assert repeats.occurred("window_full", 0.0)
    assert repeats.occurred("throttled", 1.0)
    repeats.occurred("throttled", 2.0)
    assert repeats.next_summary_at() == 11.0
    assert repeats.summaries(0.0, final=True) == [("throttled", 1)]
