"""The audit log: every operate call stored and listed newest first, and logged."""

from __future__ import annotations

import logging

import pytest

from bridge.app.admin import AuditLog
from bridge.state import MemoryState, StateUnavailable


async def test_entries_are_listed_newest_first_with_who_what_and_the_result() -> None:
    times = iter([100.0, 200.0, 300.0, 300.0])
    audit = AuditLog(
        MemoryState(), instance="a", max_entries=100, max_age_s=3600, clock=lambda: next(times)
    )
    await audit.record(caller="ops", action="suspend", target="esme1", result="ok", detail={})
    await audit.record(caller="ops", action="resume", target="esme1", result="ok", detail={})
    entries = await audit.entries(limit=10)
    assert [e["action"] for e in entries] == ["resume", "suspend"]
    assert entries[0] == {
        "at": 200.0, "caller": "ops", "action": "resume", "target": "esme1", "result": "ok",
        "instance": "a", "detail": {},
    }  # fmt: skip


class Failing(MemoryState):
    async def put_record(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise StateUnavailable("down")


async def test_an_entry_the_store_cannot_take_is_still_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    audit = AuditLog(Failing(), instance="a", max_entries=100, max_age_s=3600)
    with caplog.at_level(logging.WARNING):
        await audit.record(caller="ops", action="drain", target="a", result="ok", detail={})
    assert "event=admin_action caller=ops action=drain target=a result=ok stored=false" in (
        caplog.text
    )
