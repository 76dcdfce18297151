"""RM0 per account (policy/rm0.py): off, insert, require."""

from __future__ import annotations

from bridge.pdu import CommandStatus

from ..pipeline_doubles import rig, submit_sm, udh_part
from .policy_rig import route


async def test_insert_puts_the_price_tag_in_front_of_a_text_without_it() -> None:
    r = rig(routes=[route(rm0="insert")])
    await r.submit(submit_sm(b"Your code is 123456"))
    assert [m.text for m in r.isms.sent] == ["RM0.00 Your code is 123456"]


async def test_insert_leaves_a_text_that_has_the_tag_alone() -> None:
    r = rig(routes=[route(rm0="insert")])
    await r.submit(submit_sm(b"RM0.00 Promo"))
    assert [m.text for m in r.isms.sent] == ["RM0.00 Promo"]


async def test_insert_counts_the_tag_in_the_length_check() -> None:
    r = rig(routes=[route(rm0="insert")])
    response = await r.submit(submit_sm(b"x" * 695))
    assert response.command_status == CommandStatus.ESME_RINVMSGLEN
    assert r.isms.sent == []


async def test_insert_counts_the_tag_in_the_credits() -> None:
    r = rig(routes=[route(rm0="insert")])
    await r.submit(submit_sm(b"x" * 150))  # 157 characters with the tag: two credits
    assert r.pipeline.counters.credits["esme1"] == 2


async def test_require_refuses_a_text_without_the_tag_rsubmitfail_and_sends_nothing() -> None:
    r = rig(routes=[route(rm0="require")])
    response = await r.submit(submit_sm(b"Promo"))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.isms.sent == []
    assert r.pipeline.counters.refusals["rm0"] == 1


async def test_require_sends_a_text_with_the_tag_as_it_is() -> None:
    r = rig(routes=[route(rm0="require")])
    response = await r.submit(submit_sm(b"RM0.00 Promo"))
    assert response.command_status == CommandStatus.ESME_ROK
    assert [m.text for m in r.isms.sent] == ["RM0.00 Promo"]


async def test_require_judges_a_long_message_once_it_is_whole() -> None:
    r = rig(routes=[route(rm0="require")])
    first = await r.submit(udh_part(9, 2, 1, b"RM0.00 Hel"))
    second = await r.submit(udh_part(9, 2, 2, b"lo"))
    assert first.command_status == second.command_status == CommandStatus.ESME_ROK
    assert [m.text for m in r.isms.sent] == ["RM0.00 Hello"]
    third = await r.submit(udh_part(10, 2, 1, b"Hel"))
    fourth = await r.submit(udh_part(10, 2, 2, b"lo"))
    assert third.command_status == CommandStatus.ESME_ROK  # answered before it was whole
    assert fourth.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert len(r.isms.sent) == 1


async def test_off_sends_the_text_as_the_esme_wrote_it() -> None:
    r = rig(routes=[route(rm0="off")])
    await r.submit(submit_sm(b"Promo"))
    assert [m.text for m in r.isms.sent] == ["Promo"]
