"""`IsmsSandbox`: a local iSMS on loopback, for newcomers, demos and tests.

Serves the real paths: /isms_send_all_id.php and /isms_send.php (GET query or form POST),
/RESTAPI.php (JSON + HTTP Basic auth, or form; the reply a JSON-encoded string) and
/isms_balance.php. It judges each request like the API page says (rules.py), spends a credit
balance per 153/63-character part, injects faults (faults.py), and shows what it received at
`/` (HTML) and `/messages.json`. Usable in-process: `port = await sandbox.start()`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl

from aiohttp import web

from bridge.upstream.codes import REPLY_TEXT, IsmsCode
from bridge.upstream.sandbox.faults import Fault, FaultKind, SandboxFaults, first_fault
from bridge.upstream.sandbox.page import render_page
from bridge.upstream.sandbox.records import SandboxRecord
from bridge.upstream.sandbox.rules import SendParams, credentials_match, judge_send

DEFAULT_ACCOUNTS: Mapping[str, str] = {"isms": "isms123"}  # the API page's example account
DEFAULT_CREDITS = 10_000
_MAX_BODY = 64 * 1024
_MAX_FIELDS = 50
_ERROR_PAGE = "<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shape:
    api: str
    with_id: bool
    as_json: bool
    query_keys: tuple[str, ...]
    basic_auth: bool


class IsmsSandbox:
    def __init__(
        self,
        *,
        accounts: Mapping[str, str] | None = None,
        credits: int = DEFAULT_CREDITS,
        faults: SandboxFaults | None = None,
        history: int = 200,
        seed: int | None = None,
    ) -> None:
        self.accounts = dict(accounts if accounts is not None else DEFAULT_ACCOUNTS)
        self.balances = dict.fromkeys(self.accounts, credits)
        self.faults = faults or SandboxFaults()
        self.requests = 0  # every request to an API path (send, REST, balance)
        self.send_requests = 0  # send requests only: "sent once" is proven by this
        self.records: deque[SandboxRecord] = deque(maxlen=history)
        self.port = 0
        self.host = ""
        self._rng = random.Random(seed)
        self._seq = 0
        self._next_trx = 1_000_000_000 + int(time.time()) % 1_000_000 * 1_000
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> IsmsSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 = any free port); returns the bound port."""
        if self._runner is not None:
            raise RuntimeError("this sandbox is already running")
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/isms_send_all_id.php", self._send_all_id)
        app.router.add_route("*", "/isms_send.php", self._send_legacy)
        app.router.add_route("*", "/RESTAPI.php", self._rest)
        app.router.add_route("*", "/isms_balance.php", self._balance)
        app.router.add_get("/", self._page)
        app.router.add_get("/messages.json", self._json)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, backlog=1024)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, script: str = "isms_send_all_id.php") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/{script}"

    @property
    def messages(self) -> tuple[SandboxRecord, ...]:
        return tuple(self.records)

    # -- handlers ----------------------------------------------------------------------------

    async def _send_all_id(self, request: web.Request) -> web.StreamResponse:
        return await self._classic_send(request, api="http", with_id=True)

    async def _send_legacy(self, request: web.Request) -> web.StreamResponse:
        # The legacy script answers "2000 = SUCCESS" without an id.
        return await self._classic_send(request, api="legacy", with_id=False)

    async def _classic_send(
        self, request: web.Request, *, api: str, with_id: bool
    ) -> web.StreamResponse:
        self.requests += 1
        self.send_requests += 1
        params = await _form_params(request)
        shape = _Shape(
            api=api,
            with_id=with_id,
            as_json=False,
            query_keys=_query_keys(request),
            basic_auth=False,
        )
        return await self._send(request, SendParams.from_mapping(params), shape)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        params, basic = await _rest_params(request)
        if params.get("method") == "isms_balance":
            return await self._answer_balance(params, as_json=True)
        self.send_requests += 1
        shape = _Shape(
            api="rest",
            with_id=True,
            as_json=True,
            query_keys=_query_keys(request),
            basic_auth=basic,
        )
        if params.get("method") != "isms_send_all_id":
            # RESTAPI.php picks the operation by `method`; without it nothing is sent.
            params = {"un": params.get("un", "")}
        return await self._send(request, SendParams.from_mapping(params), shape)

    async def _balance(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        return await self._answer_balance(await _form_params(request), as_json=False)

    async def _page(self, request: web.Request) -> web.StreamResponse:
        page = render_page(
            records=self.records,
            balances=self.balances,
            faults=self.faults,
            requests=self.requests,
            send_requests=self.send_requests,
        )
        return web.Response(text=page, content_type="text/html")

    async def _json(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.snapshot())

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "send_requests": self.send_requests,
            "balances": dict(self.balances),
            "faults": asdict(self.faults),
            "messages": [asdict(r) for r in reversed(self.records)],
        }

    # -- the work ----------------------------------------------------------------------------

    async def _send(
        self, request: web.Request, params: SendParams, shape: _Shape
    ) -> web.StreamResponse:
        fault = first_fault(params.destinations) or self.faults.pick(self._rng)
        if fault is not None and fault.kind is FaultKind.HTTP_STATUS:
            # A proxy in front of iSMS answering: nothing reached the API, nothing is sent.
            self._record(request, params, shape, f"HTTP {fault.value}", None, None, 0)
            await self._delay(0.0)
            page = _ERROR_PAGE.format(status=fault.value)
            return web.Response(status=fault.value, text=page, content_type="text/html")
        judgement = judge_send(params, self.accounts, self.balances)
        code = judgement.code
        trx_id: str | None = None
        charged = 0
        if code == IsmsCode.SUCCESS and _is_kind(fault, FaultKind.RESULT_CODE, FaultKind.BARE_CODE):
            assert fault is not None
            code = fault.value  # a chosen result code: refused, nothing charged
        elif code == IsmsCode.SUCCESS and not _is_kind(fault, FaultKind.HTML_PAGE):
            assert params.un is not None
            charged = judgement.cost
            self.balances[params.un] -= charged
            trx_id = self._new_trx_id()
        chosen = fault if judgement.code == IsmsCode.SUCCESS else None
        body = _reply_body(code, trx_id, shape.with_id, chosen)
        dropped = code == IsmsCode.SUCCESS and _is_kind(fault, FaultKind.DROP)
        shown = "dropped after sending" if dropped else body
        if _is_kind(chosen, FaultKind.HTML_PAGE):
            shown = "an HTML page (HTTP 200), nothing sent"
        self._record(request, params, shape, shown, code, trx_id, charged)
        await self._delay(chosen.seconds if chosen is not None else 0.0)
        if dropped:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        if _is_kind(chosen, FaultKind.HTML_PAGE):
            return web.Response(text=_ERROR_PAGE.format(status="Welcome"), content_type="text/html")
        if shape.as_json:
            return web.Response(text=json.dumps(body), content_type="application/json")
        return web.Response(text=body, content_type="text/html")

    async def _answer_balance(self, params: Mapping[str, str], *, as_json: bool) -> web.Response:
        username, password = params.get("un"), params.get("pwd")
        if not username or password is None:
            body = _code_line(IsmsCode.MISSING_PARAMETER)
        elif not credentials_match(self.accounts, username, password):
            body = _code_line(IsmsCode.AUTHENTICATION_FAILED)
        else:
            body = str(self.balances[username])
        await self._delay(0.0)
        if as_json:
            return web.Response(text=json.dumps(body), content_type="application/json")
        return web.Response(text=body, content_type="text/html")

    async def _delay(self, extra_s: float) -> None:
        delay = self.faults.latency_s + extra_s
        if delay > 0:
            await asyncio.sleep(delay)

    def _new_trx_id(self) -> str:
        self._next_trx += 1
        return str(self._next_trx)

    def _record(
        self,
        request: web.Request,
        params: SendParams,
        shape: _Shape,
        reply: str,
        code: int | None,
        trx_id: str | None,
        charged: int,
    ) -> None:
        self._seq += 1
        self.records.append(
            SandboxRecord(
                seq=self._seq,
                at=time.time(),
                path=request.path,
                method=request.method,
                api=shape.api,
                username=params.un or "",
                destinations=params.destinations if params.dstno else (),
                text=params.msg or "",
                sms_type=params.type or "",
                sender_id=params.sendid or "",
                reply=reply,
                code=code,
                trx_id=trx_id,
                charged=charged,
                query_keys=shape.query_keys,
                content_type=_media_type(request),
                basic_auth=shape.basic_auth,
            )
        )


