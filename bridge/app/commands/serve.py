"""`isms-bridge serve --config PATH`: run the bridge until SIGTERM / SIGINT.

Signals: the first SIGTERM or SIGINT stops gracefully (stop accepting, answer what was
received, unbind every session, wait at most `smpp.shutdown_timeout_s`) and exits 0; a
second one stops at once and exits 1. SIGHUP re-reads the config file's accounts: binds of
kept accounts stay up, sessions of removed accounts are unbound; a file that no longer
loads is reported and the running accounts are kept.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from bridge.app.commands.arguments import add_config, add_log_level, shown
from bridge.app.hosts import ConfiguredHost, listen_hosts, listen_problem
from bridge.app.logs import configure_logging, logfmt
from bridge.app.root import Bridge
from bridge.app.state import instance_name
from bridge.config import BridgeConfig, ConfigError, load_config
from bridge.state import StateError, StateFileError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FORCED = 1  # a second signal cut the graceful stop short
EXIT_CONFIG = 2  # the config does not load, or its [state] store cannot be opened
EXIT_START = 3  # a listener could not be opened (address in use, bad certificate, ...)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the SMPP server",
        description="Run the bridge: the SMPP listeners, the message pipeline and the metrics "
        "endpoint, until SIGTERM or Ctrl-C (a graceful stop; a second one stops at once). "
        "SIGHUP re-reads the config's accounts.",
    )
    add_config(parser)
    add_log_level(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"isms-bridge serve: {shown(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    return run_event_loop(lambda: open_and_serve(config))


async def open_and_serve(config: BridgeConfig) -> int:
    """Build the bridge on its [state] store (exit 2 with one line when the store cannot be
    opened), then serve it."""
    try:
        bridge = await Bridge.open(config, instance=instance_name())
    except StateFileError as exc:
        print(f"isms-bridge serve: state file {exc.path}: {exc.reason}", file=sys.stderr)
        return EXIT_CONFIG
    return await serve(bridge, lambda _bridge: tune_garbage_collector())


def tune_garbage_collector() -> None:
    """Tune Python's cyclic garbage collector for a long-running server (once started).

    Nearly everything a submit allocates is freed by reference counting; what the collector
    did under load was walk the requests in flight over and over (with the default gen0
    threshold of 700, a collection every ~12 messages promoted them to older generations and
    triggered full collections). Measured with bench/e2e.py (4 sessions x window 50, query
    store full): 37 µs of CPU per message in young collections and 35 µs in full ones by
    default; with the startup objects frozen (modules, classes, config: never garbage) and a
    gen0 threshold of 50,000 net new objects, no collection ran in 60,000 messages. Cyclic
    garbage still triggers one (it is never freed, so it counts up to the threshold), so its
    memory stays bounded; such a collection pauses the loop for up to ~15 ms (measured with
    50,000 young objects plus a full query store's 200,000 not yet untracked tuples).
    """
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


def run_event_loop(main: Callable[[], Any]) -> int:
    """Run `main()` on uvloop when it is installed, else on asyncio's own loop."""
    try:
        import uvloop  # optional: not on every platform
    except ImportError:
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return int(runner.run(main()))


async def serve(bridge: Bridge, on_started: Callable[[Bridge], None] | None = None) -> int:
    """Run `bridge` until a signal, then close it; `on_started` is called once the
    listeners are open (demo).

    Its monitoring (when it has one) serves /metrics, /healthz and /readyz on [metrics] once
    the SMPP listeners are open.
    """
    config = bridge.config
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    forced = False
    listening = False
    reload_pending = False

    def on_stop(signum: int) -> None:
        nonlocal forced
        name = signal.Signals(signum).name
        if not stop.is_set():
            # The stop can take shutdown_timeout_s: say what it waits for and how to cut it.
            log.info("event=signal signal=%s action=graceful_stop %s", name, waiting_for(bridge))
            stop.set()
        else:
            log.warning("event=signal signal=%s action=stop_now", name)
            forced = True
            bridge.abort()

    def on_reload() -> None:
        nonlocal reload_pending
        if not listening:
            # The file was read for this start; a SIGHUP during it is acted on once open.
            reload_pending = True
            return
        try:
            result = bridge.reload()
        except ConfigError as exc:
            log.error("event=reload_failed error=%s action=kept_running_accounts", logfmt(str(exc)))
            return
        log.info(
            "event=reloaded accounts=%d added=%s removed=%s sessions_unbound=%d",
            len(result.added) + len(result.kept),
            ",".join(result.added) or "-",
            ",".join(result.removed) or "-",
            result.sessions_unbound,
        )
        if result.needs_restart:
            log.warning(
                'event=reload_partial changed=%s action=restart_to_apply note="SIGHUP re-reads '
                '[[accounts]] only"',
                ",".join(result.needs_restart),
            )

    # Before the listeners open: once an ESME can bind, SIGTERM must stop gracefully and
    # SIGHUP reload, never take their default action (end the process on the spot).
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_stop, signum)
    loop.add_signal_handler(signal.SIGHUP, on_reload)
    try:
        try:
            try:
                await bridge.start()
            except (OSError, ValueError, StateError) as exc:
                smpp = [h for h in listen_hosts(config) if h.key != "metrics.host"]
                blamed = await _blame(smpp, exc)
                log.error("event=start_failed config=%s %s", logfmt(config.path), blamed)
                return EXIT_START
            if bridge.monitoring is not None:
                try:
                    await bridge.monitoring.start()
                except OSError as exc:
                    metrics = [h for h in listen_hosts(config) if h.key == "metrics.host"]
                    blamed = await _blame(metrics, exc)
                    log.error(
                        "event=start_failed config=%s listener=metrics %s",
                        logfmt(config.path),
                        blamed,
                    )
                    await bridge.shutdown(0.0)
                    return EXIT_START
            listening = True
            log.info(
                "event=started config=%s accounts=%d", logfmt(config.path), len(config.accounts)
            )
            if reload_pending:
                on_reload()
            if on_started is not None:
                on_started(bridge)
            await stop.wait()  # at once if a SIGTERM came while it started
            # /readyz answers 503 ("listening: FAIL stopping") during the graceful stop.
            await bridge.shutdown()
        finally:
            await bridge.aclose()  # the metrics endpoint, then the state store
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    return EXIT_FORCED if forced else EXIT_OK


