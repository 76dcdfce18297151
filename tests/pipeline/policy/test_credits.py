"""Credits (policy/credits.py): estimated per destination, counted per account for what
iSMS accepted, kept in the message record."""

from __future__ import annotations

import pytest

from bridge.pipeline import MESSAGE_KIND, CreditRules, PipelineSettings, decode_record
from bridge.pipeline.policy.credits import pages

from ..pipeline_doubles import rejected, rig, submit_sm
from .policy_rig import submit_multi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 153, 1),
        ("a" * 154, 2),
        ("a" * 306, 2),
        ("é" * 63, 1),
        ("é" * 64, 2),
        ("a" * 152 + "é", 3),  # one non-ASCII character makes the whole text type 2
    ],
)
def test_credits_follow_the_api_pages_153_and_63_characters(text: str, expected: int) -> None:
    assert pages(text, CreditRules()) == expected


def test_the_divisors_are_configurable() -> None:
    assert pages("a" * 160, CreditRules(ascii_chars=160)) == 1
    assert pages("é" * 70, CreditRules(unicode_chars=70)) == 1


async def test_credits_are_counted_per_account_for_accepted_destinations_only() -> None:
    r = rig(rejected(-1004))
    await r.submit(submit_sm(b"a" * 200))  # refused by iSMS: nothing charged
    await r.submit(submit_sm(b"a" * 200))
    await r.submit(submit_multi("60120000001", "60120000002", short_message=b"hi"))
    assert r.pipeline.counters.credits["esme1"] == 2 + 2


async def test_the_message_record_carries_its_estimate_for_every_destination() -> None:
    r = rig(settings=PipelineSettings(credits=CreditRules(ascii_chars=100)))
    await r.submit(submit_multi("60120000001", "60120000002", short_message=b"a" * 150))
    [stored] = await r.pipeline.state.scan_records(MESSAGE_KIND, now=r.clock.now)
    assert decode_record(stored.value).credits == 4
