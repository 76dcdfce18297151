"""`[smpp]`, `[smpp.tls]` and `[metrics]`: where the bridge listens and how sessions behave."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import ssl
from dataclasses import dataclass
from pathlib import Path

from bridge.config.errors import ConfigError
from bridge.config.reader import TableReader

# SMPP 3.4 §4.1: system_id is a C-Octet String of at most 16 octets, so 15 characters.
MAX_SYSTEM_ID = 15
# IANA: 2775 is "smpp"; 3550 is "ssmpp" (SMPP over TLS).
SMPP_PORT = 2775
SMPP_TLS_PORT = 3550
METRICS_PORT = 9102
# A timer above a day is almost always milliseconds written where seconds were meant.
MAX_TIMER_S = 86_400.0
# Connections from one address that have not bound yet (bound sessions do not count: their
# number is the accounts' max_binds): an ESME opening its binds at once, or a few dozen hosts
# behind one NAT connecting together, stay under it; an idle-socket flood from one address
# stops here.
MAX_CONNECTIONS_PER_ADDRESS = 64
# Connections not yet bound, from every address together: the slots idle or guessing sockets
# can hold before the oldest of them is closed to make room; bound ESMEs keep the rest.
MAX_UNBOUND_CONNECTIONS = 256
MAX_CONNECTIONS_LIMIT = 1_000_000

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Addresses that listen on every interface, so they clash with any host on the same port.
_WILDCARDS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (compared against, not bound)


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsConfig:
    """A TLS listener (TLS 1.2 or newer) on its own port; PEM certificate chain and key."""

    hosts: tuple[str, ...]
    port: int = SMPP_TLS_PORT
    cert_file: Path
    key_file: Path

    @property
    def host(self) -> str:
        return self.hosts[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConfig:
    """The SMPP listener and the session rules every bind gets."""

    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int = SMPP_PORT
    tls: TlsConfig | None = None
    system_id: str = "isms-bridge"
    window: int = 100
    max_pdu_size: int = 65_536
    session_init_s: float = 30.0
    inactivity_s: float = 300.0
    enquire_link_interval_s: float = 60.0
    response_timeout_s: float = 30.0
    bind_failure_delay_s: float = 1.0
    auth_slowdown_s: float = 1.0
    auth_slowdown_max_s: float = 30.0
    auth_slowdown_halflife_s: float = 60.0
    auth_slowdown_max_addresses: int = 10_000
    shutdown_timeout_s: float = 30.0
    max_unknown_commands: int = 10
    # None: derived at start from the process's open-file limit (bridge.app.settings).
    max_connections: int | None = None
    # Counts the connections of one address not yet bound (bridge.server.limits).
    max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS
    max_unbound_connections: int = MAX_UNBOUND_CONNECTIONS
    log_bodies: bool = False
    # Behind a load balancer: every connection (plain and TLS) starts with a PROXY protocol
    # header, accepted only from `proxy_trusted`; its address is the ESME's.
    proxy_protocol: bool = False
    proxy_trusted: tuple[IpNetwork, ...] = ()
    # With a shared state store (Redis): how long a bind's max_binds lease lasts unrenewed,
    # so how long the binds of a killed instance go on counting at most.
    bind_lease_s: float = 30.0

    @property
    def host(self) -> str:
        return self.hosts[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    """The HTTP endpoint for GET /metrics, /healthz and /readyz."""

    host: str = "127.0.0.1"
    port: int = METRICS_PORT


def parse_smpp_section(reader: TableReader) -> SmppConfig:
    hosts = _hosts(reader, "host", ("127.0.0.1",))
    port = reader.port("port", SMPP_PORT)
    tls_reader = reader.table("tls")
    tls = parse_tls_section(tls_reader, hosts) if reader.has("tls") else None
    system_id = reader.string("system_id", "isms-bridge")
    check_system_id(reader, "system_id", system_id)
    slowdown = reader.number("auth_slowdown_s", 1.0, minimum=0.0, maximum=MAX_TIMER_S)
    slowdown_max = reader.number(
        "auth_slowdown_max_s", max(30.0, slowdown), minimum=0.0, maximum=MAX_TIMER_S
    )
    if slowdown_max < slowdown:
        reader.report("auth_slowdown_max_s", f"expected at least auth_slowdown_s ({slowdown:g})")
    proxy_protocol, proxy_trusted = _proxy_keys(reader)
    max_connections, per_address, unbound = _connection_caps(reader)
    config = SmppConfig(
        hosts=hosts,
        port=port,
        tls=tls,
        system_id=system_id,
        window=reader.integer("window", 100, minimum=1, maximum=10_000),
        max_pdu_size=reader.integer("max_pdu_size", 65_536, minimum=512, maximum=16 * 1024 * 1024),
        session_init_s=_timer(reader, "session_init_s", 30.0),
        inactivity_s=_optional_timer(reader, "inactivity_s", 300.0),
        enquire_link_interval_s=_optional_timer(reader, "enquire_link_interval_s", 60.0),
        response_timeout_s=_timer(reader, "response_timeout_s", 30.0),
        bind_failure_delay_s=reader.number("bind_failure_delay_s", 1.0, minimum=0.0, maximum=60.0),
        auth_slowdown_s=slowdown,
        auth_slowdown_max_s=slowdown_max,
        auth_slowdown_halflife_s=_timer(reader, "auth_slowdown_halflife_s", 60.0),
        auth_slowdown_max_addresses=reader.integer(
            "auth_slowdown_max_addresses", 10_000, minimum=1, maximum=10_000_000
        ),
        shutdown_timeout_s=_timer(reader, "shutdown_timeout_s", 30.0),
        max_unknown_commands=reader.integer("max_unknown_commands", 10, minimum=0, maximum=1_000),
        max_connections=max_connections,
        max_connections_per_address=per_address,
        max_unbound_connections=unbound,
        log_bodies=reader.boolean("log_bodies", False),
        proxy_protocol=proxy_protocol,
        proxy_trusted=proxy_trusted,
        bind_lease_s=reader.number("bind_lease_s", 30.0, minimum=3.0, maximum=600.0),
    )
    reader.finish()
    if tls is not None and _clash(hosts, port, tls.hosts, tls.port):
        reader.report("tls.port", f"expected a port other than smpp.port ({port})")
    return config


def _proxy_keys(reader: TableReader) -> tuple[bool, tuple[IpNetwork, ...]]:
    enabled = reader.boolean("proxy_protocol", False)
    if not reader.has("proxy_trusted"):
        reader.string_list("proxy_trusted", [])
        if enabled:
            # Anyone who can reach the port could otherwise claim any address.
            reader.report(
                "proxy_trusted",
                "is required with proxy_protocol = true: the load balancers' addresses "
                '(e.g. ["10.0.0.5/32"])',
            )
        return False, ()
    trusted = ip_networks(reader, "proxy_trusted")
    if not enabled:
        reader.report("proxy_trusted", "only means something with proxy_protocol = true")
    return True, trusted


def parse_tls_section(reader: TableReader, default_hosts: tuple[str, ...]) -> TlsConfig:
    hosts = _hosts(reader, "host", default_hosts)
    port = reader.port("port", SMPP_TLS_PORT)
    cert_file = _existing_file(reader, "cert_file")
    key_file = _existing_file(reader, "key_file")
    reader.finish()
    if not reader.failed("cert_file") and not reader.failed("key_file"):
        _check_certificate(reader, cert_file, key_file)
    return TlsConfig(hosts=hosts, port=port, cert_file=cert_file, key_file=key_file)


def parse_metrics_section(reader: TableReader) -> MetricsConfig:
    host = reader.string("host", "127.0.0.1")
    _check_host(reader, "host", host)
    config = MetricsConfig(host=host, port=reader.port("port", METRICS_PORT))
    reader.finish()
    return config


def check_listeners_apart(path: Path, smpp: SmppConfig, metrics: MetricsConfig) -> None:
    """The metrics endpoint cannot share a port with an SMPP listener on the same address."""
    listeners = [("smpp.port", smpp.hosts, smpp.port)]
    if smpp.tls is not None:
        listeners.append(("smpp.tls.port", smpp.tls.hosts, smpp.tls.port))
    for key, hosts, port in listeners:
        if _clash((metrics.host,), metrics.port, hosts, port):
            raise ConfigError(path, "metrics.port", f"expected a port other than {key} ({port})")


def check_system_id(reader: TableReader, name: str, value: str) -> None:
    if reader.failed(name):
        return
    if not value:
        reader.report(name, "expected a non-empty system_id")
    elif len(value) > MAX_SYSTEM_ID:
        reader.report(
            name,
            f"expected at most {MAX_SYSTEM_ID} characters (SMPP 3.4 §4.1: system_id is a "
            f"C-Octet String of 16 octets), got {len(value)}",
        )
    elif not value.isascii() or not value.isprintable():
        reader.report(name, "expected printable ASCII characters only")


def ip_networks(reader: TableReader, name: str) -> tuple[IpNetwork, ...]:
    """A non-empty list of addresses / CIDR networks (host bits set is a mistake, refused)."""
    # An explicit empty list reads as "nobody" to some and "anybody" to others: refuse it.
    entries = reader.string_list(name, non_empty=True)
    networks: list[IpNetwork] = []
    for i, entry in enumerate(entries):
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as exc:
            hint = ""
            with contextlib.suppress(ValueError):
                hint = f"; did you mean {ipaddress.ip_network(entry, strict=False)}?"
            reader.report(f"{name}[{i}]", f"expected an IP address or CIDR network: {exc}{hint}")
    return tuple(networks)


def _connection_caps(reader: TableReader) -> tuple[int | None, int, int]:
    """max_connections (None: derived at start), and the per-address and unbound caps, each
    at most max_connections (a default above it is lowered to it; a value is refused)."""
    total = (
        reader.integer("max_connections", minimum=1, maximum=MAX_CONNECTIONS_LIMIT)
        if reader.has("max_connections")
        else None
    )
    caps = []
    for name, default in (
        ("max_connections_per_address", MAX_CONNECTIONS_PER_ADDRESS),
        ("max_unbound_connections", MAX_UNBOUND_CONNECTIONS),
    ):
        given = reader.has(name)
        value = reader.integer(name, default, minimum=1, maximum=MAX_CONNECTIONS_LIMIT)
        if total is not None and value > total:
            if given:
                reader.report(name, f"expected at most max_connections ({total}), got {value}")
            value = total
        caps.append(value)
    return total, caps[0], caps[1]


def _timer(reader: TableReader, name: str, default: float) -> float:
    return reader.number(name, default, above=0.0, maximum=MAX_TIMER_S)


def _optional_timer(reader: TableReader, name: str, default: float) -> float:
    """A timer where 0 switches the behaviour off."""
    return reader.number(name, default, minimum=0.0, maximum=MAX_TIMER_S)


def _hosts(reader: TableReader, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """`host` as one address or a list (`["0.0.0.0", "::"]` listens on IPv4 and IPv6)."""
    hosts = tuple(reader.one_or_more_strings(name, list(default)))
    for host in hosts:
        _check_host(reader, name, host)
    if len(set(hosts)) != len(hosts):
        reader.report(name, "expected each address once, one is listed twice")
    return hosts


def _check_host(reader: TableReader, name: str, host: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if len(host) > 253 or not _HOST_NAME.fullmatch(host) or _numeric_top_label(host):
            reader.report(
                name, f"expected an IP address (IPv6 without brackets) or host name, got {host!r}"
            )


def _numeric_top_label(host: str) -> bool:
    """`127.0.0.256`: digits in the last label make an address (RFC 1123 §2.1: a top-level
    domain is alphabetic), and this one is none, so no resolver should be asked for it."""
    return host.rstrip(".").rpartition(".")[2].isdigit()


def _existing_file(reader: TableReader, name: str) -> Path:
    raw = reader.string(name)
    path = Path(raw)
    if not path.is_absolute():
        # Relative paths are relative to the config file, not to the working directory.
        path = reader.path.parent / path
    if not path.is_file() and not reader.failed(name):
        reader.report(name, f"expected an existing file, {path} is not one")
    return path


def _check_certificate(reader: TableReader, cert_file: Path, key_file: Path) -> None:
    """Load the pair the way the listener will, so a bad file fails check-config, not serve."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=str(cert_file))
    except (ssl.SSLError, OSError) as exc:
        reader.report("cert_file", f"expected a PEM certificate chain: {exc}")
        return
    try:
        # A password callback stops OpenSSL from prompting on the terminal for an encrypted key.
        context.load_cert_chain(str(cert_file), str(key_file), password=lambda: b"")
    except (ssl.SSLError, OSError) as exc:
        reader.report(
            "key_file", f"expected an unencrypted PEM private key matching cert_file: {exc}"
        )


def _clash(hosts_a: tuple[str, ...], port_a: int, hosts_b: tuple[str, ...], port_b: int) -> bool:
    if port_a != port_b or port_a == 0:
        return False
    a, b = set(hosts_a), set(hosts_b)
    return bool(a & b) or bool((a | b) & _WILDCARDS)
