"""The two iSMS API flavours as request bytes (pure functions, no I/O).

- `Api.HTTP`: isms_send_all_id.php with the API page's parameters. A form POST by default,
  which keeps `pwd` out of URLs and out of every proxy's access log; GET (parameters in the
  query string) for accounts that need it.
- `Api.REST`: RESTAPI.php, a JSON body selecting `method: "isms_send_all_id"`, with the
  credentials in HTTP Basic auth as iSMS's REST reference and its own WordPress plugins do.
  The fields are top level (dstno, msg, type), as those plugins send them.
Both always send `agreedterm=YES` (without it iSMS answers -1013) and UTF-8 text.
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import quote_plus, urlsplit, urlunsplit

from bridge.upstream.messages import IsmsCredentials, IsmsMessage

_FORM_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Content-Type": "application/x-www-form-urlencoded"}
)
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_JSON = "application/json"
BALANCE_SCRIPT = "isms_balance.php"
# Characters application/x-www-form-urlencoded leaves as they are (space becomes '+').
_PLAIN = re.compile(r"[A-Za-z0-9_.\-~ ]*")


class Api(enum.Enum):
    HTTP = "http"
    REST = "rest"


class HttpMethod(enum.Enum):
    POST = "POST"
    GET = "GET"


# Bound once: a request is encoded per message, and a member looked up on its enum class is
# slow on Python 3.11 (docs/performance-notes.md).
_REST: Final = Api.REST
_GET: Final = HttpMethod.GET


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """An encoded request. For GET, `url` holds the password: never log it (log the mirror)."""

    method: HttpMethod
    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)


def send_request(api: Api, method: HttpMethod, endpoint: str, message: IsmsMessage) -> HttpRequest:
    if api is _REST:
        return _rest_send(endpoint, message)
    credentials = message.credentials
    # The API page's parameters. Destinations are digits (IsmsMessage checks), joined with
    # ';' ("Separate each recipient with semi-colon"), which a form encodes as %3B.
    # Credentials and sender ids repeat from message to message: looked up, not re-quoted.
    quoted = _QUOTED.get
    username, password = credentials.username, credentials.password
    encoded = (
        f"un={quoted(username) or _quote_again(username)}"
        f"&pwd={quoted(password) or _quote_again(password)}"
        f"&dstno={'%3B'.join(message.destinations)}&msg={form_quote(message.text)}"
        f"&type={int(message.sms_type)}&agreedterm=YES"
    )
    if sender_id := message.sender_id:
        encoded += f"&sendid={quoted(sender_id) or _quote_again(sender_id)}"
    return _classic(method, endpoint, encoded)


# form_quote of values that repeat, bounded: past _QUOTED_MAX distinct values (only an ESME
# inventing sender ids gets there), the others are quoted each time.
_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 1024


def _quote_again(value: str) -> str:
    quoted = form_quote(value)
    if len(_QUOTED) < _QUOTED_MAX:
        _QUOTED[value] = quoted
    return quoted


def balance_request(method: HttpMethod, endpoint: str, credentials: IsmsCredentials) -> HttpRequest:
    """isms_balance.php on the mirror's host (it takes `un` and `pwd` like the send API)."""
    encoded = f"un={form_quote(credentials.username)}&pwd={form_quote(credentials.password)}"
    return _classic(method, balance_url(endpoint), encoded)


def balance_url(endpoint: str) -> str:
    """The balance script beside a send endpoint: same scheme, host and directory."""
    parts = urlsplit(endpoint)
    directory = parts.path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, f"{directory}/{BALANCE_SCRIPT}", "", ""))


def _classic(method: HttpMethod, url: str, encoded: str) -> HttpRequest:
    if method is _GET:
        return HttpRequest(method=method, url=f"{url}?{encoded}", body=b"", headers=_NO_HEADERS)
    return HttpRequest(method=method, url=url, body=encoded.encode("ascii"), headers=_FORM_HEADERS)


def form_quote(value: str) -> str:
    """A form value percent-encoded as UTF-8 ("* MUST URL Encoded"), as urlencode does it.

    Most values (numbers, type, plain text) need no escape but '+' for space; they skip the
    general quoting, which is slower and runs for every value of every message
    (docs/performance-notes.md).
    """
    if _PLAIN.fullmatch(value):
        return value.replace(" ", "+")
    return quote_plus(value, encoding="utf-8")


def _rest_send(endpoint: str, message: IsmsMessage) -> HttpRequest:
    document: dict[str, str] = {
        "dstno": ";".join(message.destinations),
        "msg": message.text,
        "type": str(int(message.sms_type)),
        "agreedterm": "YES",
        "method": "isms_send_all_id",
    }
    if message.sender_id:
        document["sendid"] = message.sender_id
    return HttpRequest(
        method=HttpMethod.POST,
        url=endpoint,
        body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": _JSON, "Authorization": basic_auth(message.credentials)},
    )


def basic_auth(credentials: IsmsCredentials) -> str:
    token = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")