def _is_kind(fault: Fault | None, *kinds: FaultKind) -> bool:
    return fault is not None and fault.kind in kinds


def _code_line(code: int) -> str:
    try:
        text = REPLY_TEXT[IsmsCode(code)]
    except ValueError:
        text = "UNKNOWN ERROR"
    return f"{code} = {text}"


def _reply_body(code: int, trx_id: str | None, with_id: bool, fault: Fault | None) -> str:
    if code != IsmsCode.SUCCESS:
        return str(code) if _is_kind(fault, FaultKind.BARE_CODE) else _code_line(code)
    if _is_kind(fault, FaultKind.BLANK_SUCCESS):
        return ""
    if not with_id or trx_id is None or _is_kind(fault, FaultKind.SUCCESS_WITHOUT_ID):
        return "2000 = SUCCESS"
    if _is_kind(fault, FaultKind.PADDED_SUCCESS):
        return f"\ufeff2000 = SUCCESS:{trx_id}\r\n"
    return f"2000 = SUCCESS:{trx_id}"


def _query_keys(request: web.Request) -> tuple[str, ...]:
    query = request.query_string
    return tuple(k for k, _ in _parse_qs(query)) if query else ()


async def _form_params(request: web.Request) -> dict[str, str]:
    """Query string and form body merged, the body winning (PHP's $_REQUEST order)."""
    query = request.query_string
    params = dict(_parse_qs(query)) if query else {}
    if request.method == "POST" and request.body_exists:
        if request.headers.get("Content-Type", "").startswith("multipart/form-data"):
            form = await request.post()
            params.update((k, v) for k, v in form.items() if isinstance(v, str))
        else:
            params.update(_parse_qs((await request.read()).decode("utf-8", "replace")))
    return params


