"""The admin API's routes as documented: one row each, the OpenAPI document built from them.

`OPERATIONS` is the description (method, path template, scope, summary, query parameters,
body fields); server.py registers the handlers, and a test holds the two equal. The scope a
route needs is read from here, so an undocumented route cannot be called at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge import __version__
from bridge.app.admin.records import JsonObject


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    method: str
    path: str
    scope: str  # "read" or "operate"
    summary: str
    query: tuple[tuple[str, str], ...] = ()  # (name, description)
    body: tuple[tuple[str, str, str], ...] = ()  # (name, JSON type, description)


OPERATIONS: tuple[Operation, ...] = (
    Operation(method="GET", path="/v1/status", scope="read",
              summary="Version, uptime, instance, listeners, state backend, mirrors and "
              "breakers, iSMS balances, totals; every live instance"),
    Operation(method="GET", path="/v1/binds", scope="read",
              summary="Every bound session of every instance",
              query=(("account", "only this system_id"), ("instance", "only this instance"))),
    Operation(method="GET", path="/v1/accounts", scope="read",
              summary="Every account: limits, suspension, binds, receipts held"),
    Operation(method="GET", path="/v1/accounts/{system_id}", scope="read",
              summary="One account"),
    Operation(method="GET", path="/v1/messages", scope="read",
              summary="Recent messages, newest first (as `isms-bridge messages`)",
              query=(("id", "a message_id"), ("to", "a destination number"),
                     ("account", "a system_id"), ("since", "e.g. 90s, 10m, 2h, 1d"),
                     ("limit", "at most N (default 50)"))),
    Operation(method="GET", path="/v1/mirrors", scope="read",
              summary="The iSMS mirrors: breaker state, in service or taken out"),
    Operation(method="GET", path="/v1/drain", scope="read",
              summary="This instance's drain: bound sessions and what is in flight"),
    Operation(method="GET", path="/v1/audit", scope="read",
              summary="The audit log, newest first",
              query=(("limit", "at most N (default 100)"), ("since", "e.g. 1h"))),
    Operation(method="GET", path="/v1/openapi.json", scope="read",
              summary="This document"),
    Operation(method="POST", path="/v1/binds/{instance}/{session_id}/unbind", scope="operate",
              summary="Unbind one session, on whichever instance holds it"),
    Operation(method="POST", path="/v1/accounts/{system_id}/unbind", scope="operate",
              summary="Unbind every session of the account, on every instance"),
    Operation(method="POST", path="/v1/accounts/{system_id}/suspend", scope="operate",
              summary="Suspend the account on every instance, kept across restarts",
              body=(("mode", "string", "refuse_binds (default) or throttle_submits"),
                    ("reason", "string", "shown in the listing and the audit log"))),
    Operation(method="POST", path="/v1/accounts/{system_id}/resume", scope="operate",
              summary="Lift the account's suspension"),
    Operation(method="DELETE", path="/v1/accounts/{system_id}/receipts", scope="operate",
              summary="Drop the receipts held for the account"),
    Operation(method="POST", path="/v1/messages/{system_id}/{message_id}/receipt",
              scope="operate", summary="Queue a message's receipt again"),
    Operation(method="POST", path="/v1/drain", scope="operate",
              summary="Drain an instance: binds refused, /readyz 503, sessions unbound "
              "gracefully; answers once nothing is in flight or wait_s passed",
              body=(("instance", "string", "default: this instance"),
                    ("settle_s", "number", "wait before unbinding (default 5)"),
                    ("wait_s", "number", "wait for nothing in flight (default 30)"))),
    Operation(method="DELETE", path="/v1/drain", scope="operate",
              summary="End a drain: binds taken again, /readyz 200",
              body=(("instance", "string", "default: this instance"),)),
    Operation(method="POST", path="/v1/mirrors/{index}/out", scope="operate",
              summary="Take a mirror out of service on every instance"),
    Operation(method="POST", path="/v1/mirrors/{index}/in", scope="operate",
              summary="Put a mirror back in service on every instance"),
    Operation(method="GET", path="/v1/opt-outs", scope="read",
              summary="The numbers opted out through the API (not those of the opt-out files)",
              query=(("account", "only this scope: a system_id, or * for every account"),
                     ("number", "only this number (iSMS form)"),
                     ("limit", "at most N (default 1000)"))),
    Operation(method="PUT", path="/v1/opt-outs/{number}", scope="operate",
              summary="Opt a number out, on every instance, kept until removed: its submits "
              "are refused ESME_RSUBMITFAIL",
              body=(("account", "string", "a system_id; default: every account"),
                    ("reason", "string", "shown in the listing and the audit log"))),
    Operation(method="DELETE", path="/v1/opt-outs/{number}", scope="operate",
              summary="Take a number off the API's opt-out list",
              query=(("account", "the scope it was added for (default: every account)"),)),
    Operation(method="PUT", path="/v1/log-level", scope="operate",
              summary="Set the log level on every instance",
              body=(("level", "string", "debug, info, warning or error"),
                    ("logger", "string", "a logger name (default: the root logger)"))),
)  # fmt: skip

_PARAMETER = re.compile(r"\{([a-z_]+)\}")


def scope_of(method: str, path: str) -> str | None:
    for operation in OPERATIONS:
        if operation.method == method and operation.path == path:
            return operation.scope
    return None


def document() -> JsonObject:
    """The OpenAPI 3.1 document of `OPERATIONS`."""
    paths: dict[str, JsonObject] = {}
    for operation in OPERATIONS:
        parameters: list[JsonObject] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAMETER.findall(operation.path)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": {"type": "string"}}
            for name, text in operation.query
        ]  # fmt: skip
        entry: JsonObject = {
            "summary": operation.summary,
            "operationId": f"{operation.method.lower()} {operation.path}",
            "x-scope": operation.scope,
            "parameters": parameters,
            "responses": {
                "200": {"description": "JSON"},
                "400": {"description": "a bad request, or a credential in the query string"},
                "401": {"description": "no token, or not a valid one"},
                "403": {"description": "the token's scope is read"},
            },
        }
        if operation.body:
            entry["requestBody"] = {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                name: {"type": kind, "description": text}
                                for name, kind, text in operation.body
                            },
                        }
                    }
                },
            }
        paths.setdefault(operation.path, {})[operation.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "isms-bridge admin API", "version": __version__},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
