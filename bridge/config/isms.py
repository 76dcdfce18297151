"""`[isms]`: how the bridge reaches iSMS and how it turns iSMS answers into SMPP statuses.

Every key is optional; the defaults are the README's ("The iSMS upstream"). Errors name the
file and the key (`[isms] endpoints[1]: ...`). `IsmsConfig` holds the keys as read;
bridge.app.settings builds the iSMS client's and the pipeline's settings from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from bridge.config.reader import TableReader
from bridge.pdu import CommandStatus
from bridge.pipeline import (
    DEFAULT_COUNTRY_CODE,
    UNKNOWN_OUTCOME_STATUSES,
    NumberRules,
)
from bridge.upstream import (
    DEFAULT_BREAKER_FAILURES,
    DEFAULT_MAX_DESTINATIONS,
    Api,
    HttpClientKind,
    HttpMethod,
    default_endpoints,
)

MAX_TEXT_LENGTH = 700  # REST reference: "INVALID BODY LENGTH (1-700)"
# response_result.php allows 900; above that iSMS refuses whatever the setting says.
_TEXT_LENGTH_CEILING = 900
DEFAULT_BALANCE_POLL_S = 300.0
_MIN_BALANCE_POLL_S = 10.0
_MAX_ENDPOINTS = 10
# iSMS error codes are -1000 and below; overrides are accepted for that whole range.
_OVERRIDABLE_CODES = range(-1099, -999)


@dataclass(frozen=True, slots=True, kw_only=True)
class IsmsConfig:
    """The `[isms]` keys: the client's (api to breaker_failures), the status mapping's, the
    number rules' and the pipeline's limits."""

    api: Api = Api.HTTP
    # The mirrors in the order they are tried.
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
    # iSMS refusal code -> the SMPP status it is answered with, over the built-in mapping.
    status_overrides: Mapping[int, CommandStatus] = field(
        default_factory=lambda: MappingProxyType({})
    )
    unknown_outcome_status: CommandStatus = CommandStatus.ESME_RSYSERR
    default_country_code: str = DEFAULT_COUNTRY_CODE
    max_text_length: int = MAX_TEXT_LENGTH
    balance_poll_interval_s: float = DEFAULT_BALANCE_POLL_S  # 0 = off
    # Most requests in flight per iSMS account; past it, urgent submits wait first.
    max_in_flight_per_account: int = 100


def parse_isms_section(reader: TableReader) -> IsmsConfig:
    api = Api(reader.choice("api", ("http", "rest"), "http"))
    endpoints = _endpoints(reader, api)
    method = HttpMethod(reader.choice("method", ("POST", "GET"), "POST"))
    if api is Api.REST and method is HttpMethod.GET:
        reader.report("method", 'expected "POST" with api = "rest" (RESTAPI.php takes a JSON body)')
    http_client = HttpClientKind(
        reader.choice("http_client", ("aiohttp", "httpx", "http11"), "http11")
    )
    timeout_s = reader.number("timeout_s", 10.0, minimum=0.1, maximum=300.0)
    connect_timeout_s = reader.number("connect_timeout_s", 5.0, minimum=0.1, maximum=60.0)
    pool_size = reader.integer("pool_size", 100, minimum=1, maximum=10_000)
    keepalive_s = reader.number("keepalive_s", 4.0, minimum=0.0, maximum=300.0)
    max_destinations = reader.integer(
        "max_destinations_per_request", DEFAULT_MAX_DESTINATIONS, minimum=1, maximum=100
    )
    mirror_cooldown_s = reader.number("mirror_cooldown_s", 30.0, minimum=0.0, maximum=3600.0)
    breaker_failures = reader.integer(
        "breaker_failures", DEFAULT_BREAKER_FAILURES, minimum=1, maximum=1000
    )
    overrides = _status_overrides(reader.table("status_overrides"))
    names = tuple(status.name for status in UNKNOWN_OUTCOME_STATUSES)
    unknown_outcome_status = CommandStatus[
        reader.choice("unknown_outcome_status", names, "ESME_RSYSERR")
    ]
    config = IsmsConfig(
        api=api,
        endpoints=endpoints,
        method=method,
        http_client=http_client,
        timeout_s=timeout_s,
        connect_timeout_s=connect_timeout_s,
        pool_size=pool_size,
        keepalive_s=keepalive_s,
        max_destinations_per_request=max_destinations,
        mirror_cooldown_s=mirror_cooldown_s,
        breaker_failures=breaker_failures,
        status_overrides=MappingProxyType(overrides),
        unknown_outcome_status=unknown_outcome_status,
        default_country_code=_country_code(reader),
        max_text_length=reader.integer(
            "max_text_length", MAX_TEXT_LENGTH, minimum=1, maximum=_TEXT_LENGTH_CEILING
        ),
        balance_poll_interval_s=_balance_poll(reader, endpoints),
        max_in_flight_per_account=reader.integer(
            "max_in_flight_per_account", pool_size, minimum=1, maximum=10_000
        ),
    )
    reader.finish()
    return config


def _endpoints(reader: TableReader, api: Api) -> tuple[str, ...]:
    urls = reader.string_list("endpoints", list(default_endpoints(api)), non_empty=True)
    if len(urls) > _MAX_ENDPOINTS:
        reader.report("endpoints", f"expected at most {_MAX_ENDPOINTS} mirrors")
    good: list[str] = []
    for i, url in enumerate(urls):
        problem = _endpoint_problem(url)
        if problem:
            reader.report(f"endpoints[{i}]", f"{problem}, got {url!r}")
        elif url in urls[:i]:
            reader.report(f"endpoints[{i}]", f"expected each mirror once, {url!r} repeats")
        else:
            good.append(url)
    # Only URLs that parse go on to the checks built on them (the balance poll's default).
    return tuple(good) if good else default_endpoints(api)


def _endpoint_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "expected a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http:// or https:// URL with a host"
    if parts.username or parts.password:
        return "expected no user:password in the URL (set isms_password on the account)"
    if parts.query or parts.fragment:
        return "expected no query string (the bridge adds the parameters)"
    if not parts.path.endswith(".php"):
        return "expected the script's full URL (…/isms_send_all_id.php or …/RESTAPI.php)"
    return ""


def _status_overrides(reader: TableReader) -> dict[int, CommandStatus]:
    if reader.has("2000"):
        reader.report("2000", "expected no override: success always answers ESME_ROK")
    overrides: dict[int, CommandStatus] = {}
    for code in _OVERRIDABLE_CODES:
        name = reader.optional_string(str(code))
        if name is None:
            continue
        status = CommandStatus.__members__.get(name)
        if status is None:
            reader.report(
                str(code), f"expected an SMPP status name such as ESME_RSUBMITFAIL, got {name!r}"
            )
        elif status is CommandStatus.ESME_ROK:
            reader.report(
                str(code), "expected a failure status: iSMS refused, so ESME_ROK would be a lie"
            )
        else:
            overrides[code] = status
    # Any other key is refused here as unknown: the codes are "-1000" to "-1099", quoted.
    reader.finish()
    return overrides


def _country_code(reader: TableReader) -> str:
    code = reader.string("default_country_code", DEFAULT_COUNTRY_CODE)
    try:
        NumberRules(default_country_code=code)  # the pipeline's own rule, so both agree
    except ValueError:
        reader.report(
            "default_country_code",
            f'expected 1 to 3 digits not starting with 0 (Malaysia is "60"), got {code!r}',
        )
        return DEFAULT_COUNTRY_CODE
    return code


def _balance_poll(reader: TableReader, endpoints: tuple[str, ...]) -> float:
    # Off by default against a sandbox on loopback: nothing to learn there.
    default = 0.0 if all(_is_loopback(url) for url in endpoints) else DEFAULT_BALANCE_POLL_S
    interval = reader.number("balance_poll_interval_s", default, minimum=0.0, maximum=86_400.0)
    if 0 < interval < _MIN_BALANCE_POLL_S:
        reader.report(
            "balance_poll_interval_s",
            f"expected 0 (off) or at least {_MIN_BALANCE_POLL_S:g} seconds, got {interval:g}",
        )
    return interval


def is_loopback_host(host: str) -> bool:
    """True for "localhost" and loopback addresses (127.0.0.0/8, ::1): this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")
