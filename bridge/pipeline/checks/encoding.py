"""Text from data_coding + octets, and the iSMS `type` for that text.

iSMS carries text only, so every data_coding either decodes to exactly the text the ESME
meant or is refused with `UndecodableText` (answered ESME_RSUBMITFAIL, with the reason in
the log line). What each value means (SMPP 3.4 §5.2.19; values from 0x10 up are GSM DCS
octets, 3GPP TS 23.038 §4):

| data_coding | decoded as |
|---|---|
| 0x00 | per account `dc0`: "gsm7" (GSM 03.38, default) / "latin1" / "ascii" |
| 0x01 | per account `dc1`: "ascii" (IA5, default) / "gsm7" (some libraries put GSM under 1) |
| 0x03 | Latin-1 (ISO-8859-1) |
| 0x06 | Cyrillic, ISO-8859-5 |
| 0x07 | Latin/Hebrew, ISO-8859-8 (characters in the order sent; no visual reordering) |
| 0x08 | UCS-2 read as UTF-16BE, so surrogate pairs (emoji) survive; lone surrogates refused |
| 0x10-0x1F, 0x40-0x5F | GSM DCS general / auto-deletion group, uncompressed: by the alphabet bits |
|  | (dc >> 2) & 3: 0 GSM 7-bit, 2 UCS-2; 1 (8-bit) refused as binary, 3 reserved |
| 0xF0-0xF3 | GSM 7-bit with message class 0-3 (the class is dropped: iSMS has none) |
| 0xF8-0xFB | as 0xF0-0xF3: 23.038 reserves bit 3, and a receiver ignores reserved bits |
| refused: binary | 0x02, 0x04, 0xF4-0xF7, 0xFC-0xFF, 8-bit GSM DCS alphabet |
| refused: unsupported | 0x05 JIS X 0208, 0x09 pictogram, 0x0A ISO-2022-JP music codes, |
|  | 0x0D JIS X 0212, 0x0E KS C 5601 (no codec here says exactly what an ESME sends under |
|  | them: refusing is visible, guessing would bill the customer for garbage), |
|  | 0x0B, 0x0C, 0x0F and 0x80-0xBF (reserved), 0x20-0x3F and 0x60-0x7F (compressed), |
|  | 0xC0-0xEF (message-waiting indication: iSMS cannot set one) |

`type` (iSMS send API): 1 when every character is 7-bit ASCII, else 2 (£, é, € need 2).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from bridge.pdu import CommandStatus
from bridge.pipeline.checks.gsm7 import decode_gsm7

DefaultAlphabet = Literal["gsm7", "latin1", "ascii"]
Ia5Alphabet = Literal["ascii", "gsm7"]
RefusalKind = Literal["binary", "unsupported", "malformed"]

_Alphabet = Literal["gsm7", "latin1", "ascii", "utf-16-be", "iso8859-5", "iso8859-8"]

ISMS_TYPE_ASCII = 1
ISMS_TYPE_UNICODE = 2


class UndecodableText(ValueError):
    """The octets do not make text iSMS can carry. `reason` never contains message text.

    `kind` is a bounded label for metrics: "binary" (8-bit data), "unsupported" (a coding
    this bridge does not decode) or "malformed" (the octets break their own coding).
    """

    command_status: ClassVar[CommandStatus] = CommandStatus.ESME_RSUBMITFAIL

    def __init__(self, reason: str, *, kind: RefusalKind, data_coding: int) -> None:
        super().__init__(f"data_coding 0x{data_coding:02X}: {reason}")
        self.reason = reason
        self.kind: RefusalKind = kind
        self.data_coding = data_coding


# SMPP 3.4 §5.2.19 codings this bridge refuses by name, so the log says what was sent.
_UNSUPPORTED_SMPP_CODINGS: dict[int, str] = {
    0x05: "JIS X 0208-1990 is not supported",
    0x09: "pictogram encoding is not supported",
    0x0A: "ISO-2022-JP music codes are not supported",
    0x0B: "reserved data_coding",
    0x0C: "reserved data_coding",
    0x0D: "extended Kanji JIS X 0212-1990 is not supported",
    0x0E: "KS C 5601 is not supported",
    0x0F: "reserved data_coding",
}


def decode_text(
    data_coding: int,
    octets: bytes,
    *,
    dc0: DefaultAlphabet = "gsm7",
    dc1: Ia5Alphabet = "ascii",
) -> str:
    """The text the ESME meant, or `UndecodableText` saying why there is none."""
    alphabet = _alphabet_of(data_coding, dc0=dc0, dc1=dc1)
    try:
        if alphabet == "gsm7":
            return decode_gsm7(octets)
        return octets.decode(alphabet)
    except UnicodeDecodeError as error:
        raise UndecodableText(
            f"not valid {_ALPHABET_NAMES[alphabet]}: {error.reason} at offset {error.start}",
            kind="malformed",
            data_coding=data_coding,
        ) from None


def isms_type(text: str) -> int:
    """iSMS `type`: 1 (ASCII) when every character is 7-bit ASCII, else 2 (Unicode)."""
    return ISMS_TYPE_ASCII if text.isascii() else ISMS_TYPE_UNICODE


_ALPHABET_NAMES: dict[_Alphabet, str] = {
    "gsm7": "GSM 03.38 7-bit",
    "latin1": "Latin-1",
    "ascii": "ASCII",
    "utf-16-be": "UCS-2/UTF-16BE",
    "iso8859-5": "ISO-8859-5",
    "iso8859-8": "ISO-8859-8",
}


def _alphabet_of(data_coding: int, *, dc0: DefaultAlphabet, dc1: Ia5Alphabet) -> _Alphabet:
    match data_coding:
        case 0x00:
            return dc0
        case 0x01:
            return dc1
        case 0x02 | 0x04:
            raise _binary(data_coding)
        case 0x03:
            return "latin1"
        case 0x06:
            return "iso8859-5"
        case 0x07:
            return "iso8859-8"
        case 0x08:
            return "utf-16-be"
        case _ if data_coding in _UNSUPPORTED_SMPP_CODINGS:
            raise UndecodableText(
                _UNSUPPORTED_SMPP_CODINGS[data_coding], kind="unsupported", data_coding=data_coding
            )
    return _gsm_dcs_alphabet(data_coding)


def _gsm_dcs_alphabet(dcs: int) -> _Alphabet:
    """A GSM DCS octet (3GPP TS 23.038 §4), for data_coding values from 0x10 up."""
    group = dcs >> 4
    if group in (0x1, 0x4, 0x5):
        # 00x1 / 01x0 / 01x1 with bit 5 clear: general or automatic-deletion data coding,
        # uncompressed; bits 3-2 name the alphabet.
        match (dcs >> 2) & 0x3:
            case 0:
                return "gsm7"
            case 1:
                raise _binary(dcs)
            case 2:
                return "utf-16-be"
            case _:
                raise UndecodableText(
                    "reserved GSM DCS alphabet", kind="unsupported", data_coding=dcs
                )
    if group in (0x2, 0x3, 0x6, 0x7):
        raise UndecodableText(
            "compressed text (GSM DCS bit 5) is not supported", kind="unsupported", data_coding=dcs
        )
    if group in (0xC, 0xD, 0xE):
        raise UndecodableText(
            "message-waiting indication cannot be carried by iSMS",
            kind="unsupported",
            data_coding=dcs,
        )
    if group == 0xF:
        # Data coding / message class group: bit 2 is the alphabet, bit 3 is reserved.
        if dcs & 0x04:
            raise _binary(dcs)
        return "gsm7"
    raise UndecodableText("reserved GSM DCS coding group", kind="unsupported", data_coding=dcs)


def _binary(data_coding: int) -> UndecodableText:
    return UndecodableText(
        "8-bit binary data: iSMS carries text only", kind="binary", data_coding=data_coding
    )
