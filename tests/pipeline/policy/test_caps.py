"""Caps per account (policy/caps.py): daily and monthly, in messages or estimated credits,
reserved at submit and given back when nothing was charged."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.pdu import CommandStatus
from bridge.pipeline import Caps
from bridge.pipeline.policy.caps import CapUse, periods

from ..pipeline_doubles import Clock, not_sent, rejected, rig, submit_sm, unknown
from .policy_rig import route, submit_multi

KL = ZoneInfo("Asia/Kuala_Lumpur")
# 2026-11-26 23:59:00 in Kuala Lumpur (UTC+8).
BEFORE_MIDNIGHT = datetime(2026, 11, 26, 23, 59, tzinfo=KL).timestamp()


def capped(**caps: object) -> list[object]:
    return [route(caps=Caps(**caps))]  # type: ignore[arg-type]


async def test_past_a_daily_message_cap_a_submit_gets_rmsgqful_and_nothing_is_sent() -> None:
    r = rig(routes=capped(daily_messages=2))
    answers = [(await r.submit(submit_sm())).command_status for _ in range(3)]
    assert answers == [CommandStatus.ESME_ROK] * 2 + [CommandStatus.ESME_RMSGQFUL]
    assert len(r.isms.sent) == 2
    assert r.pipeline.counters.refusals["cap"] == 1


async def test_a_submit_multi_counts_one_message_per_destination() -> None:
    r = rig(routes=capped(daily_messages=2))
    response = await r.submit(submit_multi("60120000001", "60120000002", "60120000003"))
    assert response.command_status == CommandStatus.ESME_RMSGQFUL
    assert r.isms.sent == []


async def test_past_a_credit_cap_a_submit_gets_rsubmitfail() -> None:
    r = rig(routes=capped(monthly_credits=3))
    first = await r.submit(submit_sm(b"a" * 300))  # two credits
    second = await r.submit(submit_sm(b"a" * 300))
    third = await r.submit(submit_sm(b"a"))
    assert first.command_status == CommandStatus.ESME_ROK
    assert second.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert third.command_status == CommandStatus.ESME_ROK


async def test_the_status_past_a_cap_is_configurable() -> None:
    r = rig(routes=capped(daily_messages=0, messages_status=CommandStatus.ESME_RTHROTTLED))
    response = await r.submit(submit_sm())
    assert response.command_status == CommandStatus.ESME_RTHROTTLED


async def test_what_isms_refused_or_never_got_is_given_back_and_an_unknown_outcome_kept() -> None:
    r = rig(rejected(-1004), not_sent(), unknown(), routes=capped(daily_messages=1))
    statuses = [(await r.submit(submit_sm())).command_status for _ in range(4)]
    assert len(r.isms.sent) == 3  # refused, not sent, unknown; then the cap is spent
    assert statuses[3] == CommandStatus.ESME_RMSGQFUL


async def test_a_failed_intent_gives_the_reservation_back() -> None:
    r = rig(routes=capped(daily_messages=1))
    r.pipeline.state.put_record = _failing  # type: ignore[method-assign]
    first = await r.submit(submit_sm())
    assert first.command_status == CommandStatus.ESME_RSYSERR
    del r.pipeline.state.put_record  # type: ignore[attr-defined]
    r.pipeline.store_writable = True
    assert (await r.submit(submit_sm())).command_status == CommandStatus.ESME_ROK


async def _failing(*_args: object, **_kwargs: object) -> None:
    from bridge.state import StateUnavailable

    raise StateUnavailable("disk full")


async def test_a_new_day_in_the_accounts_time_zone_starts_a_new_count() -> None:
    clock = Clock(BEFORE_MIDNIGHT)
    r = rig(routes=capped(daily_messages=1, zone=KL), clock=clock)
    assert (await r.submit(submit_sm())).command_status == CommandStatus.ESME_ROK
    assert (await r.submit(submit_sm())).command_status == CommandStatus.ESME_RMSGQFUL
    clock.now += 120
    assert (await r.submit(submit_sm())).command_status == CommandStatus.ESME_ROK


def test_periods_are_named_by_the_calendar_of_the_time_zone() -> None:
    named = periods(BEFORE_MIDNIGHT, Caps(zone=KL))
    assert named["day"][0] == "2026-11-26" and named["month"][0] == "2026-11"
    assert named["day"][1] == datetime(2026, 11, 28, tzinfo=KL).timestamp()
    utc = periods(BEFORE_MIDNIGHT, Caps(zone=ZoneInfo("UTC")))
    assert utc["day"][0] == "2026-11-26"
    assert periods(BEFORE_MIDNIGHT + 120, Caps(zone=KL))["day"][0] == "2026-11-27"


async def test_the_use_of_each_cap_is_kept_for_the_gauges() -> None:
    r = rig(routes=capped(daily_messages=10, monthly_credits=100))
    await r.submit(submit_sm(b"a" * 200))
    uses = r.pipeline.gate.caps.uses
    assert uses[("esme1", "day", "messages")] == CapUse(
        account="esme1", period="day", unit="messages", used=1, limit=10
    )
    assert uses[("esme1", "month", "credits")].used == 2
    await r.advance(60.0)  # the sweep reads them again from the store
    assert uses[("esme1", "day", "messages")].used == 1
