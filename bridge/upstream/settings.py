"""The iSMS client's settings (built from `[isms]` by bridge.app.settings)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.upstream.api import Api, HttpMethod
from bridge.upstream.messages import DEFAULT_MAX_DESTINATIONS
from bridge.upstream.mirrors import DEFAULT_BREAKER_FAILURES

# The three send hosts of the iSMS API page, in its order ("We STRONGLY recommend our client
# set all the mirror link below into system to ensure high availability").
MIRROR_HOSTS = ("www.isms.com.my", "ww3.isms.com.my", "smtpapi.vocotext.com")
_SCRIPTS = {Api.HTTP: "isms_send_all_id.php", Api.REST: "RESTAPI.php"}


class HttpClientKind(enum.Enum):
    AIOHTTP = "aiohttp"
    HTTPX = "httpx"
    # The bridge's own HTTP/1.1 client on asyncio Protocols, replies parsed by httptools.
    HTTP11 = "http11"


def default_endpoints(api: Api) -> tuple[str, ...]:
    return tuple(f"https://{host}/{_SCRIPTS[api]}" for host in MIRROR_HOSTS)


@dataclass(frozen=True, slots=True, kw_only=True)
class IsmsSettings:
    """How the client reaches iSMS.

    `timeout_s` bounds each request, connecting included: past it, once the request may have
    been written, the outcome is unknown. `connect_timeout_s` bounds reaching a mirror (TCP
    and TLS): past it nothing was sent and the next mirror is tried. `keepalive_s` stays
    below the 5 s idle timeout common in front of PHP hosts, so the client drops an idle
    connection before the server does: a request written onto a connection the server is
    closing would have an unknown outcome. A mirror's breaker opens after `breaker_failures`
    failed attempts in a row and skips it for `mirror_cooldown_s` (mirrors.py, Rule 2).
    """

    api: Api = Api.HTTP
    endpoints: tuple[str, ...] = default_endpoints(Api.HTTP)
    method: HttpMethod = HttpMethod.POST
    http_client: HttpClientKind = HttpClientKind.HTTP11
    timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    pool_size: int = 100
    keepalive_s: float = 4.0
    max_destinations_per_request: int = DEFAULT_MAX_DESTINATIONS
    mirror_cooldown_s: float = 30.0
    breaker_failures: int = DEFAULT_BREAKER_FAILURES