async def _rest_params(request: web.Request) -> tuple[dict[str, str], bool]:
    """RESTAPI.php: a JSON body (top-level fields or a `recipient` list) or a form."""
    basic = _basic_credentials(request.headers.get("Authorization", ""))
    if request.content_type != "application/json":
        params = await _form_params(request)
    else:
        try:
            document = json.loads(await request.read())
        except ValueError:
            document = None
        params = _flatten_rest(document) if isinstance(document, dict) else {}
    if basic is not None:
        params["un"], params["pwd"] = basic
    return params, basic is not None


def _flatten_rest(document: dict[str, object]) -> dict[str, str]:
    fields = {k: str(v) for k, v in document.items() if isinstance(v, str | int)}
    recipients = document.get("recipient")
    if isinstance(recipients, list) and recipients and all(isinstance(r, dict) for r in recipients):
        first = recipients[0]
        numbers = [str(r.get("dstno", "")) for r in recipients]
        fields["dstno"] = ";".join(numbers)
        for name in ("msg", "type"):
            if isinstance(first.get(name), str | int):
                fields[name] = str(first[name])
    return fields


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def _media_type(request: web.Request) -> str:
    """The request's Content-Type without parameters ("" for a request without a body)."""
    if not request.body_exists:
        return ""
    return request.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _parse_qs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        return []  # too many fields: judged as missing parameters
