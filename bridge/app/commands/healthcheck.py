"""`isms-bridge healthcheck --config PATH`: ask the running bridge's /healthz; exit 0 or 1.

For a container HEALTHCHECK, a Kubernetes exec probe or a systemd timer. It reads only the
config's `[metrics]` section (validated as `serve` validates it, defaults when absent; no
secret is resolved, so the probe needs none of the bridge's environment), asks GET /healthz
(or /readyz with `--ready`) at that host and port, and prints one line, followed by the
checks of /readyz one per line:

    healthy: http://127.0.0.1:9102/healthz answered 200 ok
    unhealthy: http://127.0.0.1:9102/healthz: connection refused
    unhealthy: http://127.0.0.1:9102/readyz answered 503
      listening: FAIL stopping
      config_loaded: ok /etc/isms-bridge/bridge.toml

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

from bridge.app.commands.arguments import add_config, shown
from bridge.config import ConfigError, MetricsConfig, load_metrics_config

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
DEFAULT_TIMEOUT_S = 4.0  # under the image's HEALTHCHECK --timeout=5s
MAX_TIMEOUT_S = 300.0
# Of the answer shown: /readyz's few checks fit, and Docker keeps 4 KiB of a probe's output.
MAX_BODY = 2000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "healthcheck",
        help="ask a running bridge's /healthz (or /readyz) at its [metrics] address",
        description="Read [metrics] from the config, GET /healthz there, print one line; "
        "exit 0 when it answered 200, else 1 (a container HEALTHCHECK or a probe).",
    )
    add_config(parser, text="the TOML config file (only its [metrics] section is read)")
    parser.add_argument(
        "--ready",
        action="store_true",
        help="ask /readyz (can it take traffic?) instead of /healthz (is it alive?)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds to wait for the answer (default: %(default)g)",
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
    """Print the verdict and return the exit status."""
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        out.write(f"unhealthy: --timeout must be above 0 and at most {MAX_TIMEOUT_S:g} s\n")
        return EXIT_UNHEALTHY
    try:
        metrics = load_metrics_config(path)
    except ConfigError as exc:
        out.write(f"unhealthy: cannot read [metrics]: {shown(exc)}\n")
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
    verdict, code = ("healthy", EXIT_HEALTHY) if status == 200 else ("unhealthy", EXIT_UNHEALTHY)
    out.write(f"{verdict}: {target.url} answered {status}{answer_text(body)}\n")
    return code


def answer_text(body: str) -> str:
    """A one-line answer after the status (`ok`); /readyz's checks each on a line of their own
    under it, so a failed one is read at a glance rather than inside one long line."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if len(lines) <= 1:
        return "".join(f" {line}" for line in lines)
    return "".join(f"\n  {line}" for line in lines)


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
