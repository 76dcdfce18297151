"""GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1) as unpacked septets, per smpp-brief §11.

The expected values are written from the spec table by hand, never derived from gsm7.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pipeline.checks.gsm7 import decode_gsm7, encode_gsm7, is_gsm7_encodable

# 23.038 §6.2.1, row by row, written out independently of the module's table.
SPEC_BASIC = {
    0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x04: "è", 0x05: "é", 0x06: "ù", 0x07: "ì",
    0x08: "ò", 0x09: "Ç", 0x0A: "\n", 0x0B: "Ø", 0x0C: "ø", 0x0D: "\r", 0x0E: "Å", 0x0F: "å",
    0x10: "\u0394", 0x11: "_", 0x12: "\u03a6", 0x13: "\u0393", 0x14: "\u039b", 0x15: "\u03a9",
    0x16: "\u03a0", 0x17: "\u03a8", 0x18: "\u03a3", 0x19: "\u0398", 0x1A: "\u039e",
    0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É",
    0x20: " ", 0x21: "!", 0x22: '"', 0x23: "#", 0x24: "¤", 0x25: "%", 0x26: "&", 0x27: "'",
    0x28: "(", 0x29: ")", 0x2A: "*", 0x2B: "+", 0x2C: ",", 0x2D: "-", 0x2E: ".", 0x2F: "/",
    **{0x30 + i: str(i) for i in range(10)},
    0x3A: ":", 0x3B: ";", 0x3C: "<", 0x3D: "=", 0x3E: ">", 0x3F: "?",
    0x40: "¡", **{0x41 + i: chr(ord("A") + i) for i in range(26)},
    0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§",
    0x60: "¿", **{0x61 + i: chr(ord("a") + i) for i in range(26)},
    0x7B: "ä", 0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à",
}  # fmt: skip
SPEC_EXTENSION = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}  # fmt: skip

ENCODABLE = sorted(set(SPEC_BASIC.values()) | set(SPEC_EXTENSION.values()))


def test_the_spec_table_names_127_basic_characters_plus_esc() -> None:
    assert len(SPEC_BASIC) == 127


@pytest.mark.parametrize(("code", "char"), sorted(SPEC_BASIC.items()))
def test_every_basic_code_decodes_to_its_23038_character(code: int, char: str) -> None:
    assert decode_gsm7(bytes([code])) == char


@pytest.mark.parametrize(("code", "char"), sorted(SPEC_BASIC.items()))
def test_every_basic_character_encodes_to_one_octet(code: int, char: str) -> None:
    assert encode_gsm7(char) == bytes([code])


@pytest.mark.parametrize(("code", "char"), sorted(SPEC_EXTENSION.items()))
def test_every_extension_code_after_esc_decodes_to_its_character(code: int, char: str) -> None:
    assert decode_gsm7(bytes([0x1B, code])) == char


@pytest.mark.parametrize(("code", "char"), sorted(SPEC_EXTENSION.items()))
def test_every_extension_character_encodes_as_an_esc_pair(code: int, char: str) -> None:
    assert encode_gsm7(char) == bytes([0x1B, code])


def test_0x5f_is_the_section_sign_not_a_backtick_as_smpplib_has_it() -> None:
    assert decode_gsm7(b"\x5f") == "§"


def test_backtick_is_not_in_the_gsm_alphabet() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_gsm7("`")


def test_bytes_that_differ_from_ascii_decode_as_gsm() -> None:
    assert decode_gsm7(b"\x00\x02\x11\x24\x40") == "@$_¤¡"


def test_plain_text_decodes_to_the_same_letters() -> None:
    assert decode_gsm7(b"Hello, World 123?") == "Hello, World 123?"


def test_text_mixing_basic_and_extension_characters_decodes_in_order() -> None:
    assert decode_gsm7(b"Price \x1be5 \x1b<ok\x1b> [") == "Price €5 [ok] Ä"


def test_esc_before_an_undefined_code_shows_the_basic_table_character() -> None:
    assert decode_gsm7(b"\x1bA\x1b\x00") == "A@"


def test_esc_cr2_reads_as_carriage_return() -> None:
    assert decode_gsm7(b"a\x1b\x0db") == "a\rb"


def test_esc_esc_is_shown_as_a_space() -> None:
    assert decode_gsm7(b"a\x1b\x1bb") == "a b"


def test_a_lone_esc_at_the_end_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError, match="escape"):
        decode_gsm7(b"abc\x1b")


def test_an_octet_above_0x7f_is_refused_with_its_offset() -> None:
    with pytest.raises(UnicodeDecodeError) as caught:
        decode_gsm7(b"ab\x80")
    assert caught.value.start == 2


def test_empty_octets_decode_to_empty_text() -> None:
    assert decode_gsm7(b"") == ""


def test_a_character_outside_both_tables_is_refused_with_its_position() -> None:
    with pytest.raises(UnicodeEncodeError) as caught:
        encode_gsm7("ab😀")
    assert caught.value.start == 2


def test_a_literal_escape_character_is_not_encodable() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_gsm7("\x1b")


def test_replace_writes_a_question_mark_for_each_unencodable_character() -> None:
    assert encode_gsm7("a😀b中", errors="replace") == b"a?b?"


def test_encodability_is_reported_without_raising() -> None:
    assert is_gsm7_encodable("Hello €[]")
    assert not is_gsm7_encodable("Hello `")


@given(st.text(alphabet=ENCODABLE))
def test_every_encodable_text_round_trips(text: str) -> None:
    assert decode_gsm7(encode_gsm7(text)) == text


@given(st.binary().map(lambda raw: bytes(b & 0x7F for b in raw).replace(b"\x1b", b"")))
def test_every_septet_string_without_esc_round_trips(octets: bytes) -> None:
    assert encode_gsm7(decode_gsm7(octets)) == octets


@given(st.binary())
def test_any_octets_either_decode_or_raise_unicode_decode_error(octets: bytes) -> None:
    try:
        decoded = decode_gsm7(octets)
    except UnicodeDecodeError:
        return
    assert len(decoded) <= len(octets)
