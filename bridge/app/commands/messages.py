"""`isms-bridge messages --config FILE`: what the bridge did with recent messages.

Reads the message records of the config's [state] store, read-only (the SQLite file without
its lock, so it works while `serve` runs; or the shared Redis), newest first:

    isms-bridge messages --config FILE [--id ID] [--to NUMBER] [--account SYSTEM_ID]
                         [--since 10m] [--limit N] [--json]

One row per message (a long message's parts share one): received, account, message_id(s),
PDU, source, destination(s), parts, the SMPP answer, message state and error, iSMS trx_id,
code and mirror, when it was sent to iSMS and answered (ms after it was received), and what
became of its receipt (none, held, sent, confirmed, refused, dropped), its estimated iSMS
credits and, for a resend within its account's duplicate window, what was done with it and
the first message's id (`suppressed of 1171081025`). No message text unless the
operator opted in (`[state] record_text`). `--to` matches a number in any form the bridge
takes: `+60123456789`, `60123456789` and `0123456789` find the same messages, whichever of
them the ESME sent. Exit 0 (also when nothing matches), 1 for a bad argument or config, 2
when the state file cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from bridge.app.commands.arguments import add_config, shown
from bridge.app.state import open_redis
from bridge.config import ConfigError, StateConfig, load_config
from bridge.pipeline import (
    DEFAULT_COUNTRY_CODE,
    MESSAGE_KIND,
    RECEIPT_KIND,
    REFUSAL_KIND,
    MessageRecord,
    MessageState,
    RefusedSubmit,
    decode_record,
    decode_refusal,
    record_key,
)
from bridge.state import Record, SqliteReadOnly, StateError, StateFileError

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_STATE = 2
DEFAULT_LIMIT = 50
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
# What people type inside a number and the pipeline ignores.
_SEPARATORS = str.maketrans("", "", " -.()")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "messages",
        help="show recent messages from the state file (read-only, while serve runs)",
        description="Show what the bridge did with recent messages, newest first, from the "
        "config's [state] store (read-only: safe while serve runs).",
    )
    add_config(parser)
    parser.add_argument("--id", help="a message_id (of the message or of one of its parts)")
    parser.add_argument(
        "--to",
        metavar="NUMBER",
        help="a destination number in any form the bridge takes (+60123456789, 60123456789 "
        "and 0123456789 find the same messages)",
    )
    parser.add_argument("--account", help="an SMPP system_id")
    parser.add_argument("--since", type=since_seconds, help="e.g. 90s, 10m, 2h, 1d")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help="at most N (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    parser.set_defaults(handler=run)


def since_seconds(text: str) -> float:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 10m, 2h or 1d, got {text!r}"
        )
    return float(found.group(1)) * _UNITS[found.group(2)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    message_id: str | None = None
    to: str | None = None
    account: str | None = None
    since_s: float | None = None
    limit: int = DEFAULT_LIMIT


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("isms-bridge messages: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    query = Query(
        message_id=args.id,
        to=args.to,
        account=args.account,
        since_s=args.since,
        limit=args.limit,
    )
    return show(args.config, query, as_json=args.json, out=sys.stdout, err=sys.stderr)


def show(path: Path, query: Query, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"isms-bridge messages: invalid config: {shown(exc)}", file=err)
        return EXIT_USAGE
    problem = _unreadable(config.state)
    if problem:
        print(f"isms-bridge messages: {problem}", file=err)
        return EXIT_STATE
    try:
        rows = asyncio.run(
            read(
                config.state,
                query,
                now=time.time(),
                country_code=config.isms.default_country_code,
            )
        )
    except StateFileError as exc:
        print(f"isms-bridge messages: state file {exc.path}: {exc.reason}", file=err)
        return EXIT_STATE
    except StateError as exc:
        print(f"isms-bridge messages: state file {config.state.path}: {exc}", file=err)
        return EXIT_STATE
    out.write(as_json_text(rows) if as_json else table(rows))
    return EXIT_OK


def _unreadable(state: StateConfig) -> str:
    if state.backend == "memory":
        return 'the memory backend keeps no file ([state] backend = "memory"): nothing to read'
    if state.backend == "sqlite" and not state.path.exists():
        return f"state file {state.path}: does not exist (the bridge has not run with it yet)"
    return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    record: MessageRecord
    receipt: str
    reason: str = ""  # why the bridge refused it before iSMS (a refused submit's row)


class _Records(Protocol):
    async def scan_records(
        self, kind: str, *, now: float, since: float | None = None, limit: int | None = None
    ) -> tuple[Record, ...]: ...

    async def aclose(self) -> None: ...


async def _open(state: StateConfig) -> _Records:
    """The records, read-only: the SQLite file without its lock, or the shared Redis."""
    if state.backend == "redis" and state.redis is not None:
        return await open_redis(state.redis)
    return await SqliteReadOnly.open(state.path)


async def read(
    state: StateConfig, query: Query, *, now: float, country_code: str = DEFAULT_COUNTRY_CODE
) -> list[Row]:
    store = await _open(state)
    try:
        return await select(store, query, now=now, country_code=country_code)
    finally:
        await store.aclose()


async def select(
    store: _Records, query: Query, *, now: float, country_code: str = DEFAULT_COUNTRY_CODE
) -> list[Row]:
    """The rows of `query` from an open store (also the admin API's GET /v1/messages);
    `country_code`: the config's [isms] default_country_code, which `--to 0…` stands for."""
    since = None if query.since_s is None else now - query.since_s
    found = await store.scan_records(MESSAGE_KIND, now=now, since=since)
    fates = {r.key: r.value.decode("ascii", "replace") for r in await store.scan_records(
        RECEIPT_KIND, now=now, since=since
    )}  # fmt: skip
    rows: list[Row] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for stored in found:
        try:
            record = decode_record(stored.value)
        except ValueError:
            continue
        identity = (record.account, record.message_ids or (record.reference,))
        if identity in seen or not _matches(record, query, country_code):
            continue
        seen.add(identity)
        keys = [record_key(record.account, i) for i in record.keys]
        receipt = next((fates[k] for k in keys if k in fates), record.receipt)
        rows.append(Row(record=record, receipt=receipt))
        if len(rows) >= query.limit:
            break
    if query.message_id is None:  # a refused submit was given no message_id
        for stored in await store.scan_records(REFUSAL_KIND, now=now, since=since):
            try:
                refused = _refused_record(decode_refusal(stored.value))
            except ValueError:
                continue
            if _matches(refused.record, query, country_code):
                rows.append(refused)
        rows.sort(key=lambda row: row.record.received_at, reverse=True)
    return rows[: query.limit]


def _refused_record(refused: RefusedSubmit) -> Row:
    """A refused submit as a row: answered with its status, REJECTD, nothing sent."""
    at = refused.received_at
    record = MessageRecord(
        account=refused.account,
        message_ids=(),
        pdu=refused.pdu,
        source_addr=refused.source_addr,
        destinations=refused.destinations,
        parts=1,
        status=refused.status,
        message_state=MessageState.REJECTED,
        error_code=0,
        received_at=at,
        answered_at=at,
        final_at=at,
        reference=refused.reference,
    )
    return Row(record=record, receipt="none", reason=refused.reason)


def _matches(record: MessageRecord, query: Query, country_code: str) -> bool:
    if query.account is not None and record.account != query.account:
        return False
    if query.message_id is not None and query.message_id not in record.message_ids:
        return False
    if query.to is None:
        return True
    wanted = comparable_number(query.to, country_code)
    return any(comparable_number(d, country_code) == wanted for d in record.destinations)


def comparable_number(address: str, country_code: str) -> str:
    """A number as iSMS gets it, so `+60123456789`, `0060123456789`, `60123456789` and
    `0123456789` are one number: the pipeline's rule for an address of TON 0 (unknown), the
    TON most ESMEs send and which a record does not keep (separators people type dropped,
    `+` or `00` taken off, a single leading 0 replaced by the default country code).
    Anything else is compared as written."""
    typed = address.strip().translate(_SEPARATORS)
    if typed.startswith("+"):
        return typed[1:]
    if typed.startswith("00"):
        return typed[2:]
    if typed.startswith("0"):
        return country_code + typed[1:]
    return typed


def _state_word(record: MessageRecord) -> str:
    try:
        return MessageState(record.message_state).stat
    except ValueError:
        return str(record.message_state)


def _local(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="milliseconds")


def _after(moment: float | None, start: float) -> str:
    return "-" if moment is None else f"{(moment - start) * 1000:.0f}"


COLUMNS = (
    "received", "account", "message_id", "pdu", "from", "to", "parts", "answer",
    "state", "err", "trx_id", "isms", "mirror", "sent_ms", "answered_ms", "receipt",
    "credits", "duplicate", "refused_because",
)  # fmt: skip


def _duplicate(record: MessageRecord) -> str:
    """What duplicate suppression made of it: `suppressed of 1171081025`, or `-`."""
    if not record.duplicate:
        return "-"
    first = record.duplicate_of
    return f"{record.duplicate} of {first}" if first else record.duplicate


def table(rows: list[Row]) -> str:
    if not rows:
        return "no messages match\n"
    cells = [COLUMNS]
    for row in rows:
        record = row.record
        ids = record.message_ids
        cells.append(
            (
                _local(record.received_at),
                record.account,
                (ids[-1] if ids else "-") + (f" (+{len(ids) - 1} parts)" if len(ids) > 1 else ""),
                record.pdu or "-",
                record.source_addr or "-",
                ",".join(record.destinations) or "-",
                str(record.parts),
                record.status,
                _state_word(record),
                f"{record.error_code:03d}",
                record.trx_id or "-",
                "-" if record.isms_code is None else str(record.isms_code),
                record.mirror or "-",
                _after(record.sent_at, record.received_at),
                _after(record.answered_at, record.received_at),
                row.receipt,
                str(record.credits),
                _duplicate(record),
                row.reason or "-",
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in cells
    )


def as_json_text(rows: list[Row]) -> str:
    items = [as_json(row) for row in rows]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def as_json(row: Row) -> dict[str, object]:
    """One row as `--json` shows it."""
    record = row.record
    item: dict[str, object] = {
        "account": record.account,
        "message_ids": list(record.message_ids),
        "pdu": record.pdu,
        "source_addr": record.source_addr,
        "destinations": list(record.destinations),
        "parts": record.parts,
        "status": record.status,
        "message_state": _state_word(record),
        "error_code": record.error_code,
        "trx_id": record.trx_id or None,
        "isms_code": record.isms_code,
        "mirror": record.mirror or None,
        "received_at": _local(record.received_at),
        "sent_at": None if record.sent_at is None else _local(record.sent_at),
        "answered_at": _local(record.answered_at),
        "final_at": None if record.final_at is None else _local(record.final_at),
        "receipt": row.receipt,
        "reference": record.reference,
        "credits": record.credits,
        "duplicate": record.duplicate or None,
        "duplicate_of": record.duplicate_of or None,
        "refused_because": row.reason or None,
    }
    if record.text is not None:
        item["text"] = record.text
    return item