@runtime_checkable
class _CountsRequests(Protocol):
    """A bound session that says how many of its requests are still being answered (the
    server's connections do)."""

    @property
    def requests_in_flight(self) -> int: ...


def waiting_for(bridge: Bridge) -> str:
    """What a graceful stop waits for, as log fields and a sentence for whoever pressed Ctrl-C."""
    registry = bridge.smpp.registry
    sessions = [s for system_id in registry.system_ids() for s in registry.sessions(system_id)]
    in_flight = sum(s.requests_in_flight for s in sessions if isinstance(s, _CountsRequests))
    timeout_s = bridge.config.smpp.shutdown_timeout_s
    note = (
        f"waiting at most {timeout_s:g} s for {_count(len(sessions), 'bound session')} to "
        f"unbind and {_count(in_flight, 'request')} in flight to be answered; a second Ctrl-C "
        "(or SIGTERM) stops at once"
    )
    return (
        f"sessions_bound={len(sessions)} requests_in_flight={in_flight} "
        f"timeout_s={timeout_s:g} note={logfmt(note)}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


async def _blame(hosts: list[ConfiguredHost], error: BaseException) -> str:
    """`key=... error=...` naming the configured address that cannot be listened on, found by
    trying each again (the failed listeners are closed by now); the error alone when none is."""
    for host in hosts:
        problem = await asyncio.to_thread(listen_problem, host)
        if problem:
            where = host.setting if host.port == 0 else f"{host.setting} (port {host.port})"
            return f"key={host.key} error={logfmt(f'{where}: cannot listen: {problem}')}"
    return f"error={logfmt(str(error))}"
