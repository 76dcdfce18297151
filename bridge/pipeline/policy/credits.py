"""Each message's estimated iSMS credits: per destination, one per `ascii_chars` characters
of a type 1 (ASCII) text or per `unicode_chars` of a type 2 (Unicode) one, at least one
(the iSMS API page's "153 characters" / "63 Characters" per credit by default, configurable
as `[policy] credit_chars_ascii` / `credit_chars_unicode`).

An estimate: iSMS bills by its own count, which the bridge never sees. It is made for every
message (its record carries it, `isms-bridge messages` shows it) and counted per account
for what iSMS accepted, so an operator can bill an account and set caps in credits.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.pipeline.policy.settings import CreditRules
from bridge.upstream import IsmsMessage, Outcome, SendResult

_ACCEPTED = Outcome.ACCEPTED


def pages(text: str, rules: CreditRules) -> int:
    """Credits of `text` for one destination."""
    size = rules.ascii_chars if text.isascii() else rules.unicode_chars
    return max(1, -(-len(text) // size))


def spent(requests: Sequence[IsmsMessage], results: Sequence[SendResult], per_number: int) -> int:
    """Credits of the destinations iSMS accepted (`per_number` each)."""
    if len(results) == 1:  # one request: a submit_sm's, a data_sm's
        result = results[0]
        return per_number * len(requests[0].destinations) if result.outcome is _ACCEPTED else 0
    return per_number * sum(
        len(request.destinations)
        for request, result in zip(requests, results, strict=True)
        if result.outcome is _ACCEPTED
    )
