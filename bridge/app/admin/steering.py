"""`Steering`: what an operator has decided for this instance and the cluster, and acting on it.

Every instance runs one, with or without an `[admin]` listener, because the decisions live
in the state store (records.py) and any instance's admin API may make them:

- Suspensions and mirrors taken out are records; each instance reads them on its sweep
  (every `SWEEP_S`) into what the bind and submit gates (gate.py) consult without I/O. The
  instance that made the decision applies it at once; the others within a sweep. A bind
  that slipped in on another instance meanwhile is unbound by that instance's next sweep.
- Each sweep writes this instance's snapshot (its binds, whether it drains, what is in
  flight) with an expiry of a few sweeps: the listing of binds across the cluster, and the
  list of live instances, are these snapshots.
- An action on something another instance holds (unbind one of its sessions) is a command
  record addressed to it; its sweep takes it (exactly one taker) and writes the result,
  which the caller waits for a few seconds.
- Numbers opted out through the API are records too, with a generation counter that every
  change moves: a sweep reads the counter, and the list only when the counter moved; the
  list goes to the pipeline's number lists (`on_opt_outs`), beside the opt-out files.
On one process (memory, SQLite) the same code runs through the same store: the records and
snapshots are only this instance's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict

from bridge import __version__
from bridge.app.admin.records import (
    COMMAND_KIND,
    FOREVER_S,
    INSTANCE_KIND,
    MAX_OPT_OUTS,
    MAX_RECORDS,
    MIRROR_OUT_KIND,
    OPT_OUT_GENERATION,
    OPT_OUT_KIND,
    RESULT_KIND,
    SUSPENDED_KIND,
    JsonObject,
    SuspendMode,
    Suspension,
    decode,
    decode_suspension,
    encode,
    opt_out_key,
    opt_out_of,
)
from bridge.app.logs import LEVELS
from bridge.server import ServerState, SessionRegistry, SmppServer
from bridge.state import StateError, StateStore
from bridge.upstream import IsmsClient

log = logging.getLogger(__name__)

SWEEP_S = 1.0
# A snapshot outlives a few missed sweeps; an instance silent longer is gone from listings.
SNAPSHOT_TTL_S = 5.0
COMMAND_TTL_S = 30.0
RESULT_TTL_S = 60.0
ACTIONS = ("unbind_session", "unbind_account", "log_level", "drain", "undrain")
# The generation counter's bound: never reached (one change a microsecond for 140 years).
_GENERATIONS = 2**52
OptOuts = Mapping[str, frozenset[str]]  # scope ("*" or a system_id) -> numbers


class Steering:
    """The control plane's state and actions in one process (module docstring)."""

    def __init__(
        self,
        store: StateStore,
        registry: SessionRegistry,
        client: IsmsClient,
        *,
        instance: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.instance = instance
        self.started_at = clock()
        self._store = store
        self._registry = registry
        self._client = client
        self._clock = clock
        self._suspensions: dict[str, Suspension] = {}
        self._throttled: frozenset[str] = frozenset()
        self._draining = False
        self._drain_task: asyncio.Task[None] | None = None
        self._server: SmppServer | None = None
        self._receipts_in_flight: Callable[[], int] = lambda: 0
        self._shutdown_timeout_s = 30.0
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._opt_outs: dict[str, frozenset[str]] = {}
        self._opt_out_generation: int | None = None
        self._opt_outs_changed: Callable[[OptOuts], None] = lambda _opt_outs: None

    def attach(
        self,
        server: SmppServer,
        *,
        receipts_in_flight: Callable[[], int],
        shutdown_timeout_s: float,
    ) -> None:
        """The SMPP server it drains and lists the sessions of (made after the gates)."""
        self._server = server
        self._receipts_in_flight = receipts_in_flight
        self._shutdown_timeout_s = shutdown_timeout_s

    # --- what the gates ask, per bind and per submit (no I/O) ------------------------------

    def bind_refusal(self, system_id: str) -> str | None:
        """Why a bind of `system_id` is refused now, or None."""
        if self._draining:
            return "instance draining"
        suspension = self._suspensions.get(system_id)
        if suspension is not None and suspension.mode is SuspendMode.REFUSE_BINDS:
            return "account suspended"
        return None

    def throttles(self, system_id: str) -> bool:
        """Submits of `system_id` are refused ESME_RTHROTTLED (the softer suspension)."""
        return system_id in self._throttled

    @property
    def draining(self) -> bool:
        return self._draining

    @property
    def suspensions(self) -> dict[str, Suspension]:
        return dict(self._suspensions)

    @property
    def opt_outs(self) -> OptOuts:
        """The numbers opted out through the API, by scope ("*": every account)."""
        return dict(self._opt_outs)

    def on_opt_outs(self, changed: Callable[[OptOuts], None]) -> None:
        """`changed` gets the whole list each time it changes (here or on another instance)."""
        self._opt_outs_changed = changed

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.sweep()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sweeping())

    async def aclose(self) -> None:
        for task in (self._task, self._drain_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = None
        # Gone from the listings at once; if the store fails, within SNAPSHOT_TTL_S.
        with contextlib.suppress(StateError):
            await self._store.delete_record(INSTANCE_KIND, self.instance)

    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("event=admin_sweep_failed")

    async def sweep(self) -> None:
        """Adopt the cluster's decisions, enforce them here, publish this instance's
        snapshot and run the commands addressed to it."""
        now = self._clock()
        try:
            suspended = await self._store.scan_records(SUSPENDED_KIND, now=now)
            mirrors_out = await self._store.scan_records(MIRROR_OUT_KIND, now=now)
            await self._publish(now)
            commands = await self._store.scan_records(COMMAND_KIND, now=now)
            await self._read_opt_outs(now)
        except StateError as exc:
            if not self._failing:
                self._failing = True
                log.warning(
                    "event=admin_sweep_failed error=%r note='decisions kept as known'", str(exc)
                )
            return
        self._failing = False
        found = {}
        for record in suspended:
            suspension = decode_suspension(record.key, record.value)
            if suspension is not None:
                found[record.key] = suspension
        self._adopt(found)
        out = {record.key for record in mirrors_out}
        for index, mirror in enumerate(self._client.mirrors):
            wanted = str(index) not in out
            if mirror.in_service is not wanted:
                try:
                    self._client.set_mirror_in_service(index, wanted)
                except ValueError as exc:
                    log.warning(
                        "event=mirror_in_service_refused mirror=%s error=%r", index, str(exc)
                    )
        prefix = f"{self.instance}/"
        for record in commands:
            if record.key.startswith(prefix):
                await self._take_command(record.key)

    def _adopt(self, suspensions: dict[str, Suspension]) -> None:
        self._suspensions = suspensions
        self._throttled = frozenset(
            system_id
            for system_id, suspension in suspensions.items()
            if suspension.mode is SuspendMode.THROTTLE_SUBMITS
        )
        # Every sweep: a bind that slipped in before this instance knew is unbound too.
        for system_id, suspension in suspensions.items():
            if suspension.mode is SuspendMode.REFUSE_BINDS:
                self.unbind_local(system_id=system_id)

    # --- numbers opted out through the API ---------------------------------------------------

    async def _read_opt_outs(self, now: float) -> None:
        generation = await self._store.counter_value(OPT_OUT_GENERATION, now=now)
        if generation == self._opt_out_generation:
            return
        found: dict[str, set[str]] = {}
        for record in await self._store.scan_records(OPT_OUT_KIND, now=now):
            entry = opt_out_of(record.key)
            if entry is not None:
                found.setdefault(entry[0], set()).add(entry[1])
        self._opt_out_generation = generation
        self._adopt_opt_outs({scope: frozenset(numbers) for scope, numbers in found.items()})

    def _adopt_opt_outs(self, opt_outs: dict[str, frozenset[str]]) -> None:
        if opt_outs != self._opt_outs:
            self._opt_outs = opt_outs
            self._opt_outs_changed(dict(opt_outs))

    async def opt_out(self, scope: str, number: str, reason: str, by: str) -> bool:
        """Opt `number` out for `scope` on every instance (this one at once), kept until
        removed; False when it already was."""
        now = self._clock()
        put = await self._store.put_record(
            OPT_OUT_KIND,
            opt_out_key(scope, number),
            encode({"reason": reason, "by": by, "at": now}),
            now=now,
            expires_at=now + FOREVER_S,
            max_records=MAX_OPT_OUTS,
        )
        await self._changed_opt_outs(now)
        log.warning("event=opt_out_added scope=%s number=%s by=%s", scope, number, by)
        self._adopt_opt_outs(
            {**self._opt_outs, scope: self._opt_outs.get(scope, frozenset()) | {number}}
        )
        return put.replaced is None

    async def opt_in(self, scope: str, number: str, by: str) -> bool:
        """Take `number` off the API's list for `scope`; False when it was not on it."""
        existed = await self._store.delete_record(OPT_OUT_KIND, opt_out_key(scope, number))
        await self._changed_opt_outs(self._clock())
        if existed:
            log.warning("event=opt_out_removed scope=%s number=%s by=%s", scope, number, by)
        left = self._opt_outs.get(scope, frozenset()) - {number}
        others = {key: value for key, value in self._opt_outs.items() if key != scope}
        self._adopt_opt_outs({**others, scope: left} if left else others)
        return existed

    async def opt_out_entries(self) -> list[JsonObject]:
        """Every number opted out through the API: scope, number, reason, by, at."""
        entries: list[JsonObject] = []
        for record in await self._store.scan_records(OPT_OUT_KIND, now=self._clock()):
            entry = opt_out_of(record.key)
            if entry is not None:
                entries.append({"scope": entry[0], "number": entry[1], **decode(record.value)})
        return sorted(entries, key=lambda e: (str(e["scope"]), str(e["number"])))

    async def _changed_opt_outs(self, now: float) -> None:
        """Move the generation, so that every sweep reads the list again."""
        await self._store.reserve(
            OPT_OUT_GENERATION, 1, limit=_GENERATIONS, now=now, expires_at=now + FOREVER_S
        )

    # --- snapshots: binds and instances across the cluster ----------------------------------

    def snapshot(self) -> JsonObject:
        server = self._server
        sessions = () if server is None else server.sessions()
        return {
            "instance": self.instance,
            "version": __version__,
            "started_at": self.started_at,
            "at": self._clock(),
            "draining": self._draining,
            "serving": server is not None and server.state is ServerState.SERVING,
            "requests_in_flight": 0 if server is None else server.requests_in_flight,
            "receipts_in_flight": self._receipts_in_flight(),
            "binds": [{"instance": self.instance, **asdict(s)} for s in sessions],
        }

    async def _publish(self, now: float) -> None:
        await self._store.put_record(
            INSTANCE_KIND,
            self.instance,
            encode(self.snapshot()),
            now=now,
            expires_at=now + SNAPSHOT_TTL_S,
            max_records=MAX_RECORDS,
        )

    async def instances(self) -> list[JsonObject]:
        """The snapshot of every live instance, this one's fresh, sorted by name."""
        found = {self.instance: self.snapshot()}
        for record in await self._store.scan_records(INSTANCE_KIND, now=self._clock()):
            if record.key != self.instance:
                found[record.key] = decode(record.value)
        return [found[name] for name in sorted(found)]

    # --- suspensions and mirrors -------------------------------------------------------------

    async def suspend(self, system_id: str, mode: SuspendMode, reason: str, by: str) -> int:
        """Persist the suspension, apply it here at once; how many sessions here were unbound."""
        now = self._clock()
        suspension = Suspension(system_id=system_id, mode=mode, reason=reason, by=by, at=now)
        await self._store.put_record(
            SUSPENDED_KIND,
            system_id,
            encode(suspension.to_json()),
            now=now,
            expires_at=now + FOREVER_S,
            max_records=MAX_RECORDS,
        )
        log.warning("event=account_suspended system_id=%s mode=%s by=%s", system_id, mode.value, by)
        before = self.unbind_local(system_id=system_id) if mode is SuspendMode.REFUSE_BINDS else 0
        self._adopt({**self._suspensions, system_id: suspension})
        return before

    async def resume(self, system_id: str, by: str) -> bool:
        """Lift the suspension; False when the account was not suspended."""
        existed = await self._store.delete_record(SUSPENDED_KIND, system_id)
        self._adopt({k: v for k, v in self._suspensions.items() if k != system_id})
        if existed:
            log.warning("event=account_resumed system_id=%s by=%s", system_id, by)
        return existed

    async def set_mirror(self, index: int, in_service: bool, by: str) -> bool:
        """Take mirror `index` out or put it back, here at once and on the others at their
        next sweep. IndexError, or ValueError for the last mirror in service."""
        name = self._client.mirrors[index].name
        changed = self._client.set_mirror_in_service(index, in_service)
        now = self._clock()
        if in_service:
            await self._store.delete_record(MIRROR_OUT_KIND, str(index))
        else:
            value = encode({"mirror": name, "by": by, "at": now})
            await self._store.put_record(
                MIRROR_OUT_KIND,
                str(index),
                value,
                now=now,
                expires_at=now + FOREVER_S,
                max_records=MAX_RECORDS,
            )
        return changed

    # --- actions on this instance ----------------------------------------------------------

    def unbind_local(self, *, session_id: str | None = None, system_id: str | None = None) -> int:
        """Unbind this instance's sessions: one by id, or every one of an account."""
        doomed = [
            session
            for account in self._registry.system_ids()
            if system_id is None or account == system_id
            for session in self._registry.sessions(account)
            if session_id is None or session.context.session_id == session_id
        ]
        for session in doomed:
            session.unbind()
        return len(doomed)

    def start_drain(self, settle_s: float) -> None:
        """Refuse new binds and answer /readyz 503 now; after `settle_s` (the load balancer
        has seen it), unbind every bound session gracefully."""
        if self._draining:
            return
        self._draining = True
        log.warning("event=drain_started settle_s=%g", settle_s)
        self._drain_task = asyncio.get_running_loop().create_task(self._drain(settle_s))

    async def _drain(self, settle_s: float) -> None:
        await asyncio.sleep(settle_s)
        if self._server is not None and self._draining:
            unbound = await self._server.unbind_all(self._shutdown_timeout_s)
            log.warning("event=drain_unbound sessions=%d", unbound)

    def undrain(self) -> bool:
        if not self._draining:
            return False
        self._draining = False
        if self._drain_task is not None:
            self._drain_task.cancel()
        log.warning("event=drain_ended")
        return True

    def drain_report(self) -> JsonObject:
        return _report(self.snapshot())

    async def wait_drained(self, wait_s: float) -> JsonObject:
        """The drain report once nothing is bound or in flight here, or after `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            report = self.drain_report()
            if report["drained"] or not self._draining or time.monotonic() >= deadline:
                return report
            await asyncio.sleep(0.1)

    async def wait_drained_elsewhere(self, instance: str, wait_s: float) -> JsonObject:
        """The drain report of another instance, from its snapshots: once it is drained
        (nothing bound or in flight), or what its latest snapshot says after `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            found = [s for s in await self.instances() if s.get("instance") == instance]
            report = _report(found[0]) if found else {"instance": instance, "gone": True}
            if report.get("drained") or "gone" in report or time.monotonic() >= deadline:
                return report
            await asyncio.sleep(SWEEP_S / 2)

    def set_log_level(self, level: str, logger: str = "") -> str:
        logging.getLogger(logger or None).setLevel(LEVELS[level])
        log.warning("event=log_level_set logger=%s level=%s", logger or "root", level)
        return level

    # --- commands: actions on what another instance holds -----------------------------------

    def execute(self, action: str, args: JsonObject) -> JsonObject:
        """Run one action here (the caller's own, or a command taken from the store)."""
        match action:
            case "unbind_session":
                return {"unbound": self.unbind_local(session_id=str(args.get("session_id")))}
            case "unbind_account":
                return {"unbound": self.unbind_local(system_id=str(args.get("system_id")))}
            case "log_level":
                level = str(args.get("level"))
                if level not in LEVELS:
                    return {"error": f"unknown level {level!r}"}
                return {"level": self.set_log_level(level, str(args.get("logger") or ""))}
            case "drain":
                settle = args.get("settle_s", 5.0)
                self.start_drain(float(settle) if isinstance(settle, int | float) else 5.0)
                return self.drain_report()
            case "undrain":
                self.undrain()
                return self.drain_report()
            case _:
                return {"error": f"unknown action {action!r}"}

    async def run_on(
        self, instance: str, action: str, args: JsonObject, *, wait_s: float = 5.0
    ) -> JsonObject | None:
        """Run `action` on `instance` (here at once; elsewhere through a command record):
        its result, or None when it did not answer within `wait_s` (it may still act)."""
        if instance == self.instance:
            return self.execute(action, args)
        command_id = secrets.token_hex(8)
        now = self._clock()
        await self._store.put_record(
            COMMAND_KIND,
            f"{instance}/{command_id}",
            encode({"action": action, "args": args}),
            now=now,
            expires_at=now + COMMAND_TTL_S,
            max_records=MAX_RECORDS,
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            found = await self._store.take_record(RESULT_KIND, command_id, now=self._clock())
            if found is not None:
                return decode(found.value)
        return None

    async def run_everywhere(self, action: str, args: JsonObject) -> dict[str, JsonObject | None]:
        """Run `action` on every live instance, together; result by instance."""
        names = [str(snapshot.get("instance")) for snapshot in await self.instances()]
        results = await asyncio.gather(*(self.run_on(name, action, args) for name in names))
        return dict(zip(names, results, strict=True))

    async def _take_command(self, key: str) -> None:
        record = await self._store.take_record(COMMAND_KIND, key, now=self._clock())
        if record is None:
            return  # expired, or taken meanwhile
        command = decode(record.value)
        args = command.get("args")
        action = str(command.get("action"))
        result = self.execute(action, args if isinstance(args, dict) else {})
        log.info("event=admin_command_done action=%s result=%s", action, result)
        now = self._clock()
        await self._store.put_record(
            RESULT_KIND,
            key.partition("/")[2],
            encode(result),
            now=now,
            expires_at=now + RESULT_TTL_S,
            max_records=MAX_RECORDS,
        )


def _report(snapshot: JsonObject) -> JsonObject:
    """What a drain has left, from an instance's snapshot."""
    binds = snapshot.get("binds")
    bound = len(binds) if isinstance(binds, list) else 0
    requests, receipts = snapshot.get("requests_in_flight"), snapshot.get("receipts_in_flight")
    draining = bool(snapshot.get("draining"))
    return {
        "instance": snapshot.get("instance"),
        "draining": draining,
        "bound": bound,
        "requests_in_flight": requests,
        "receipts_in_flight": receipts,
        "drained": draining and not bound and not requests and not receipts,
    }
