"""The operate routes of the admin API (scope `operate`): each acts, then is audited.

What each does across instances (steering.py has the mechanisms):
- unbind a session: on the instance holding it (a command record when that is another);
- unbind an account: on every live instance (a command each);
- suspend / resume: a record every instance adopts at its next sweep (this one at once);
- drain / end a drain: on the instance named (this one by default);
- mirror out / in: a record every instance adopts at its next sweep (this one at once);
- log level: on every live instance;
- drop held receipts, resend a receipt: in the state store, which every instance shares;
- opt a number out / back in: a record every instance adopts at its next sweep (this one
  at once), for every account or one.
"""

from __future__ import annotations

import json

from aiohttp import web

from bridge.app.admin.records import EVERY_ACCOUNT, JsonObject, SuspendMode
from bridge.app.admin.tokens import Caller
from bridge.app.admin.views import AdminParts, ApiError, ReadViews, answer
from bridge.app.logs import LEVELS
from bridge.pipeline import NumberRules, parse_opt_out

# Where the auth middleware leaves the caller on the request.
CALLER = "admin_caller"
MAX_REASON = 200
MAX_WAIT_S = 300.0


def caller_of(request: web.Request) -> Caller:
    caller = request.get(CALLER)
    if not isinstance(caller, Caller):
        raise ApiError(401, "no caller")  # the middleware always sets it
    return caller


async def body_of(request: web.Request) -> JsonObject:
    """The request's JSON object ({} for no body); 400 for anything else."""
    if not request.can_read_body:
        return {}
    try:
        value = json.loads(await request.read() or b"{}")
    except ValueError:
        raise ApiError(400, "expected a JSON object as the body") from None
    if not isinstance(value, dict):
        raise ApiError(400, "expected a JSON object as the body")
    return value


