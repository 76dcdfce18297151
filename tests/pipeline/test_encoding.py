"""Text from data_coding (SMPP 3.4 §5.2.19, 3GPP TS 23.038 §4) and the iSMS `type`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pdu import CommandStatus
from bridge.pipeline import UndecodableText, decode_text
from bridge.pipeline.checks.encoding import isms_type

# The same bytes read differently under data_coding 0 depending on the account's dc0.
GSM_VS_ASCII = b"\x40\x24\x5f\x00"


def test_dc0_is_gsm_03_38_by_default() -> None:
    assert decode_text(0x00, GSM_VS_ASCII) == "¡¤§@"


def test_dc0_reads_the_extension_table() -> None:
    assert decode_text(0x00, b"\x1b\x65 10 \x1b\x3cok\x1b\x3e") == "€ 10 [ok]"


def test_dc0_latin1_switch_reads_octets_as_iso_8859_1() -> None:
    assert decode_text(0x00, b"caf\xe9 @ \xa3", dc0="latin1") == "café @ £"


def test_dc0_ascii_switch_reads_octets_as_ascii() -> None:
    assert decode_text(0x00, GSM_VS_ASCII, dc0="ascii") == "@$_\x00"


def test_dc0_ascii_switch_refuses_octets_above_0x7f() -> None:
    with pytest.raises(UndecodableText) as caught:
        decode_text(0x00, b"caf\xe9", dc0="ascii")
    assert caught.value.kind == "malformed"
    assert "offset 3" in caught.value.reason


def test_dc0_gsm_refuses_octets_above_0x7f() -> None:
    with pytest.raises(UndecodableText, match="offset 1"):
        decode_text(0x00, b"a\xe9")


def test_dc0_gsm_refuses_a_message_ending_in_a_lone_escape() -> None:
    with pytest.raises(UndecodableText, match="escape"):
        decode_text(0x00, b"abc\x1b")


def test_dc1_is_ascii_by_default() -> None:
    assert decode_text(0x01, b"Hello @$_") == "Hello @$_"


def test_dc1_ascii_refuses_octets_above_0x7f() -> None:
    with pytest.raises(UndecodableText):
        decode_text(0x01, b"\xa3")


def test_dc1_gsm7_switch_reads_gsm_coded_octets() -> None:
    assert decode_text(0x01, b"\x01 5 \x00 x", dc1="gsm7") == "£ 5 @ x"


def test_dc3_is_latin1() -> None:
    assert decode_text(0x03, b"\xa3 \xe9 \xfc \xff") == "£ é ü ÿ"


def test_dc6_is_cyrillic_iso_8859_5() -> None:
    assert decode_text(0x06, b"\xbf\xe0\xd8\xd2\xd5\xe2") == "Привет"


def test_dc7_is_hebrew_iso_8859_8_in_the_order_sent() -> None:
    assert decode_text(0x07, b"\xf9\xec\xe5\xed") == "שלום"


def test_dc7_refuses_an_octet_iso_8859_8_leaves_undefined() -> None:
    with pytest.raises(UndecodableText):
        decode_text(0x07, b"\xbf")


def test_dc8_is_ucs2_big_endian() -> None:
    assert decode_text(0x08, "Selamat 你好 €".encode("utf-16-be")) == "Selamat 你好 €"


def test_dc8_reads_surrogate_pairs_so_emoji_survive() -> None:
    assert decode_text(0x08, b"\x00H\x00i\xd8\x3d\xde\x00") == "Hi😀"


def test_dc8_refuses_a_lone_high_surrogate() -> None:
    with pytest.raises(UndecodableText) as caught:
        decode_text(0x08, b"\xd8\x3d\x00a")
    assert caught.value.kind == "malformed"


def test_dc8_refuses_a_lone_low_surrogate() -> None:
    with pytest.raises(UndecodableText):
        decode_text(0x08, b"\x00a\xde\x00")


def test_dc8_refuses_a_high_surrogate_at_the_end() -> None:
    with pytest.raises(UndecodableText):
        decode_text(0x08, b"\x00a\xd8\x3d")


def test_dc8_refuses_an_odd_number_of_octets() -> None:
    with pytest.raises(UndecodableText):
        decode_text(0x08, b"\x00a\x00")


@pytest.mark.parametrize("data_coding", [0xF0, 0xF1, 0xF2, 0xF3])
def test_gsm7_with_a_message_class_is_read_as_gsm(data_coding: int) -> None:
    assert decode_text(data_coding, b"Flash \x00 \x1be") == "Flash @ €"


def test_gsm7_with_a_message_class_ignores_the_dc0_switch() -> None:
    assert decode_text(0xF0, b"\x00", dc0="latin1") == "@"


@pytest.mark.parametrize("data_coding", [0xF8, 0xF9, 0xFA, 0xFB])
def test_class_group_with_the_reserved_bit_set_is_read_by_its_alphabet_bit(
    data_coding: int,
) -> None:
    assert decode_text(data_coding, b"\x00") == "@"


@pytest.mark.parametrize("data_coding", [0x10, 0x11, 0x12, 0x13, 0x40, 0x50])
def test_gsm_dcs_with_alphabet_bits_00_is_read_as_gsm(data_coding: int) -> None:
    assert decode_text(data_coding, b"\x02\x11") == "$_"


@pytest.mark.parametrize("data_coding", [0x18, 0x19, 0x1A, 0x1B, 0x48, 0x58])
def test_gsm_dcs_with_alphabet_bits_10_is_read_as_ucs2(data_coding: int) -> None:
    assert decode_text(data_coding, "Hi 😀".encode("utf-16-be")) == "Hi 😀"


@pytest.mark.parametrize(
    "data_coding", [0x02, 0x04, 0xF4, 0xF5, 0xF6, 0xF7, 0xFC, 0xFF, 0x14, 0x15, 0x44]
)
def test_binary_codings_are_refused_as_binary(data_coding: int) -> None:
    with pytest.raises(UndecodableText) as caught:
        decode_text(data_coding, b"Hello")
    assert caught.value.kind == "binary"
    assert caught.value.data_coding == data_coding


@pytest.mark.parametrize(
    ("data_coding", "said"),
    [
        (0x05, "JIS X 0208"),
        (0x09, "pictogram"),
        (0x0A, "ISO-2022-JP"),
        (0x0D, "JIS X 0212"),
        (0x0E, "KS C 5601"),
        (0x0B, "reserved"),
        (0x0C, "reserved"),
        (0x0F, "reserved"),
        (0x1C, "reserved GSM DCS alphabet"),
        (0x20, "compressed"),
        (0x3F, "compressed"),
        (0x60, "compressed"),
        (0x80, "reserved GSM DCS coding group"),
        (0xBF, "reserved GSM DCS coding group"),
        (0xC0, "message-waiting"),
        (0xD8, "message-waiting"),
        (0xE0, "message-waiting"),
    ],
)
def test_unsupported_codings_are_refused_saying_which(data_coding: int, said: str) -> None:
    with pytest.raises(UndecodableText) as caught:
        decode_text(data_coding, b"Hello")
    assert caught.value.kind == "unsupported"
    assert said in caught.value.reason


def test_a_refusal_is_answered_with_esme_rsubmitfail() -> None:
    assert UndecodableText.command_status is CommandStatus.ESME_RSUBMITFAIL


def test_a_refusal_reason_never_quotes_the_message_text() -> None:
    with pytest.raises(UndecodableText) as caught:
        decode_text(0x01, b"secret code 1234 \xff")
    assert "secret" not in str(caught.value)


@given(st.integers(min_value=0, max_value=255), st.binary(max_size=64))
def test_any_coding_and_octets_either_decode_or_raise_undecodable_text(
    data_coding: int, octets: bytes
) -> None:
    try:
        text = decode_text(data_coding, octets)
    except UndecodableText as refusal:
        assert refusal.kind in ("binary", "unsupported", "malformed")
        assert refusal.data_coding == data_coding
    else:
        assert len(text) <= len(octets)


@given(st.text())
def test_any_text_sent_as_ucs2_decodes_back_exactly(text: str) -> None:
    encoded = text.encode("utf-16-be", errors="surrogatepass")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        with pytest.raises(UndecodableText):
            decode_text(0x08, encoded)
    else:
        assert decode_text(0x08, encoded) == text


def test_type_is_1_for_plain_ascii() -> None:
    assert isms_type("Hello World! @#$%^&*()_+{}|~`\n") == 1


def test_type_is_1_for_empty_text() -> None:
    assert isms_type("") == 1


@pytest.mark.parametrize("text", ["£5", "café", "€", "你好", "Hi 😀", "¡", "\x80"])
def test_type_is_2_as_soon_as_one_character_is_not_7_bit_ascii(text: str) -> None:
    assert isms_type(text) == 2
