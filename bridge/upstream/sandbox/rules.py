"""How the sandbox judges a send request, as the iSMS API page describes (pure functions).

Checked in this order, the first failure answering: a missing parameter (-1008), the
credentials (-1001), agreedterm=YES (-1013), the type (-1005), the length, 1 to 700
characters (-1006), non-ASCII text sent as type 1 (-1012), each destination being digits
(-1009), and enough credit for every part to every destination (-1004).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridge.upstream.codes import IsmsCode

MAX_TEXT_CHARS = 700  # REST reference: "INVALID BODY LENGTH (1-700)"
# The API page bills "153 characters" per SMS for type 1 and "63 Characters" for type 2
# (what is left of 160 / 70 after the "RM0.00 " prefix Malaysian telcos add).
PART_CHARS = {"1": 153, "2": 63}
_MIN_DIGITS = 6
_MAX_DIGITS = 15


@dataclass(frozen=True, slots=True, kw_only=True)
class SendParams:
    """The parameters of one send request as received (None = absent)."""

    un: str | None
    pwd: str | None = field(repr=False)
    dstno: str | None
    msg: str | None
    type: str | None
    agreedterm: str | None
    sendid: str | None = None

    @classmethod
    def from_mapping(cls, params: Mapping[str, str]) -> SendParams:
        return cls(
            un=params.get("un"),
            pwd=params.get("pwd"),
            dstno=params.get("dstno"),
            msg=params.get("msg"),
            type=params.get("type"),
            agreedterm=params.get("agreedterm"),
            sendid=params.get("sendid"),
        )

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple((self.dstno or "").split(";"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    code: int
    cost: int = 0  # credits to charge on success


def parts(text: str, sms_type: str) -> int:
    """How many SMS credits one destination costs."""
    size = PART_CHARS[sms_type]
    return max(1, -(-len(text) // size))


def credentials_match(accounts: Mapping[str, str], username: str, password: str) -> bool:
    # Compare even for an unknown user, in constant time, so timing reveals little.
    expected = accounts.get(username, "")
    same = hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8"))
    return same and username in accounts


def judge_send(
    params: SendParams, accounts: Mapping[str, str], credits: Mapping[str, int]
) -> Judgement:
    # An empty msg is present but too short (-1006); the others must not be empty.
    if not (params.un and params.pwd and params.dstno and params.type) or params.msg is None:
        return Judgement(code=IsmsCode.MISSING_PARAMETER)
    if not credentials_match(accounts, params.un, params.pwd):
        return Judgement(code=IsmsCode.AUTHENTICATION_FAILED)
    if (params.agreedterm or "").upper() != "YES":
        return Judgement(code=IsmsCode.INVALID_TERM_AND_AGREEMENT)
    if params.type not in PART_CHARS:
        return Judgement(code=IsmsCode.INVALID_SMS_TYPE)
    if not 1 <= len(params.msg) <= MAX_TEXT_CHARS:
        return Judgement(code=IsmsCode.INVALID_BODY_LENGTH)
    if params.type == "1" and not params.msg.isascii():
        return Judgement(code=IsmsCode.INVALID_MESSAGE_TYPE)
    destinations = params.destinations
    if not all(_is_number(number) for number in destinations):
        return Judgement(code=IsmsCode.INVALID_DESTINATION_NUMBER)
    cost = parts(params.msg, params.type) * len(destinations)
    if credits.get(params.un, 0) < cost:
        return Judgement(code=IsmsCode.INSUFFICIENT_CREDITS)
    return Judgement(code=IsmsCode.SUCCESS, cost=cost)


def _is_number(number: str) -> bool:
    return number.isascii() and number.isdigit() and _MIN_DIGITS <= len(number) <= _MAX_DIGITS
