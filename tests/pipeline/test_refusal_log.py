"""A submit_multi's refused destinations: one line in full, then one summed line per interval."""

from __future__ import annotations

import logging
import re

import pytest

from bridge.pdu import CommandStatus, DistributionList, SmeAddress, SubmitMulti
from bridge.pipeline import AccountRoute

from .pipeline_doubles import CREDENTIALS, ROUTE, Rig, accepted, context, rig

INTERVAL_S = 10.0
GOOD = "60120000001"


def sme(address: str) -> SmeAddress:
    return SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=address)


def submit_multi(*destinations: SmeAddress | DistributionList, seq: int = 11) -> SubmitMulti:
    return SubmitMulti(
        sequence_number=seq,
        source_addr="MyBrand",
        dest_addresses=destinations,
        short_message=b"To all of you",
    )


def bad(count: int) -> list[SmeAddress]:
    """Addresses that cannot be iSMS numbers (too short), each one different."""
    return [sme(str(100 + n)) for n in range(count)]


def lines(caplog: pytest.LogCaptureFixture, event: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"event={event} ")]


def field(line: str, name: str) -> str:
    found = re.search(rf" {name}=(\S+)", line)
    assert found is not None, line
    return found.group(1)


def counts(caplog: pytest.LogCaptureFixture) -> dict[str, int]:
    """Refusals summed, by status, over every summary line written."""
    found: dict[str, int] = {}
    for line in lines(caplog, "destination_refused_summary"):
        status = field(line, "status")
        found[status] = found.get(status, 0) + int(field(line, "count"))
    return found


@pytest.fixture
async def r(caplog: pytest.LogCaptureFixture) -> Rig:
    caplog.set_level(logging.INFO, logger="bridge.pipeline")
    esme2 = AccountRoute(system_id="esme2", credentials=CREDENTIALS)
    return rig(accepted("700"), routes=(ROUTE, esme2))


async def test_254_refused_destinations_write_one_line_then_one_summary_with_the_count(
    r: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    response = await r.submit(submit_multi(*bad(254)))
    assert len(response.unsuccess_sme) == 254
    [first] = lines(caplog, "destination_refused")
    assert first == (
        "event=destination_refused session=s1 system_id=esme1 seq=11 status=ESME_RINVDSTADR "
        "reason=\"destination '100': 3 digits; a full number has 7 to 15\""
    )
    await r.advance(INTERVAL_S)
    assert lines(caplog, "destination_refused_summary") == [
        "event=destination_refused_summary system_id=esme1 status=ESME_RINVDSTADR "
        "reason='invalid destination address' count=253 seconds=10"
    ]
    assert len([rec for rec in caplog.records if rec.name == "bridge.pipeline.refusal_log"]) == 2


async def test_no_summary_is_written_before_the_interval_is_over(
    r: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await r.submit(submit_multi(*bad(5), sme(GOOD)))
    await r.advance(INTERVAL_S - 1)
    assert lines(caplog, "destination_refused_summary") == []
    await r.advance(1)
    assert counts(caplog) == {"ESME_RINVDSTADR": 4}


async def test_each_status_is_written_in_full_once_and_summed_apart(
    r: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    lists = [DistributionList(dl_name=f"list{n}") for n in range(3)]
    await r.submit(submit_multi(*lists, *bad(4), sme(GOOD)))
    full = lines(caplog, "destination_refused")
    assert [field(line, "status") for line in full] == ["ESME_RCNTSUBDL", "ESME_RINVDSTADR"]
    await r.advance(INTERVAL_S)
    assert counts(caplog) == {"ESME_RCNTSUBDL": 2, "ESME_RINVDSTADR": 3}


async def test_a_flood_gives_one_summary_per_interval_and_then_a_full_line_again(
    r: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await r.submit(submit_multi(*bad(10), seq=1))
    await r.advance(INTERVAL_S)  # summary 1: 9
    await r.submit(submit_multi(*bad(10), seq=2))
    await r.advance(INTERVAL_S)  # summary 2: 10 (the flood goes on: nothing in full)
    await r.advance(INTERVAL_S)  # a quiet interval: nothing
    await r.submit(submit_multi(*bad(10), seq=3))
    assert [field(line, "seq") for line in lines(caplog, "destination_refused")] == ["1", "3"]
    summaries = lines(caplog, "destination_refused_summary")
    assert [field(line, "count") for line in summaries] == ["9", "10"]


async def test_refusals_still_counted_at_stop_are_written_then(
    r: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await r.submit(submit_multi(*bad(7)))
    await r.pipeline.aclose()
    assert counts(caplog) == {"ESME_RINVDSTADR": 6}


async def test_accounts_are_summed_apart(r: Rig, caplog: pytest.LogCaptureFixture) -> None:
    other = context(system_id="esme2", session_id="s2")
    await r.submit(submit_multi(*bad(3)))
    await r.submit(submit_multi(*bad(3)), other)
    assert len(lines(caplog, "destination_refused")) == 2
    await r.advance(INTERVAL_S)
    summaries = lines(caplog, "destination_refused_summary")
    assert sorted(field(line, "system_id") for line in summaries) == ["esme1", "esme2"]
    assert counts(caplog) == {"ESME_RINVDSTADR": 4}


async def test_a_refused_destination_does_not_stop_the_others(r: Rig) -> None:
    response = await r.submit(submit_multi(*bad(253), sme(GOOD)))
    assert response.command_status == CommandStatus.ESME_ROK
    assert [m.destinations for m in r.isms.sent] == [(GOOD,)]