def number(body: JsonObject, name: str, default: float, *, maximum: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= maximum:
        raise ApiError(400, f"{name} must be a number from 0 to {maximum:g}")
    return float(value)


class Actions:
    def __init__(self, parts: AdminParts, views: ReadViews) -> None:
        self._parts = parts
        self._views = views

    async def _audited(
        self, request: web.Request, action: str, target: str, result: JsonObject, ok: bool = True
    ) -> web.Response:
        caller = caller_of(request)
        entry = await self._parts.audit.record(
            caller=caller.name,
            action=action,
            target=target,
            result="ok" if ok else "failed",
            detail=result,
        )
        return answer({**result, "audit": {"at": entry["at"], "caller": caller.name}})

    async def unbind_session(self, request: web.Request) -> web.Response:
        instance = await self._live(request.match_info["instance"])
        session_id = request.match_info["session_id"]
        result = await self._parts.steering.run_on(
            instance, "unbind_session", {"session_id": session_id}
        )
        target = f"{instance}/{session_id}"
        if result is None:
            return await self._audited(
                request, "unbind_session", target, {"answered": False}, ok=False
            )
        return await self._audited(
            request, "unbind_session", target, {**result, "answered": True},
            ok=bool(result.get("unbound")),
        )  # fmt: skip

    async def unbind_account(self, request: web.Request) -> web.Response:
        system_id = self._views.known(request.match_info["system_id"]).system_id
        results = await self._parts.steering.run_everywhere(
            "unbind_account", {"system_id": system_id}
        )
        unbound = sum(int(str(r.get("unbound", 0))) for r in results.values() if r is not None)
        silent = sorted(name for name, r in results.items() if r is None)
        result: JsonObject = {"unbound": unbound, "instances": results, "not_answered": silent}
        return await self._audited(request, "unbind_account", system_id, result, ok=not silent)

    async def suspend(self, request: web.Request) -> web.Response:
        system_id = self._views.known(request.match_info["system_id"]).system_id
        body = await body_of(request)
        try:
            mode = SuspendMode(body.get("mode", SuspendMode.REFUSE_BINDS.value))
        except ValueError:
            modes = ", ".join(m.value for m in SuspendMode)
            raise ApiError(400, f"mode must be one of {modes}") from None
        reason = str(body.get("reason", ""))[:MAX_REASON]
        caller = caller_of(request)
        unbound = await self._parts.steering.suspend(system_id, mode, reason, caller.name)
        result: JsonObject = {"system_id": system_id, "mode": mode.value, "unbound_here": unbound}
        return await self._audited(request, "suspend", system_id, result)

    async def resume(self, request: web.Request) -> web.Response:
        system_id = self._views.known(request.match_info["system_id"]).system_id
        caller = caller_of(request)
        was = await self._parts.steering.resume(system_id, caller.name)
        result: JsonObject = {"system_id": system_id, "was_suspended": was}
        return await self._audited(request, "resume", system_id, result)

    async def drop_receipts(self, request: web.Request) -> web.Response:
        system_id = self._views.known(request.match_info["system_id"]).system_id
        dropped = await self._parts.pipeline.outbox.drop_held(system_id)
        left = await self._parts.pipeline.outbox.held(system_id)
        result: JsonObject = {"system_id": system_id, "dropped": dropped, "still_held": left}
        return await self._audited(request, "drop_receipts", system_id, result)

    async def resend_receipt(self, request: web.Request) -> web.Response:
        system_id = self._views.known(request.match_info["system_id"]).system_id
        message_id = request.match_info["message_id"]
        target = f"{system_id}/{message_id}"
        try:
            queued = await self._parts.pipeline.resend_receipts(system_id, message_id)
        except LookupError as exc:
            raise ApiError(404, str(exc)) from None
        except ValueError as exc:
            raise ApiError(409, str(exc)) from None
        return await self._audited(request, "resend_receipt", target, {"queued": queued})

    async def drain(self, request: web.Request) -> web.Response:
        body = await body_of(request)
        steering = self._parts.steering
        instance = await self._live(str(body.get("instance") or steering.instance))
        settle_s = number(body, "settle_s", 5.0, maximum=MAX_WAIT_S)
        wait_s = number(body, "wait_s", 30.0, maximum=MAX_WAIT_S)
        if instance == steering.instance:
            steering.start_drain(settle_s)
            result = await steering.wait_drained(settle_s + wait_s)
        else:
            started = await steering.run_on(instance, "drain", {"settle_s": settle_s})
            if started is None:
                raise ApiError(504, f"instance {instance!r} did not answer")
            # Another instance's progress is read from the snapshot it publishes each sweep.
            result = await steering.wait_drained_elsewhere(instance, settle_s + wait_s)
        return await self._audited(request, "drain", instance, result)

    async def undrain(self, request: web.Request) -> web.Response:
        body = await body_of(request)
        steering = self._parts.steering
        instance = await self._live(str(body.get("instance") or steering.instance))
        result = await steering.run_on(instance, "undrain", {})
        if result is None:
            raise ApiError(504, f"instance {instance!r} did not answer")
        return await self._audited(request, "undrain", instance, result)

    async def _live(self, instance: str) -> str:
        """`instance`, if it is live (its snapshot is in the store); else 404."""
        live = [str(s.get("instance")) for s in await self._parts.steering.instances()]
        if instance not in live:
            raise ApiError(404, f"no live instance {instance!r}; live: {', '.join(live)}")
        return instance

    async def mirror_out(self, request: web.Request) -> web.Response:
        return await self._mirror(request, in_service=False)

    async def mirror_in(self, request: web.Request) -> web.Response:
        return await self._mirror(request, in_service=True)

    async def _mirror(self, request: web.Request, *, in_service: bool) -> web.Response:
        raw = request.match_info["index"]
        mirrors = self._parts.client.mirrors
        if not raw.isdigit() or int(raw) >= len(mirrors):
            raise ApiError(404, f"no mirror {raw!r}: the mirrors are 0-{len(mirrors) - 1}")
        index = int(raw)
        caller = caller_of(request)
        try:
            changed = await self._parts.steering.set_mirror(index, in_service, caller.name)
        except ValueError as exc:
            raise ApiError(409, str(exc)) from None
        result: JsonObject = {
            "index": index,
            "mirror": mirrors[index].name,
            "in_service": in_service,
            "changed": changed,
        }
        action = "mirror_in" if in_service else "mirror_out"
        return await self._audited(request, action, mirrors[index].name, result)

    async def log_level(self, request: web.Request) -> web.Response:
        body = await body_of(request)
        level = str(body.get("level", ""))
        if level not in LEVELS:
            raise ApiError(400, f"level must be one of {', '.join(LEVELS)}")
        logger = str(body.get("logger") or "")
        results = await self._parts.steering.run_everywhere(
            "log_level", {"level": level, "logger": logger}
        )
        silent = sorted(name for name, r in results.items() if r is None)
        result: JsonObject = {"level": level, "logger": logger or "root", "instances": results,
                              "not_answered": silent}  # fmt: skip
        return await self._audited(request, "log_level", logger or "root", result, ok=not silent)

    async def opt_out(self, request: web.Request) -> web.Response:
        body = await body_of(request)
        scope = self._scope(body.get("account"))
        number = self._number(request.match_info["number"])
        reason = str(body.get("reason", ""))[:MAX_REASON]
        caller = caller_of(request)
        added = await self._parts.steering.opt_out(scope, number, reason, caller.name)
        result: JsonObject = {"number": number, "account": scope, "added": added}
        return await self._audited(request, "opt_out", f"{scope}/{number}", result)

    async def opt_in(self, request: web.Request) -> web.Response:
        scope = self._scope(request.query.get("account"))
        number = self._number(request.match_info["number"])
        caller = caller_of(request)
        removed = await self._parts.steering.opt_in(scope, number, caller.name)
        result: JsonObject = {"number": number, "account": scope, "removed": removed}
        return await self._audited(request, "opt_in", f"{scope}/{number}", result)

    def _scope(self, account: object) -> str:
        """`*` (every account) when none is named, else a configured system_id (or 404)."""
        if account is None or account in ("", EVERY_ACCOUNT):
            return EVERY_ACCOUNT
        if not isinstance(account, str):
            raise ApiError(400, "account must be a system_id (a string)")
        return self._views.known(account).system_id

    def _number(self, raw: str) -> str:
        """The number in iSMS form, read as an opt-out file's line is (`+60...`, `0...`)."""
        rules = NumberRules(default_country_code=self._parts.config().isms.default_country_code)
        numbers, bad = parse_opt_out(raw.replace("\n", " "), rules)
        if bad or len(numbers) != 1:
            raise ApiError(400, f"not a phone number: {raw[:40]!r}")
        return next(iter(numbers))
