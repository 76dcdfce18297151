"""Fault injection for the sandbox: by settings, and by destination numbers reserved for it.

Reserved numbers are 11 digits, `6000000` followed by a 4-digit fault code. They are not
Malaysian subscriber numbers (60 0... is no mobile or fixed range), so nothing real uses them:

| destination     | the sandbox answers                                                   |
|-----------------|-----------------------------------------------------------------------|
| 60000001xxx     | `-1xxx = <TEXT>` (e.g. 60000001004 -> `-1004 = INSUFFICIENT CREDITS`) |
| 60000003xxx     | the bare code `-1xxx` (the short error form)                          |
| 60000002000     | success with an empty body ("EMPTY/BLANK")                            |
| 60000002001     | `2000 = SUCCESS` without a trx_id (the legacy form)                   |
| 60000002002     | `2000 = SUCCESS:<id>` with a byte-order mark and CRLF around it       |
| 60000002003     | an HTML page with HTTP 200 (a captive portal: not an iSMS reply)      |
| 600000005xx     | HTTP 5xx with an HTML error page, nothing sent (e.g. 60000000503)     |
| 60000000000     | the message is sent and charged, then the connection is dropped       |
| 60000009nnn     | the message is sent, and the reply comes nnn tenths of a second later |

A fault code applies when any destination of the request carries it (the first one wins).
HTTP 5xx faults are answered before the request is judged; every other fault applies only
to a request that passes validation (a bad request still gets its real error code).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable
from dataclasses import dataclass

RESERVED_PREFIX = "6000000"


class FaultKind(enum.Enum):
    RESULT_CODE = "result_code"  # answer this iSMS code, nothing sent
    BARE_CODE = "bare_code"  # answer the bare code, nothing sent
    BLANK_SUCCESS = "blank_success"
    SUCCESS_WITHOUT_ID = "success_without_id"
    PADDED_SUCCESS = "padded_success"
    HTML_PAGE = "html_page"
    HTTP_STATUS = "http_status"  # answer this HTTP status, nothing sent
    DROP = "drop"  # sent and charged, then the connection is closed without a reply
    DELAY = "delay"  # sent and charged, reply after `seconds`


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    kind: FaultKind
    value: int = 0  # the iSMS code or HTTP status
    seconds: float = 0.0


_SUCCESS_FORMS = {
    "2000": FaultKind.BLANK_SUCCESS,
    "2001": FaultKind.SUCCESS_WITHOUT_ID,
    "2002": FaultKind.PADDED_SUCCESS,
    "2003": FaultKind.HTML_PAGE,
}


def reserved_fault(number: str) -> Fault | None:
    """The fault a reserved destination number asks for, or None for an ordinary number."""
    if len(number) != 11 or not number.startswith(RESERVED_PREFIX) or not number.isdigit():
        return None
    code = number[len(RESERVED_PREFIX) :]
    if code == "0000":
        return Fault(kind=FaultKind.DROP)
    if code in _SUCCESS_FORMS:
        return Fault(kind=_SUCCESS_FORMS[code])
    if code[0] == "1":
        return Fault(kind=FaultKind.RESULT_CODE, value=-int(code))
    if code[0] == "3":
        return Fault(kind=FaultKind.BARE_CODE, value=-int("1" + code[1:]))
    if code.startswith("05"):
        return Fault(kind=FaultKind.HTTP_STATUS, value=int(code[1:]))
    if code[0] == "9":
        return Fault(kind=FaultKind.DELAY, seconds=int(code[1:]) / 10)
    return None


def first_fault(numbers: Iterable[str]) -> Fault | None:
    for number in numbers:
        fault = reserved_fault(number)
        if fault is not None:
            return fault
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxFaults:
    """Faults applied to every send request (`ratio` of them), set by options or by tests.

    `latency_s` delays every reply (balance too); `http_status` answers that status without
    sending; `drop` sends, charges, and closes the connection without a reply; `result_code`
    answers that iSMS code instead of success. `ratio` (0..1) is the share of send requests
    the status, drop and code faults hit; latency always applies.
    """

    latency_s: float = 0.0
    http_status: int | None = None
    drop: bool = False
    result_code: int | None = None
    ratio: float = 1.0

    def __post_init__(self) -> None:
        if self.latency_s < 0:
            raise ValueError("latency must not be negative")
        if self.http_status is not None and not 100 <= self.http_status <= 599:
            raise ValueError(f"not an HTTP status: {self.http_status}")
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError("ratio must be between 0 and 1")

    def pick(self, rng: random.Random) -> Fault | None:
        """The configured fault for one send request, if it hits this one."""
        if self.http_status is None and not self.drop and self.result_code is None:
            return None
        if self.ratio < 1.0 and rng.random() >= self.ratio:
            return None
        if self.http_status is not None:
            return Fault(kind=FaultKind.HTTP_STATUS, value=self.http_status)
        if self.drop:
            return Fault(kind=FaultKind.DROP)
        assert self.result_code is not None
        return Fault(kind=FaultKind.RESULT_CODE, value=self.result_code)
