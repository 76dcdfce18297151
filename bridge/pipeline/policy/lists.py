"""Per-account destination lists: prefixes allowed and denied, numbers opted out.

Checked on each destination's iSMS number (checks/numbers.py made it), before any part of
the message is taken and before any credit is spent. Rules:
1. An allowlist that is not empty admits only numbers starting with one of its prefixes:
   another is ESME_RINVDSTADR (kind `not_allowed`).
2. A number starting with a denied prefix is ESME_RINVDSTADR (kind `not_allowed`), even
   when the allowlist admits it: the longer rule is the operator's exception.
3. A number on the opt-out list (global or the account's) is ESME_RSUBMITFAIL (kind
   `opted_out`): the address is valid, the subscriber said no.
A submit_multi's refused destinations are refused alone (unsuccess_sme), as invalid ones are.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.pdu import CommandStatus
from bridge.pipeline.checks.numbers import InvalidNumber, NumberRules, isms_number
from bridge.pipeline.policy.settings import NumberLists


@dataclass(frozen=True, slots=True, kw_only=True)
class ListRefusal:
    """Why a number may not be sent to: the status to answer, the log's reason, the
    refusal's kind for metrics."""

    command_status: CommandStatus
    reason: str
    kind: str


def list_refusal(lists: NumberLists, number: str) -> ListRefusal | None:
    """Why `number` may not be sent to under `lists`, or None."""
    if lists.allow and not number.startswith(lists.allow):
        return ListRefusal(
            command_status=CommandStatus.ESME_RINVDSTADR,
            reason=f"destination {number} is outside the account's allow_prefixes",
            kind="not_allowed",
        )
    if lists.deny and number.startswith(lists.deny):
        return ListRefusal(
            command_status=CommandStatus.ESME_RINVDSTADR,
            reason=f"destination {number} starts with one of the account's deny_prefixes",
            kind="not_allowed",
        )
    if number in lists.opted_out:
        return ListRefusal(
            command_status=CommandStatus.ESME_RSUBMITFAIL,
            reason=f"destination {number} opted out",
            kind="opted_out",
        )
    return None


def parse_opt_out(text: str, rules: NumberRules) -> tuple[frozenset[str], list[str]]:
    """The numbers of an opt-out file in iSMS form (one a line, written as an ESME would
    send it: `+60123456789`, `0123456789` with the default country code; blank lines and
    `#` comments skipped), and the lines that are not numbers (for the operator's log)."""
    numbers: set[str] = set()
    bad: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            numbers.add(isms_number(line, 0, 1, rules))
        except InvalidNumber:
            bad.append(line)
    return frozenset(numbers), bad
