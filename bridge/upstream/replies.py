"""Parse every reply body iSMS is known to return (pure functions, no I/O).

Send replies seen in the API pages and in public integrations:
- `2000 = SUCCESS:<trx_id>` (isms_send_all_id.php, RESTAPI.php)
- `2000 = SUCCESS` and an empty body (the API page: "2000 = SUCCESS or EMPTY/BLANK")
- `<code> = <TEXT>` (`-1004 = INSUFFICIENT CREDITS`) and a bare code (`-1001`)
- any of those inside a JSON string (RESTAPI.php: `"2000 = SUCCESS:123"`)
- with surrounding whitespace, CR/LF or a UTF-8 byte-order mark.
Anything else (HTML, a proxy's error page, several lines) is not an iSMS reply:
`UnparseableReply`, which the client treats as a failure after the request was written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from bridge.upstream.codes import IsmsCode

# One line of "<code>" or "<code> = <text>". Codes are small integers; a longer run of
# digits is not a code.
_CODE_LINE = re.compile(r"(-?\d{1,6})(?:\s*=\s*(.*))?", re.DOTALL)
# A trx_id that can travel as an SMPP message_id (C-Octet String, at most 65 with the NUL).
_TRX_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")
# The documented success body, exactly: taken without the general path below.
_PLAIN_SUCCESS = re.compile(rb"2000 = SUCCESS:([A-Za-z0-9._\-]{1,64})")
_NUMBER = re.compile(r"-?\d{1,12}(?:\.\d{1,6})?")
_MAX_REPLY_CHARS = 512
_MAX_DESCRIPTION_CHARS = 120
_BOM = "\ufeff"
_SUCCESS = int(IsmsCode.SUCCESS)


class UnparseableReply(ValueError):
    """A body that is not an iSMS reply."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IsmsReply:
    code: int
    trx_id: str | None
    description: str

    @property
    def success(self) -> bool:
        return self.code == _SUCCESS


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceReply:
    """`credits` when iSMS answered a balance, else the error `code` it answered."""

    credits: Decimal | None
    code: int | None
    description: str = ""


def parse_send_reply(body: bytes) -> IsmsReply:
    plain = _PLAIN_SUCCESS.fullmatch(body)
    if plain is not None:
        trx_id = plain.group(1).decode("ascii")
        return IsmsReply(code=_SUCCESS, trx_id=trx_id, description=f"SUCCESS:{trx_id}")
    text = _reply_text(body)
    if not text:
        return IsmsReply(code=_SUCCESS, trx_id=None, description="")
    match = _CODE_LINE.fullmatch(text)
    if match is None:
        raise UnparseableReply(f"not an iSMS reply: {_excerpt(text)}")
    code = int(match.group(1))
    description = _clean_description(match.group(2) or "")
    trx_id = _trx_id(description) if code == _SUCCESS else None
    return IsmsReply(code=code, trx_id=trx_id, description=description)


def parse_balance_reply(body: bytes) -> BalanceReply:
    """isms_balance.php answers a bare number, or an error code like a send reply."""
    text = _reply_text(body)
    if _NUMBER.fullmatch(text):
        value = Decimal(text)
        # Error codes are -1000 and below; a balance is never that negative.
        if value == value.to_integral_value() and value <= -1000:
            return BalanceReply(credits=None, code=int(value))
        return BalanceReply(credits=value, code=None)
    match = _CODE_LINE.fullmatch(text)
    if match is None:
        raise UnparseableReply(f"not an iSMS balance: {_excerpt(text)}")
    return BalanceReply(
        credits=None,
        code=int(match.group(1)),
        description=_clean_description(match.group(2) or ""),
    )


def _reply_text(body: bytes) -> str:
    if len(body) > _MAX_REPLY_CHARS * 4:
        raise UnparseableReply(f"reply too long for an iSMS reply ({len(body)} bytes)")
    try:
        text = _normalise(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnparseableReply("reply is not UTF-8") from exc
    if text.startswith('"'):
        # RESTAPI.php returns its reply as a JSON-encoded string.
        try:
            decoded = json.loads(text)
        except ValueError as exc:
            raise UnparseableReply(f"broken JSON string: {_excerpt(text)}") from exc
        if not isinstance(decoded, str):
            raise UnparseableReply(f"JSON reply is not a string: {_excerpt(text)}")
        text = _normalise(decoded)
    if len(text) > _MAX_REPLY_CHARS or "\n" in text or "\r" in text:
        raise UnparseableReply(f"not a one-line iSMS reply: {_excerpt(text)}")
    return text


def _normalise(text: str) -> str:
    return text.strip().lstrip(_BOM).strip()


def _trx_id(description: str) -> str | None:
    head, separator, rest = description.partition(":")
    if head.strip().upper() != "SUCCESS" or not separator:
        return None
    candidate = rest.strip()
    return candidate if _TRX_ID.fullmatch(candidate) else None


def _clean_description(raw: str) -> str:
    description = raw.strip()[:_MAX_DESCRIPTION_CHARS]
    if description.isprintable():
        return description
    return "".join(ch if ch.isprintable() else "?" for ch in description)


def _excerpt(text: str) -> str:
    """A short, escaped piece of a foreign body, safe for a log line."""
    return repr(text[:60]) + ("..." if len(text) > 60 else "")
