"""What the asyncio shell needs to know, as one validated value (built by `bridge.config`/`app`).

The session's own rules (window, timers, PDU size) travel in `bridge.smpp.SessionConfig`;
this adds only what belongs to sockets: where to listen, TLS, and the shell's own delays.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from bridge.smpp import SessionConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsSettings:
    """A TLS listener on its own port (TLS 1.2 or newer; certificate chain and key in PEM)."""

    hosts: tuple[str, ...]
    port: int
    cert_file: Path
    key_file: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxySettings:
    """Every connection (plain and TLS) starts with a PROXY protocol header, accepted only
    from `trusted` networks (the load balancers); the header's address is the ESME's."""

    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def __post_init__(self) -> None:
        if not self.trusted:
            raise ValueError("the PROXY protocol needs at least one trusted network")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """The listener and connection settings.

    `hosts`: every address to listen on; `("0.0.0.0", "::")` serves IPv4 and IPv6. Port 0
    asks the operating system for a free port (tests read it back from `SmppServer.addresses`).
    `bind_failure_delay_s`: a refused bind's answer is sent at once, the close follows this
    much later, so the ESME reads the status before the connection goes (SMPP 3.4 §4.1; a
    close in the same instant makes some clients report a network error instead).
    `shutdown_timeout_s`: the bound on a graceful stop (finishing in-flight submits, then
    waiting for unbind_resp); whatever is still open then is aborted.
    `max_connections`: connections over this are closed as soon as they are accepted, so no
    peer can exhaust the process's file descriptors.
    `log_bodies`: debug only; puts short_message / message_payload into log lines.
    `proxy`: behind a load balancer, the PROXY protocol (None: a header is a bad PDU).
    """

    hosts: tuple[str, ...]
    port: int
    session: SessionConfig
    tls: TlsSettings | None = None
    bind_failure_delay_s: float = 1.0
    shutdown_timeout_s: float = 30.0
    max_connections: int = 16_384
    backlog: int = 1024
    log_bodies: bool = False
    proxy: ProxySettings | None = None

    def __post_init__(self) -> None:
        if not self.hosts:
            raise ValueError("at least one listen host is required")
        if self.tls is not None and not self.tls.hosts:
            raise ValueError("the TLS listener needs at least one host")
        for name in ("bind_failure_delay_s", "shutdown_timeout_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_connections < 1 or self.backlog < 1:
            raise ValueError("max_connections and backlog must be at least 1")
