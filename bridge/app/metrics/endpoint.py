"""The `[metrics]` HTTP endpoint: GET /metrics, /healthz and /readyz on one port (aiohttp).

- `/metrics`: the bridge's registry in the Prometheus text format.
- `/healthz`: 200 while the process runs its event loop (a container HEALTHCHECK / liveness
  probe: if this does not answer, restart the process).
- `/readyz`: 200 when the bridge can take traffic, else 503; the body has one line per
  check, `name: ok detail` or `name: FAIL detail` (FAIL in capitals, to stand out).
  Checks: the SMPP listeners are open, a config is loaded, and at least one iSMS mirror is
  not open (a mirror whose cool-down is over counts as available: the next message probes
  it, so an idle bridge never stays unready for good); and the state store commits (while
  it cannot, submits are answered ESME_RSYSERR); and, with a shared Redis, it has not lost
  everything it held in the last five minutes (`state_intact`: a restart without
  persistence).

Access logs are off: a scrape every few seconds would drown the session log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bridge.server import ServerState
from bridge.upstream import BreakerState, Mirror

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadinessCheck:
    name: str
    passed: bool
    detail: str = ""


ReadinessProbe = Callable[[], Sequence[ReadinessCheck]]


class ListeningServer(Protocol):
    """What readiness reads of the SMPP server (`SmppServer` is one)."""

    @property
    def state(self) -> ServerState: ...

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]: ...


def mirror_available(mirror: Mirror, now: float) -> bool:
    """Closed or half-open, or open with its cool-down over: the next message probes it."""
    return mirror.state is not BreakerState.OPEN or mirror.reopen_at <= now


def bridge_readiness(
    server: ListeningServer,
    *,
    config_path: Callable[[], Path | None],
    mirrors: Callable[[], Iterable[Mirror]],
    clock: Callable[[], float] = time.monotonic,
    store_writable: Callable[[], bool | None] = lambda: None,
    store_intact: Callable[[], bool | None] = lambda: None,
    draining: Callable[[], bool] = lambda: False,
) -> ReadinessProbe:
    """The checks of /readyz: listening, config_loaded, isms_mirror_available.

    `clock` must be the IsmsClient's (it times cool-downs)."""

    def probe() -> Sequence[ReadinessCheck]:
        addresses = server.addresses
        listening = server.state is ServerState.SERVING and bool(addresses)
        path = config_path()
        now = clock()
        known = tuple(mirrors())
        # A mirror an operator took out is no mirror to send to.
        available = [m for m in known if m.in_service and mirror_available(m, now)]
        writable = store_writable()
        state: tuple[ReadinessCheck, ...] = (
            ()
            if writable is None
            else (
                ReadinessCheck(
                    name="state_writable",
                    passed=writable,
                    detail="commits" if writable else "cannot commit: submits get ESME_RSYSERR",
                ),
            )
        )
        intact = store_intact()
        if intact is not None:
            state += (
                ReadinessCheck(
                    name="state_intact",
                    passed=intact,
                    detail="no data lost"
                    if intact
                    else "the shared state lost everything it held minutes ago "
                    "(event=state_lost in the log)",
                ),
            )
        return (
            ReadinessCheck(
                name="listening",
                passed=listening,
                detail=" ".join(f"{host}:{port}" for host, port in addresses) or server.state.value,
            ),
            ReadinessCheck(
                name="config_loaded",
                passed=path is not None,
                detail=str(path) if path is not None else "no config",
            ),
            ReadinessCheck(
                name="isms_mirror_available",
                passed=bool(available),
                detail=f"{len(available)}/{len(known)} mirrors not open",
            ),
            *state,
            # Only while drained, so a load balancer moves new ESMEs to the other instances.
            *(
                (
                    ReadinessCheck(
                        name="not_draining",
                        passed=False,
                        detail="an operator drained this instance (admin API)",
                    ),
                )
                if draining()
                else ()
            ),
        )

    return probe


def readiness_line(check: ReadinessCheck) -> str:
    """`isms_mirror_available: ok 1/1 mirrors not open`, `listening: FAIL stopping`."""
    return f"{check.name}: {'ok' if check.passed else 'FAIL'} {check.detail}".rstrip()


class MetricsServer:
    """Serves one registry and the two probes; `port=0` picks a free port (tests)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        host: str,
        port: int,
        readiness: ReadinessProbe,
    ) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._readiness = readiness
        self._runner: web.AppRunner | None = None

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        if self._runner is None:
            return ()
        return tuple((str(name[0]), int(name[1])) for name in self._runner.addresses)

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("this MetricsServer was already started")
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        for host, port in self.addresses:
            log.info("event=metrics_listening host=%s port=%d", host, port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self._registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        checks = self._readiness()
        ready = all(check.passed for check in checks)
        lines = "".join(readiness_line(check) + "\n" for check in checks)
        return web.Response(text=lines, status=200 if ready else 503)
