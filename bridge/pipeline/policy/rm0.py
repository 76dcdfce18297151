"""The Malaysian "RM0.00 " price tag, per account (`rm0`).

Bulk SMS to Malaysia must start with "RM0.00 " (MCMC's guideline as reported by gateways:
../shared/reference/isms-research.md §9); iSMS's 153 / 63 characters per credit are what is
left of 160 / 70 after it. Whether iSMS adds it itself is not documented, so the account
chooses:
- "off" (the default): the text goes as the ESME wrote it;
- "insert": "RM0.00 " is put in front of a text that does not start with it, and the
  length check and the credit estimate count it;
- "require": a text that does not start with it is refused ESME_RSUBMITFAIL (kind `rm0`,
  the reason logged).
A text starts with the tag when its first 6 characters are "RM0.00" followed by a space or
by nothing else (a text that is only the tag).
"""

from __future__ import annotations

from bridge.pdu import CommandStatus

RM0 = "RM0.00 "


def has_rm0(text: str) -> bool:
    return text.startswith(RM0) or text == RM0.rstrip()


def with_rm0(text: str, mode: str) -> str | None:
    """The text to send under `mode`, or None when "require" refuses it."""
    if mode == "off" or has_rm0(text):
        return text
    if mode == "insert":
        return RM0 + text
    return None


RM0_REFUSED = CommandStatus.ESME_RSUBMITFAIL
