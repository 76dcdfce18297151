"""Every reply body iSMS is known to return, and what is not an iSMS reply."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.upstream import UnparseableReply, parse_balance_reply, parse_send_reply


def test_success_with_trx_id_gives_the_trx_id() -> None:
    reply = parse_send_reply(b"2000 = SUCCESS:1171081025")
    assert (reply.code, reply.trx_id, reply.success) == (2000, "1171081025", True)


def test_success_without_id_is_a_success_with_no_trx_id() -> None:
    reply = parse_send_reply(b"2000 = SUCCESS")
    assert (reply.code, reply.trx_id) == (2000, None)


def test_empty_body_is_a_success_with_no_trx_id() -> None:
    reply = parse_send_reply(b"")
    assert (reply.code, reply.trx_id, reply.success) == (2000, None, True)


def test_whitespace_only_body_is_a_blank_success() -> None:
    assert parse_send_reply(b" \r\n").code == 2000


def test_bare_negative_code_is_that_code() -> None:
    reply = parse_send_reply(b"-1001")
    assert (reply.code, reply.trx_id, reply.success) == (-1001, None, False)


def test_code_with_text_keeps_the_text_as_description() -> None:
    reply = parse_send_reply(b"-1004 = INSUFFICIENT CREDITS")
    assert (reply.code, reply.description) == (-1004, "INSUFFICIENT CREDITS")


def test_bom_crlf_and_spaces_around_the_reply_are_ignored() -> None:
    reply = parse_send_reply("\ufeff 2000 = SUCCESS:42\r\n".encode())
    assert (reply.code, reply.trx_id) == (2000, "42")


def test_json_quoted_string_from_restapi_is_unwrapped() -> None:
    reply = parse_send_reply(b'"2000 = SUCCESS:1143007207"')
    assert (reply.code, reply.trx_id) == (2000, "1143007207")


def test_json_quoted_error_from_restapi_is_unwrapped() -> None:
    assert parse_send_reply(b'"-1009 = INVALID DESTINATION NUMBER"\n').code == -1009


def test_json_quoted_empty_string_is_a_blank_success() -> None:
    assert parse_send_reply(b'""').trx_id is None


def test_unlisted_code_is_parsed_as_a_refusal() -> None:
    reply = parse_send_reply(b"20001 = UNKNOWN")
    assert (reply.code, reply.success) == (20001, False)


def test_trx_id_that_cannot_be_a_message_id_is_dropped_but_success_kept() -> None:
    reply = parse_send_reply(b"2000 = SUCCESS:" + b"9" * 70)
    assert (reply.code, reply.trx_id) == (2000, None)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b"<!DOCTYPE html>\n<html>captive portal</html>",
        b"OK",
        b"2000 = SUCCESS:1\n-1004 = INSUFFICIENT CREDITS",
        b'"unterminated',
        b'{"status": "success"}',
        b'"' + b"x" * 10 + b'" trailing',
        b"\xff\xfe\x00garbage",
        b"2000 = SUCCESS:" + b"1" * 5000,
    ],
    ids=[
        "html",
        "doctype",
        "ok",
        "two-lines",
        "broken-json",
        "json-object",
        "json-trailing",
        "not-utf8",
        "huge",
    ],
)
def test_anything_else_is_unparseable(body: bytes) -> None:
    with pytest.raises(UnparseableReply):
        parse_send_reply(body)


@given(st.binary(max_size=200))
def test_any_bytes_either_parse_or_raise_unparseable(body: bytes) -> None:
    try:
        reply = parse_send_reply(body)
    except UnparseableReply:
        return
    assert isinstance(reply.code, int)
    assert reply.trx_id is None or len(reply.trx_id) <= 64


def test_balance_is_a_bare_number() -> None:
    assert parse_balance_reply(b"123.45").credits == Decimal("123.45")


def test_balance_of_zero_is_a_balance_not_an_error() -> None:
    reply = parse_balance_reply(b"0")
    assert (reply.credits, reply.code) == (Decimal(0), None)


def test_balance_error_with_text_is_the_code() -> None:
    reply = parse_balance_reply(b"-1001 = AUTHENTICATION FAILED")
    assert (reply.credits, reply.code, reply.description) == (None, -1001, "AUTHENTICATION FAILED")


def test_bare_error_code_as_balance_is_the_code() -> None:
    assert parse_balance_reply(b"-1008\r\n").code == -1008


def test_json_quoted_balance_is_unwrapped() -> None:
    assert parse_balance_reply(b'"88"').credits == Decimal(88)


def test_html_balance_is_unparseable() -> None:
    with pytest.raises(UnparseableReply):
        parse_balance_reply(b"<html>maintenance</html>")
