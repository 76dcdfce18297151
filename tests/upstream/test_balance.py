"""BalancePoller on a scripted source: one reading per iSMS account, whatever the source does."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from bridge.upstream import BalancePoller, BalanceReply, IsmsCredentials, NotSent

ACCOUNT = IsmsCredentials(username="isms", password="isms123")


class ScriptedSource:
    """Answers each balance call with the next item: a reply, or an exception to raise."""

    def __init__(self, *answers: BalanceReply | Exception) -> None:
        self.answers = list(answers)

    async def balance(self, credentials: IsmsCredentials) -> BalanceReply:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_a_source_that_crashes_costs_one_failed_reading_and_polling_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = ScriptedSource(RuntimeError("client bug"), BalanceReply(credits=Decimal(5), code=None))
    poller = BalancePoller(source, [ACCOUNT], interval_s=60)
    [failed] = await poller.poll_once()
    assert (failed.ok, failed.error) == (False, "RuntimeError")
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    [read] = await poller.poll_once()
    assert read.credits == Decimal(5) and poller.last["isms"] == read


async def test_an_unreachable_isms_is_a_failed_reading_naming_why() -> None:
    poller = BalancePoller(ScriptedSource(NotSent("connection refused")), [ACCOUNT], interval_s=60)
    [reading] = await poller.poll_once()
    assert not reading.ok and "connection refused" in reading.error


async def test_a_refused_balance_carries_the_isms_code() -> None:
    source = ScriptedSource(BalanceReply(credits=None, code=-1001, description="AUTH FAILED"))
    [reading] = await BalancePoller(source, [ACCOUNT], interval_s=60).poll_once()
    assert (reading.ok, reading.code, reading.error) == (False, -1001, "AUTH FAILED")
