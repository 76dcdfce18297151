"""`isms-bridge healthcheck --config PATH`: ask the running bridge's /healthz; exit 0 or 1.

For a container HEALTHCHECK, a Kubernetes exec probe or a systemd timer. It reads only the
config's `[metrics]` section (validated as `serve` validates it, defaults when absent; no
secret is resolved, so the probe needs none of the bridge's environment), asks GET /healthz
(or /readyz with `--ready`) at that host and port, and prints one line:

    healthy: http://127.0.0.1:9102/healthz answered 200 ok
    unhealthy: http://127.0.0.1:9102/healthz: connection refused

Exit 0 only when the endpoint answered 200, else 1: Docker's HEALTHCHECK reserves every other
status ("2: reserved, do not use"), so a config the probe cannot use is "unhealthy" too, and
its line says why. A wildcard `[metrics] host` (0.0.0.0, ::) is asked on the loopback address
of its family; `port = 0` (a free port picked at start) cannot be probed at all.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bridge.config import ConfigError, MetricsConfig, load_metrics_config

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
DEFAULT_TIMEOUT_S = 4.0  # under the image's HEALTHCHECK --timeout=5s
MAX_TIMEOUT_S = 300.0
MAX_BODY = 200  # of the answer shown in the line: /readyz names the failed check first


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "healthcheck",
        help="ask a running bridge's /healthz (or /readyz) at its [metrics] address",
        description="Read [metrics] from the config, GET /healthz there, print one line; "
        "exit 0 when it answered 200, else 1 (a container HEALTHCHECK or a probe).",
    )
    parser.add_argument("--config", required=True, type=Path, help="the TOML config file")
    parser.add_argument(
        "--ready",
        action="store_true",
        help="ask /readyz (can it take traffic?) instead of /healthz (is it alive?)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for the answer (default: {DEFAULT_TIMEOUT_S:g})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return probe(args.config, ready=args.ready, timeout_s=args.timeout, out=sys.stdout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeTarget:
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"


def probe(path: Path, *, ready: bool, timeout_s: float, out: TextIO) -> int:
    """Print the one line and return the exit status."""
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        out.write(f"unhealthy: --timeout must be above 0 and at most {MAX_TIMEOUT_S:g} s\n")
        return EXIT_UNHEALTHY
    try:
        metrics = load_metrics_config(path)
    except ConfigError as exc:
        out.write(f"unhealthy: cannot read [metrics]: {exc}\n")
        return EXIT_UNHEALTHY
    if metrics.port == 0:
        out.write(
            f"unhealthy: {path}: metrics.port is 0 (the bridge picks a free port at start), "
            "so no probe can know where to ask; set a fixed port\n"
        )
        return EXIT_UNHEALTHY
    target = ProbeTarget(
        host=probe_host(metrics), port=metrics.port, path="/readyz" if ready else "/healthz"
    )
    try:
        status, body = ask(target, timeout_s)
    except TimeoutError:
        out.write(f"unhealthy: {target.url}: no answer within {timeout_s:g} s\n")
        return EXIT_UNHEALTHY
    except (OSError, http.client.HTTPException) as exc:
        out.write(f"unhealthy: {target.url}: {describe(exc)}\n")
        return EXIT_UNHEALTHY
    shown = " ".join(body.split())
    if status != 200:
        out.write(f"unhealthy: {target.url} answered {status} {shown}\n")
        return EXIT_UNHEALTHY
    out.write(f"healthy: {target.url} answered {status} {shown}\n")
    return EXIT_HEALTHY


def probe_host(metrics: MetricsConfig) -> str:
    """Where to ask: a wildcard address listens on loopback too, so ask loopback there."""
    try:
        address = ipaddress.ip_address(metrics.host)
    except ValueError:
        return metrics.host  # a host name: resolved as the listener resolved it
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return metrics.host


def ask(target: ProbeTarget, timeout_s: float) -> tuple[int, str]:
    """GET the path; http.client, not urllib, so an http_proxy in the environment is ignored."""
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout_s)
    try:
        connection.request("GET", target.path, headers={"User-Agent": "isms-bridge-healthcheck"})
        response = connection.getresponse()
        body = response.read(MAX_BODY).decode("utf-8", errors="replace")
        return response.status, body
    finally:
        connection.close()


def describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the bridge running, and is this its config?)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
