"""The host names and addresses a config gives, each named by its key: do they resolve, and
which one could not be listened on.

`check-config` resolves every listen address and iSMS mirror (a name that does not resolve
fails there, not at the first start or the first message), and `serve`, when a listener
does not open, finds the address to blame so its error names the key, not only the errno:

    [smpp] host = 'bridge.invalid': cannot listen: Name or service not known
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from bridge.config import BridgeConfig

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfiguredHost:
    """One host of the config: `key` as errors name it (`smpp.host`, `isms.endpoints[1]`)."""

    key: str
    host: str
    port: int

    @property
    def setting(self) -> str:
        """The line of the file that set it: `[smpp] host = '::1'`."""
        section, _, name = self.key.rpartition(".")
        return f"[{section}] {name} = {self.host!r}"


def listen_hosts(config: BridgeConfig) -> list[ConfiguredHost]:
    """Every address the bridge listens on, in the order `serve` opens them."""
    smpp = config.smpp
    hosts = [ConfiguredHost(key="smpp.host", host=host, port=smpp.port) for host in smpp.hosts]
    if smpp.tls is not None:
        hosts += [
            ConfiguredHost(key="smpp.tls.host", host=host, port=smpp.tls.port)
            for host in smpp.tls.hosts
        ]
    if config.admin is not None:
        hosts.append(
            ConfiguredHost(key="admin.host", host=config.admin.host, port=config.admin.port)
        )
    metrics = config.metrics
    hosts.append(ConfiguredHost(key="metrics.host", host=metrics.host, port=metrics.port))
    return hosts


def endpoint_hosts(config: BridgeConfig) -> list[ConfiguredHost]:
    """The host of every iSMS mirror (the URLs were checked when the config loaded)."""
    found = []
    for i, url in enumerate(config.isms.endpoints):
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
        found.append(
            ConfiguredHost(key=f"isms.endpoints[{i}]", host=parts.hostname or "", port=port)
        )
    return found


def resolve_problem(host: ConfiguredHost, *, listen: bool) -> str:
    """Why `host` does not resolve ("" when it does), as the system resolver says it.

    `listen`: resolved as a listener resolves it (AI_PASSIVE), else as a client does.
    """
    try:
        socket.getaddrinfo(
            host.host,
            host.port,
            type=socket.SOCK_STREAM,
            flags=socket.AI_PASSIVE if listen else 0,
        )
    except (OSError, UnicodeError) as exc:
        return _reason(exc)
    return ""


def listen_problem(host: ConfiguredHost) -> str:
    """Why `host` cannot be listened on now ("" when every address it names binds).

    What `serve` asks after a listener failed to open, to name the key to blame. Bound as
    asyncio's server binds (SO_REUSEADDR, IPv6 sockets IPv6 only), then closed at once.
    """
    try:
        found = socket.getaddrinfo(
            host.host, host.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        return _reason(exc)
    for family, kind, protocol, _name, address in found:
        try:
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
        except OSError as exc:
            return _reason(exc)
    return ""


def _reason(exc: BaseException) -> str:
    """The system's words without the errno and class name ("Address already in use")."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
