"""`AdminServer`: the admin API on `[admin]` host:port (aiohttp), plain or TLS.

Every request passes one middleware, in this order: a credential in the query string is
refused (400); the route must be documented (openapi.py, which gives its scope); the bearer
token must match and its scope allow the route (tokens.py); the handler answers JSON; an
`ApiError` becomes `{"error": ...}` with its status. Each request is counted by route
template, method and status; each refusal by reason, and logged as `event=admin_refused`
without what was presented. aiohttp's access log stays off: it would write query strings.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.app.admin.actions import CALLER, Actions
from bridge.app.admin.metrics import AdminMetrics
from bridge.app.admin.openapi import scope_of
from bridge.app.admin.tokens import Refusal, Tokens
from bridge.app.admin.views import AdminParts, ApiError, ReadViews
from bridge.config import AdminConfig
from bridge.server import tls_context

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(parts: AdminParts, tokens: Tokens, metrics: AdminMetrics | None) -> web.Application:
    """The aiohttp application: every route of the API behind the middleware."""
    views = ReadViews(parts)
    actions = Actions(parts, views)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = _template(request)
        try:
            response = await _guarded(request, handler, route, tokens, metrics)
        except web.HTTPException as exc:
            response = web.json_response({"error": exc.reason}, status=exc.status)
        if metrics is not None:
            metrics.requests.labels(route, request.method, str(response.status)).inc()
        return response

    app = web.Application(middlewares=[guard])
    add = app.router.add_route
    add("GET", "/v1/status", views.status)
    add("GET", "/v1/binds", views.binds)
    add("GET", "/v1/accounts", views.accounts)
    add("GET", "/v1/accounts/{system_id}", views.account)
    add("GET", "/v1/messages", views.messages)
    add("GET", "/v1/mirrors", views.mirrors)
    add("GET", "/v1/drain", views.drain)
    add("GET", "/v1/audit", views.audit)
    add("GET", "/v1/openapi.json", views.openapi)
    add("POST", "/v1/binds/{instance}/{session_id}/unbind", actions.unbind_session)
    add("POST", "/v1/accounts/{system_id}/unbind", actions.unbind_account)
    add("POST", "/v1/accounts/{system_id}/suspend", actions.suspend)
    add("POST", "/v1/accounts/{system_id}/resume", actions.resume)
    add("DELETE", "/v1/accounts/{system_id}/receipts", actions.drop_receipts)
    add("POST", "/v1/messages/{system_id}/{message_id}/receipt", actions.resend_receipt)
    add("POST", "/v1/drain", actions.drain)
    add("DELETE", "/v1/drain", actions.undrain)
    add("POST", "/v1/mirrors/{index}/out", actions.mirror_out)
    add("POST", "/v1/mirrors/{index}/in", actions.mirror_in)
    add("PUT", "/v1/log-level", actions.log_level)
    add("GET", "/v1/opt-outs", views.opt_outs)
    add("PUT", "/v1/opt-outs/{number}", actions.opt_out)
    add("DELETE", "/v1/opt-outs/{number}", actions.opt_in)
    return app


async def _guarded(
    request: web.Request,
    handler: Handler,
    route: str,
    tokens: Tokens,
    metrics: AdminMetrics | None,
) -> web.StreamResponse:
    needed = scope_of(request.method, route)
    if needed is None:
        # Not a documented route: checked for a credential in the query string all the same.
        needed = "read"
    verdict = tokens.check(request.headers.get("Authorization"), request.query.keys(), needed)
    if isinstance(verdict, Refusal):
        if metrics is not None:
            metrics.auth_failures.labels(verdict.value).inc()
        log.warning(
            "event=admin_refused reason=%s method=%s route=%s peer=%s",
            verdict.value,
            request.method,
            route,
            request.remote or "?",
        )
        headers = {"WWW-Authenticate": "Bearer"} if verdict.status == 401 else None
        return web.json_response({"error": verdict.message}, status=verdict.status, headers=headers)
    request[CALLER] = verdict
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response({"error": exc.message}, status=exc.status)


def _template(request: web.Request) -> str:
    """The matched route's template (`/v1/accounts/{system_id}`), or `unmatched`."""
    info = request.match_info
    if isinstance(info, web.UrlMappingMatchInfo) and info.http_exception is None:
        resource = info.route.resource
        if resource is not None:
            return resource.canonical
    return "unmatched"


class AdminServer:
    """The listener; `port=0` picks a free port (tests)."""

    def __init__(
        self, config: AdminConfig, parts: AdminParts, metrics: AdminMetrics | None
    ) -> None:
        self._config = config
        self._app = build_app(parts, Tokens(config.tokens), metrics)
        self._runner: web.AppRunner | None = None

    @property
    def app(self) -> web.Application:
        return self._app

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        if self._runner is None:
            return ()
        return tuple((str(name[0]), int(name[1])) for name in self._runner.addresses)

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("this AdminServer was already started")
        config = self._config
        context = (
            None if config.tls is None else tls_context(config.tls.cert_file, config.tls.key_file)
        )
        runner = web.AppRunner(self._app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, config.host, config.port, ssl_context=context).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        for host, port in self.addresses:
            log.info(
                "event=admin_listening host=%s port=%d tls=%s tokens=%d",
                host,
                port,
                str(context is not None).lower(),
                len(config.tokens),
            )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
