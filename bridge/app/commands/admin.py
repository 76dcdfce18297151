"""`isms-bridge admin ...`: a thin client of a running bridge's admin API ([admin]).

    isms-bridge admin [--url URL] [--token-file PATH] [--cafile PEM] [--json] COMMAND ...

    status                              version, uptime, listeners, mirrors, totals, instances
    binds [--account ID] [--instance I] every bound session of every instance
    accounts [SYSTEM_ID]                limits, suspension, binds, receipts held
    kick INSTANCE/SESSION | --account ID  unbind one session, or all of an account's
    suspend SYSTEM_ID [--mode M] [--reason TEXT]   refuse binds (or throttle submits)
    resume SYSTEM_ID
    drain [--instance I] [--settle S] [--wait S] | drain --end [--instance I]
    receipts drop SYSTEM_ID | receipts resend SYSTEM_ID MESSAGE_ID
    mirrors [out INDEX | in INDEX]
    audit [--limit N] [--since 1h]
    log-level LEVEL [--logger NAME]
    opt-out list [--account ID] | opt-out add NUMBER [--account ID] [--reason TEXT]
      | opt-out remove NUMBER [--account ID]   numbers opted out through the API

The token is read from the file `--token-file` names, else from the environment variable
ISMS_BRIDGE_ADMIN_TOKEN; it is sent only in the Authorization header. The URL defaults to
ISMS_BRIDGE_ADMIN_URL, else http://127.0.0.1:9103. Exit 0 on success, 1 for a refused
call (the API's error is printed), 2 when the API cannot be reached or no token is given.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlencode

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNREACHABLE = 2
TOKEN_ENV = "ISMS_BRIDGE_ADMIN_TOKEN"  # noqa: S105 (the variable's name, not a token)
URL_ENV = "ISMS_BRIDGE_ADMIN_URL"
DEFAULT_URL = "http://127.0.0.1:9103"
TIMEOUT_S = 330.0  # longer than the longest drain wait the API allows


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "admin",
        help="see and steer a running bridge through its admin API ([admin])",
        description="A client of the admin API of a running bridge: see its binds, accounts "
        "and audit log; kick, suspend, drain, take mirrors out.",
    )
    parser.add_argument(
        "--url", default=None, help=f"the API (default: ${URL_ENV} or {DEFAULT_URL})"
    )
    parser.add_argument(
        "--token-file", type=Path, help=f"a file holding the token (else ${TOKEN_ENV})"
    )
    parser.add_argument(
        "--cafile", type=Path, help="PEM certificates to verify a TLS listener with"
    )
    parser.add_argument("--json", action="store_true", help="the API's JSON instead of a table")
    commands = parser.add_subparsers(dest="admin_command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="version, uptime, listeners, mirrors, totals")
    binds = commands.add_parser("binds", help="every bound session of every instance")
    binds.add_argument("--account")
    binds.add_argument("--instance")
    accounts = commands.add_parser("accounts", help="limits, suspension, binds, receipts held")
    accounts.add_argument("system_id", nargs="?")
    kick = commands.add_parser("kick", help="unbind a session (INSTANCE/SESSION) or an account")
    kick.add_argument("session", nargs="?", metavar="INSTANCE/SESSION")
    kick.add_argument("--account", help="unbind every session of this system_id, everywhere")
    suspend = commands.add_parser("suspend", help="suspend an account on every instance")
    suspend.add_argument("system_id")
    suspend.add_argument(
        "--mode",
        choices=("refuse_binds", "throttle_submits"),
        default="refuse_binds",
        help="refuse_binds: binds refused, sessions unbound; throttle_submits: submits "
        "answered ESME_RTHROTTLED (default: %(default)s)",
    )
    suspend.add_argument("--reason", default="", help="shown in the listing and the audit log")
    resume = commands.add_parser("resume", help="lift an account's suspension")
    resume.add_argument("system_id")
    drain = commands.add_parser("drain", help="drain an instance (or --end a drain)")
    drain.add_argument("--instance", help="default: the instance the URL reaches")
    drain.add_argument(
        "--settle", type=float, default=5.0, help="seconds before unbinding (default: %(default)s)"
    )
    drain.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for idle (default: %(default)s)"
    )
    drain.add_argument("--end", action="store_true", help="take binds again")
    receipts = commands.add_parser("receipts", help="drop or resend held receipts")
    receipts.add_argument("what", choices=("drop", "resend"))
    receipts.add_argument("system_id")
    receipts.add_argument("message_id", nargs="?")
    mirrors = commands.add_parser("mirrors", help="list mirrors, or take one out / put it back")
    mirrors.add_argument("what", nargs="?", choices=("out", "in"))
    mirrors.add_argument("index", nargs="?", type=int)
    audit = commands.add_parser("audit", help="the audit log, newest first")
    audit.add_argument("--limit", type=int, default=50, help="at most N (default: %(default)s)")
    audit.add_argument("--since", help="e.g. 10m, 2h, 1d")
    level = commands.add_parser("log-level", help="set the log level on every instance")
    level.add_argument("level", choices=("debug", "info", "warning", "error"))
    level.add_argument("--logger", default="", help="a logger name (default: the root logger)")
    opt_out = commands.add_parser(
        "opt-out", help="list, add or remove numbers opted out through the API"
    )
    opt_out.add_argument("what", choices=("list", "add", "remove"))
    opt_out.add_argument("number", nargs="?", help="as an ESME would send it: +60..., 01...")
    opt_out.add_argument("--account", help="one system_id (default: every account)")
    opt_out.add_argument("--reason", default="", help="add: shown in the listing and the audit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return call(args, out=sys.stdout, err=sys.stderr)


def request_of(args: argparse.Namespace) -> tuple[str, str, dict[str, object] | None]:
    """(method, path with query, JSON body) of one admin command; ValueError for bad use."""
    match args.admin_command:
        case "status":
            return "GET", "/v1/status", None
        case "binds":
            return "GET", "/v1/binds" + _query(account=args.account, instance=args.instance), None
        case "accounts":
            if args.system_id:
                return "GET", f"/v1/accounts/{quote(args.system_id, safe='')}", None
            return "GET", "/v1/accounts", None
        case "kick":
            if args.account:
                return "POST", f"/v1/accounts/{quote(args.account, safe='')}/unbind", None
            instance, slash, session = (args.session or "").rpartition("/")
            if not slash or not instance or not session:
                raise ValueError("kick needs INSTANCE/SESSION (see `admin binds`) or --account")
            return (
                "POST",
                f"/v1/binds/{quote(instance, safe='')}/{quote(session, safe='')}/unbind",
                None,
            )
        case "suspend":
            body: dict[str, object] = {"mode": args.mode, "reason": args.reason}
            return "POST", f"/v1/accounts/{quote(args.system_id, safe='')}/suspend", body
        case "resume":
            return "POST", f"/v1/accounts/{quote(args.system_id, safe='')}/resume", None
        case "drain":
            target: dict[str, object] = {} if not args.instance else {"instance": args.instance}
            if args.end:
                return "DELETE", "/v1/drain", target
            return "POST", "/v1/drain", {**target, "settle_s": args.settle, "wait_s": args.wait}
        case "receipts":
            account = quote(args.system_id, safe="")
            if args.what == "drop":
                return "DELETE", f"/v1/accounts/{account}/receipts", None
            if not args.message_id:
                raise ValueError("receipts resend needs SYSTEM_ID MESSAGE_ID")
            return "POST", f"/v1/messages/{account}/{quote(args.message_id, safe='')}/receipt", None
        case "mirrors":
            if args.what is None:
                return "GET", "/v1/mirrors", None
            if args.index is None:
                raise ValueError(
                    f"mirrors {args.what} needs the mirror's INDEX (see `admin mirrors`)"
                )
            return "POST", f"/v1/mirrors/{args.index}/{args.what}", None
        case "audit":
            return "GET", "/v1/audit" + _query(limit=str(args.limit), since=args.since), None
        case "log-level":
            return "PUT", "/v1/log-level", {"level": args.level, "logger": args.logger}
        case "opt-out":
            if args.what == "list":
                return (
                    "GET",
                    "/v1/opt-outs" + _query(account=args.account, number=args.number),
                    None,
                )
            if not args.number:
                raise ValueError(f"opt-out {args.what} needs the NUMBER")
            path = f"/v1/opt-outs/{quote(args.number, safe='')}"
            if args.what == "add":
                return "PUT", path, {"account": args.account, "reason": args.reason}
            return "DELETE", path + _query(account=args.account), None
        case _:
            raise ValueError(f"unknown admin command {args.admin_command!r}")


def _query(**values: str | None) -> str:
    given = {key: value for key, value in values.items() if value}
    return f"?{urlencode(given)}" if given else ""


def token_of(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        return Path(args.token_file).read_text(encoding="utf-8").strip()
    return os.environ.get(TOKEN_ENV) or None


def call(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    try:
        method, path, body = request_of(args)
        token = token_of(args)
    except (ValueError, OSError) as exc:
        print(f"isms-bridge admin: {exc}", file=err)
        return EXIT_REFUSED if isinstance(exc, ValueError) else EXIT_UNREACHABLE
    if not token:
        print(f"isms-bridge admin: no token (--token-file, or ${TOKEN_ENV})", file=err)
        return EXIT_UNREACHABLE
    base = (args.url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        print(f"isms-bridge admin: expected an http:// or https:// URL, got {base!r}", file=err)
        return EXIT_REFUSED
    # The scheme was checked above: http or https only.
    request = urllib.request.Request(  # noqa: S310
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=str(args.cafile) if args.cafile else None)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        problem = json.loads(exc.read() or b"{}").get("error", exc.reason)
        print(f"isms-bridge admin: {exc.code}: {problem}", file=err)
        return EXIT_REFUSED
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"isms-bridge admin: cannot reach {base}: {exc}", file=err)
        return EXIT_UNREACHABLE
    out.write(
        json.dumps(answer, indent=2) + "\n" if args.json else shown(args.admin_command, answer)
    )
    return EXIT_OK


# The columns each listing shows as a table (every other answer is shown as key: value).
_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "binds": ("binds", ("instance", "session_id", "system_id", "bind_type", "peer",
                        "bound_at", "last_activity", "requests_in_flight", "requests",
                        "deliveries")),
    "accounts": ("accounts", ("system_id", "max_binds", "binds", "throughput",
                              "receipts_held", "oldest_receipt_age_s", "suspended")),
    "mirrors": ("mirrors", ("index", "name", "in_service", "breaker", "failures",
                            "cooldown_left_s")),
    "audit": ("entries", ("at", "caller", "action", "target", "result", "instance")),
    "opt-out": ("opt_outs", ("scope", "number", "reason", "by", "at")),
}  # fmt: skip


def shown(command: str, answer: dict[str, Any]) -> str:
    listing = _COLUMNS.get(command)
    if listing is not None and isinstance(answer.get(listing[0]), list):
        return table(listing[1], answer[listing[0]])
    if command == "status":
        lines = [
            f"{key}: {_cell(key, value)}" for key, value in answer.items() if key != "instances"
        ]
        return (
            "\n".join(lines)
            + "\n\n"
            + table(
                ("instance", "version", "draining", "bound", "requests_in_flight", "started_at"),
                answer.get("instances", []),
            )
        )
    return "".join(f"{key}: {_cell(key, value)}\n" for key, value in answer.items())


def table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "none\n"
    cells = [columns, *(tuple(_cell(c, row.get(c)) for c in columns) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in cells
    )


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    timed = column.endswith("_at") or column in ("at", "last_activity")
    if timed and isinstance(value, int | float):
        return datetime.fromtimestamp(value).astimezone().isoformat(timespec="seconds")
    if column == "suspended" and isinstance(value, dict):
        return str(value.get("mode"))
    if column == "throughput" and isinstance(value, dict):
        # tokens left / burst at per_s a second
        return f"{_cell('', value.get('tokens_left'))}/{value.get('burst')}@{value.get('per_s')}/s"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
