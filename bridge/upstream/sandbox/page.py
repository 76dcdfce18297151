"""The sandbox's `/` page: what it received, newest first (every value HTML-escaped)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from html import escape

from bridge.upstream.sandbox.faults import SandboxFaults
from bridge.upstream.sandbox.records import SandboxRecord

_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    "td.text{white-space:pre-wrap;max-width:40em}"
)
_COLUMNS = ("#", "time", "api", "account", "destinations", "type", "sender", "text", "result")


def render_page(
    *,
    records: Iterable[SandboxRecord],
    balances: Mapping[str, int],
    faults: SandboxFaults,
    requests: int,
    send_requests: int,
) -> str:
    credit_items = "".join(
        f"<li>{escape(user)}: {credits} credits</li>" for user, credits in balances.items()
    )
    fault_text = ", ".join(f"{k}={escape(str(v))}" for k, v in asdict(faults).items())
    rows = "".join(_row(record) for record in reversed(list(records)))
    header = "".join(f"<th>{name}</th>" for name in _COLUMNS)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>iSMS sandbox</title>"
        f"<style>{_STYLE}</style></head><body><h1>iSMS sandbox</h1>"
        f"<p>{requests} API requests, {send_requests} send requests. Faults: {fault_text}. "
        "The same as JSON: <a href='/messages.json'>/messages.json</a></p>"
        f"<ul>{credit_items}</ul><table><tr>{header}</tr>{rows}</table></body></html>"
    )


def _row(record: SandboxRecord) -> str:
    cells = (
        str(record.seq),
        time.strftime("%H:%M:%S", time.localtime(record.at)),
        f"{record.api} {record.method}",
        record.username,
        ";".join(record.destinations),
        record.sms_type,
        record.sender_id,
        record.text,
        record.reply,
    )
    text_column = _COLUMNS.index("text")
    tds = "".join(
        f"<td class='text'>{escape(cell)}</td>" if i == text_column else f"<td>{escape(cell)}</td>"
        for i, cell in enumerate(cells)
    )
    return f"<tr>{tds}</tr>"
