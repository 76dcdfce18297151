"""Number lists (policy/lists.py): allowed and denied prefixes, opted-out numbers, checked
on each destination before any credit is spent."""

from __future__ import annotations

from bridge.pdu import CommandStatus, SubmitMultiResp
from bridge.pipeline import NumberLists, NumberRules, parse_opt_out

from ..pipeline_doubles import rig, submit_sm, udh_part
from .policy_rig import route, submit_multi

MALAYSIA_ONLY = NumberLists(allow=("60",))


async def test_a_destination_outside_the_allowlist_is_refused_rinvdstadr_and_nothing_sent() -> None:
    r = rig(routes=[route(lists=MALAYSIA_ONLY)])
    response = await r.submit(submit_sm(destination_addr="6591234567"))
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert r.isms.sent == []
    assert r.pipeline.counters.refusals["not_allowed"] == 1


async def test_a_destination_inside_the_allowlist_goes() -> None:
    r = rig(routes=[route(lists=MALAYSIA_ONLY)])
    response = await r.submit(submit_sm(destination_addr="0123456789", dest_addr_ton=2))
    assert response.command_status == CommandStatus.ESME_ROK
    assert [m.destinations for m in r.isms.sent] == [("60123456789",)]


async def test_a_denied_prefix_is_refused_even_inside_the_allowlist() -> None:
    r = rig(routes=[route(lists=NumberLists(allow=("60",), deny=("6015",)))])
    response = await r.submit(submit_sm(destination_addr="60151234567"))
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert r.isms.sent == []


async def test_an_opted_out_number_is_refused_rsubmitfail_and_counted() -> None:
    lists = NumberLists(opted_out=frozenset({"60123456789"}))
    r = rig(routes=[route(lists=lists)])
    response = await r.submit(submit_sm(destination_addr="+60123456789"))
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert r.isms.sent == []
    assert r.pipeline.counters.refusals["opted_out"] == 1


async def test_a_submit_multi_refuses_listed_destinations_alone_and_sends_the_others() -> None:
    lists = NumberLists(allow=("60",), opted_out=frozenset({"60120000002"}))
    r = rig(routes=[route(lists=lists)])
    response = await r.submit(submit_multi("60120000001", "60120000002", "6591234567"))
    assert isinstance(response, SubmitMultiResp)
    assert response.command_status == CommandStatus.ESME_ROK
    assert [(u.destination_addr, u.error_status_code) for u in response.unsuccess_sme] == [
        ("60120000002", CommandStatus.ESME_RSUBMITFAIL),
        ("6591234567", CommandStatus.ESME_RINVDSTADR),
    ]
    assert [m.destinations for m in r.isms.sent] == [("60120000001",)]


async def test_the_first_part_of_a_long_message_to_a_refused_number_is_not_taken() -> None:
    r = rig(routes=[route(lists=MALAYSIA_ONLY)])
    response = await r.submit(udh_part(7, 2, 1, b"Hello ", destination_addr="6591234567"))
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert (await r.pipeline.state.part_counts()).groups == 0


async def test_an_account_without_lists_sends_anywhere() -> None:
    r = rig()
    response = await r.submit(submit_sm(destination_addr="6591234567"))
    assert response.command_status == CommandStatus.ESME_ROK


def test_an_opt_out_file_is_read_in_any_form_an_esme_would_send_a_number() -> None:
    text = "# opted out\n+60123456789\n0129876543  # national\n\n0060 11-2233 4455\nnot a number\n"
    numbers, bad = parse_opt_out(text, NumberRules())
    assert numbers == {"60123456789", "60129876543", "601122334455"}
    assert bad == ["not a number"]
