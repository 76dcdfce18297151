"""docs/operating.md lists every log event the bridge writes and every command_status it
answers (or reads from an ESME), with the right code, and nothing that no longer exists."""

from __future__ import annotations

from collections import Counter

from docs.manual import page, sections, table_rows
from docs.source_scan import command_statuses, log_events, status_values

_SUMMARY = "_summary"


def _events_table() -> Counter[str]:
    text = sections(page("operating.md"), level=3)["Every event"]
    return Counter(name for row in table_rows(text) for name in row.names())


def test_the_source_scan_finds_the_events_it_should() -> None:
    found = log_events()
    # One of each way an event is written: a format string, the session log's event(), its
    # exception(), a keyword default, a keyword argument.
    assert {"started", "bind_accepted", "handler_failed", "connection_refused"} <= found
    assert "connection_evicted" in found
    assert len(found) >= 70


def test_every_log_event_has_one_row_in_the_events_table() -> None:
    documented = _events_table()
    repeated = sorted(name for name, count in documented.items() if count > 1)
    assert not repeated, f"events documented twice: {repeated}"
    missing = sorted(log_events() - set(documented))
    assert not missing, f"docs/operating.md does not describe these log events: {missing}"


def test_no_event_row_names_an_event_the_bridge_no_longer_writes() -> None:
    events = log_events()
    stale = sorted(
        name
        for name in _events_table()
        if name not in events and name.removesuffix(_SUMMARY) not in events
    )
    assert not stale, f"docs/operating.md describes events the bridge does not write: {stale}"


def _status_rows() -> dict[str, str]:
    """Status name -> the code its row gives."""
    text = sections(page("operating.md"))["Status codes"]
    return {row.names()[0]: row.cells["code"].strip("`") for row in table_rows(text)}


def test_the_source_scan_finds_the_statuses_it_should() -> None:
    found = command_statuses()
    # The session's, the codec's, the pipeline's, and one only an ESME sends.
    assert {"ESME_RALYBND", "ESME_RINVOPTPARSTREAM", "ESME_RQUERYFAIL", "ESME_RX_T_APPN"} <= found


def test_every_status_the_bridge_uses_has_a_row_with_its_code() -> None:
    rows = _status_rows()
    missing = sorted(command_statuses() - set(rows))
    assert not missing, f"the status table of docs/operating.md lacks: {missing}"
    values = status_values()
    wrong = sorted(
        f"{name} {code} (is 0x{values[name]:02X})"
        for name, code in rows.items()
        if name not in values or int(code, 16) != values[name]
    )
    assert not wrong, f"the status table gives the wrong code: {wrong}"


def test_no_status_row_names_a_status_the_bridge_never_uses() -> None:
    stale = sorted(set(_status_rows()) - command_statuses())
    assert not stale, f"the status table of docs/operating.md lists unused statuses: {stale}"
