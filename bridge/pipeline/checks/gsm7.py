"""The GSM 03.38 default alphabet and its extension table, as SMPP carries them.

3GPP TS 23.038 §6.2.1 (basic table) and §6.2.1.1 (extension table), written from the
spec, not from a library: smpplib's table has a backtick at 0x5F where the standard has `§`.

In SMPP, short_message under data_coding 0 holds one septet per octet (unpacked, 0x00-0x7F);
the SMSC does the packing for the air interface. So `decode_gsm7` reads one code per octet and
`encode_gsm7` writes one code per octet, extension characters as the pair ESC (0x1B) + code.

Decoding choices, all from 23.038:
- ESC followed by a code the extension table does not define shows the basic-table
  character for that code (§6.2.1.1: "the MS shall display ... the character shown in the
  main GSM 7 bit default alphabet table"). So ESC 0x41 reads "A", and ESC 0x0D (CR2) reads CR.
- ESC ESC is "reserved for the extension to another extension table ... a receiving entity
  shall display a space": the pair reads as one space.
- A lone ESC as the very last octet has no character to extend: that is malformed text,
  not a character, and decoding refuses it (the message would otherwise lose a character
  silently).
- An octet above 0x7F is not a septet: refused.

Errors are the standard `UnicodeDecodeError` / `UnicodeEncodeError`, like any Python codec.
"""

from __future__ import annotations

import codecs
from typing import Literal

ENCODING_NAME = "gsm03.38"

ESC = 0x1B

# 3GPP TS 23.038 §6.2.1, codes 0x00-0x7F in order. Position 0x1B (ESC) holds a placeholder
# that is never decoded or encoded through this string.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x10-0x1F (0x1B = ESC)
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)
assert len(BASIC_TABLE) == 128

# 3GPP TS 23.038 §6.2.1.1: the characters reached by ESC + code.
EXTENSION_TABLE: dict[int, str] = {
    0x0A: "\x0c",  # form feed (page break)
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_DECODE_BASIC = {code: char for code, char in enumerate(BASIC_TABLE) if code != ESC}
_ENCODE: dict[str, bytes] = {char: bytes([code]) for code, char in _DECODE_BASIC.items()}
_ENCODE.update({char: bytes([ESC, code]) for code, char in EXTENSION_TABLE.items()})

Errors = Literal["strict", "replace"]


def decode_gsm7(octets: bytes) -> str:
    """Unpacked GSM 7-bit septets (one per octet) -> text. Raises UnicodeDecodeError."""
    if not octets.isascii():  # one C-level scan; the loop below only finds the offset
        offset = next(i for i, octet in enumerate(octets) if octet > 0x7F)
        raise UnicodeDecodeError(
            ENCODING_NAME,
            octets,
            offset,
            offset + 1,
            f"octet 0x{octets[offset]:02X} is not a septet",
        )
    if ESC not in octets:
        # A table lookup per octet in C: twice as fast as str.translate with a dict.
        return codecs.charmap_decode(octets, "strict", BASIC_TABLE)[0]
    chars: list[str] = []
    offset = 0
    end = len(octets)
    while offset < end:
        code = octets[offset]
        if code != ESC:
            chars.append(_DECODE_BASIC[code])
            offset += 1
            continue
        if offset + 1 == end:
            raise UnicodeDecodeError(
                ENCODING_NAME, octets, offset, end, "text ends inside an escape sequence"
            )
        extended = octets[offset + 1]
        if extended == ESC:
            chars.append(" ")  # 23.038: ESC ESC is shown as a space
        elif extended in EXTENSION_TABLE:
            chars.append(EXTENSION_TABLE[extended])
        else:
            chars.append(_DECODE_BASIC[extended])  # 23.038: undefined -> basic character
        offset += 2
    return "".join(chars)


def encode_gsm7(text: str, *, errors: Errors = "strict") -> bytes:
    """Text -> unpacked GSM 7-bit septets. Extension characters take two octets.

    errors="strict" raises UnicodeEncodeError on a character outside both tables;
    errors="replace" writes "?" for it instead (used for delivery receipt text).
    """
    out = bytearray()
    for position, char in enumerate(text):
        code = _ENCODE.get(char)
        if code is None:
            if errors == "replace":
                out += b"?"
                continue
            raise UnicodeEncodeError(
                ENCODING_NAME,
                text,
                position,
                position + 1,
                f"U+{ord(char):04X} is not in the GSM 03.38 default alphabet",
            )
        out += code
    return bytes(out)


def is_gsm7_encodable(text: str) -> bool:
    """Whether every character of `text` has a GSM 03.38 default-alphabet code."""
    return all(char in _ENCODE for char in text)
