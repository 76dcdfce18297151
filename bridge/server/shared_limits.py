"""max_binds and throughput_per_s for a whole cluster: every instance sharing one state store.

One process alone counts binds from its registry and meters throughput in its own token
buckets (`AccountAuthority`). Instances behind a load balancer must count together, or two
instances allow twice the binds and twice the rate. `SharedLimits` does it through the
state layer's `ClusterStore` (Redis for a cluster; only `bridge.app` picks the backend):

- Throughput: one token bucket per account in the store, taken from atomically (one
  script) for every submit, before the handler sees it. Over it: ESME_RTHROTTLED. A submit
  of an account without a limit asks whether the store can be written instead, so that
  nothing is sent to iSMS while the store could not keep what the answer obliges.
- max_binds: each bound session holds a lease in its account's group, `lease_s` long,
  renewed by a heartbeat every `lease_s / 3` for every session of this process in one call.
  A killed instance stops renewing, so its binds stop counting at most `lease_s` after its
  last heartbeat (30 s by default). A lease that ended anyway (the store was unreachable
  for longer than `lease_s`) is taken again; if the account is full by then, that session
  is unbound: the cluster is over max_binds and this is the youngest claim.
- The store unreachable: new binds and submits get a temporary error (ESME_RSYSERR: the
  bind or message could not be counted, so it is not accepted); sessions already bound stay
  bound and keep their leases as soon as the store is back. After a failure the store is
  asked again only after a backoff (0.25 s, doubling to 5 s); the heartbeat always asks.

Time is the wall clock (`time.time`), the one clock instances on different hosts share:
their clocks must agree to well within `lease_s` (NTP does).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, assert_never

from bridge.pdu import CommandStatus
from bridge.server.handlers import BindVerdict
from bridge.state import ClusterStore, StateUnavailable

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 30.0
# After a failed store operation, binds and submits are refused without asking the store
# for this long, doubling up to the cap while it stays away: a flood of submits during an
# outage must not become a flood of reconnection attempts.
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 5.0


class Admission(enum.Enum):
    ADMITTED = "admitted"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"  # the store could not be asked: a temporary error


class BindClaim(enum.Enum):
    GRANTED = "granted"
    FULL = "full"  # the account holds max_binds binds across the cluster
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Throughput:
    rate: float
    burst: float


class SharedStore(ClusterStore, Protocol):
    """The shared state store as the limits use it (every `StateStore` is one)."""

    async def writable(self) -> bool:
        """Could a write commit now? Never raises."""
        ...


class AccountLimits(Protocol):
    """What the shared limits need to know of the accounts (`AccountAuthority` has it)."""

    def max_binds(self, system_id: str) -> int | None:
        """None for an account that is not configured (any more)."""
        ...

    def throughput(self, system_id: str) -> Throughput | None:
        """None: the account has no throughput limit."""
        ...


class ClusterObserver(Protocol):
    def cluster_unavailable(self, operation: str) -> None:
        """A store operation failed (`bind`, `throughput`, `heartbeat`, `release`)."""
        ...

    def leases_held(self, count: int) -> None:
        """This instance now holds `count` bind leases."""
        ...


# Told when a session's lease could not be kept: (system_id, session_id); it unbinds it.
LostBind = Callable[[str, str], None]


class NoClusterObserver:
    __slots__ = ()

    def cluster_unavailable(self, operation: str) -> None:
        return None

    def leases_held(self, count: int) -> None:
        return None


def instance_name() -> str:
    """Unique per process across the cluster (a restarted instance is a new one)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


class SharedLimits:
    """The cluster-wide limits of one process (see the module docstring)."""

    __slots__ = (
        "_accounts",
        "_background",
        "_backoff_s",
        "_claiming",
        "_clock",
        "_down",
        "_heartbeat",
        "_held",
        "_instance",
        "_lease_s",
        "_lost",
        "_monotonic",
        "_observer",
        "_probe",
        "_retry_at",
        "_store",
    )

    def __init__(
        self,
        store: SharedStore,
        accounts: AccountLimits,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        instance: str | None = None,
        observer: ClusterObserver | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not lease_s > 0:
            raise ValueError("lease_s must be more than 0")
        self._store = store
        self._accounts = accounts
        self._lease_s = lease_s
        self._instance = instance or instance_name()
        self._observer: ClusterObserver = observer or NoClusterObserver()
        self._clock = clock
        self._monotonic = monotonic
        # holder -> (group, system_id, session_id) of every lease this process holds
        self._held: dict[str, tuple[str, str, str]] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._lost: LostBind | None = None
        self._down = False  # logged once per outage, not once per submit
        self._retry_at = 0.0  # monotonic time before which the store is not asked
        self._backoff_s = RETRY_FIRST_S
        # Claims and releases in flight (the loop keeps only weak references to tasks), and
        # for each claim of a connection whether that connection has closed meanwhile.
        self._background: set[asyncio.Task[object]] = set()
        self._claiming: dict[str, bool] = {}
        self._probe: asyncio.Future[bool] | None = None

    @property
    def instance(self) -> str:
        return self._instance

    @property
    def lease_s(self) -> float:
        return self._lease_s

    @property
    def held(self) -> int:
        return len(self._held)

    def on_lost(self, callback: LostBind) -> None:
        self._lost = callback

    async def admit(self, system_id: str, parts: int) -> Admission:
        """Charge `parts` message parts to the account's cluster-wide bucket. A message of
        an account without a limit still needs the store: what it obliges (its record, its
        receipt) is kept there after iSMS answers, so a store that cannot be written now
        means the message must not be sent (it would be charged and then answered
        ESME_RSYSERR, and sent again when the ESME retries)."""
        if parts <= 0:
            return Admission.ADMITTED
        if self._backing_off():
            return Admission.UNAVAILABLE
        limit = self._accounts.throughput(system_id)
        if limit is None:
            return Admission.ADMITTED if await self._writable() else Admission.UNAVAILABLE
        # A message of more parts than the burst could never wait its way in: it takes a
        # full bucket (the store's buckets cannot go into debt the way a local one does).
        count = min(float(parts), limit.burst)
        try:
            taken = await self._store.take_tokens(
                _bucket(system_id),
                rate=limit.rate,
                burst=limit.burst,
                count=count,
                now=self._clock(),
            )
        except StateUnavailable as exc:
            self._unavailable("throughput", exc)
            return Admission.UNAVAILABLE
        self._reachable()
        return Admission.ADMITTED if taken.granted else Admission.THROTTLED

    async def tokens_left(self, system_id: str) -> float | None:
        """Tokens in the account's cluster-wide bucket now, read without taking any; None
        for an account without a limit. StateUnavailable when the store cannot answer."""
        limit = self._accounts.throughput(system_id)
        if limit is None:
            return None
        return await self._store.bucket_level(
            _bucket(system_id), rate=limit.rate, burst=limit.burst, now=self._clock()
        )

    async def claim_bind(self, system_id: str, session_id: str) -> BindClaim:
        """Take one of the account's max_binds leases for the session."""
        limit = self._accounts.max_binds(system_id)
        if limit is None:
            return BindClaim.FULL
        holder = self._holder(session_id)
        group = _group(system_id)
        if self._backing_off():
            return BindClaim.UNAVAILABLE
        try:
            granted = await self._store.acquire_lease(
                group, holder, limit=limit, now=self._clock(), ttl_s=self._lease_s
            )
        except StateUnavailable as exc:
            self._unavailable("bind", exc)
            return BindClaim.UNAVAILABLE
        self._reachable()
        if not granted:
            return BindClaim.FULL
        self._held[holder] = (group, system_id, session_id)
        self._observer.leases_held(len(self._held))
        return BindClaim.GRANTED

    async def release_bind(self, system_id: str, session_id: str) -> None:
        """The session ended: its lease goes at once (else it would count until it ends)."""
        holder = self._holder(session_id)
        if self._held.pop(holder, None) is None:
            return
        self._observer.leases_held(len(self._held))
        try:
            await self._store.release_lease(_group(system_id), holder)
        except StateUnavailable as exc:
            # It ends by itself within lease_s: nothing renews it any more.
            self._unavailable("release", exc)

    def claim_soon(
        self, system_id: str, session_id: str, decided: Callable[[BindVerdict], None]
    ) -> None:
        """`claim_bind` for a caller that cannot wait (a connection's callbacks): `decided`
        gets the answer to the bind once the claim is known, unless `release_soon` came
        first (the connection closed meanwhile): then a granted lease is released instead."""
        holder = self._holder(session_id)
        self._claiming[holder] = False
        task = asyncio.get_running_loop().create_task(self.claim_bind(system_id, session_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

        def done(claimed: asyncio.Task[BindClaim]) -> None:
            abandoned = self._claiming.pop(holder, True)
            if claimed.cancelled():
                return
            if not abandoned:
                decided(claim_verdict(claimed.result()))
            elif claimed.result() is BindClaim.GRANTED:
                self.release_soon(session_id)

        task.add_done_callback(done)

    def release_soon(self, session_id: str) -> None:
        """The session's connection closed: release its lease (or its claim still in
        flight) without waiting; nothing to do for a session that holds none."""
        holder = self._holder(session_id)
        if holder in self._claiming:
            self._claiming[holder] = True
            return
        held = self._held.get(holder)
        if held is None:
            return
        task = asyncio.get_running_loop().create_task(self.release_bind(held[1], session_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def renew(self) -> int:
        """One heartbeat: renew every lease held; take back those that ended (unbinding the
        sessions whose account is full by now). How many sessions were unbound."""
        held = list(self._held.items())
        if not held:
            return 0
        now = self._clock()
        try:
            renewed = await self._store.renew_leases(
                [(group, holder) for holder, (group, _, _) in held], now=now, ttl_s=self._lease_s
            )
        except StateUnavailable as exc:
            self._unavailable("heartbeat", exc)
            return 0
        self._reachable()
        unbound = 0
        for (holder, (group, system_id, session_id)), kept in zip(held, renewed, strict=True):
            if kept or holder not in self._held:
                continue
            if await self._take_back(holder, group, system_id, session_id):
                continue
            unbound += 1
        if unbound:
            self._observer.leases_held(len(self._held))
        return unbound

    def start(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    def stop(self) -> None:
        """Stop renewing (the process is stopping: its sessions released their leases, or
        the leases end within lease_s by themselves)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    async def aclose(self) -> None:
        """`stop`, and wait for the heartbeat and the releases still in flight."""
        self.stop()
        pending = [task for task in (self._heartbeat, *self._background) if task is not None]
        self._heartbeat = None
        await asyncio.gather(*pending, return_exceptions=True)

    async def _take_back(self, holder: str, group: str, system_id: str, session_id: str) -> bool:
        limit = self._accounts.max_binds(system_id)
        try:
            granted = limit is not None and await self._store.acquire_lease(
                group, holder, limit=limit, now=self._clock(), ttl_s=self._lease_s
            )
        except StateUnavailable as exc:
            self._unavailable("heartbeat", exc)
            return True  # keep it; the next heartbeat tries again
        if granted:
            log.info("event=bind_lease_retaken system_id=%s session=%s", system_id, session_id)
            return True
        del self._held[holder]
        log.warning(
            "event=bind_lease_lost system_id=%s session=%s reason=%r",
            system_id,
            session_id,
            "account holds max_binds binds across the cluster",
        )
        if self._lost is not None:
            self._lost(system_id, session_id)
        return False

    async def _beat(self) -> None:
        interval = self._lease_s / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except Exception:
                log.exception("event=bind_lease_heartbeat_failed")

    def _holder(self, session_id: str) -> str:
        return f"{self._instance}/{session_id}"

    async def _writable(self) -> bool:
        """One probe of the store for every submit that arrives while it is on its way (a
        loop turn's submits, which the store would send in one round trip anyway)."""
        probe = self._probe
        if probe is None or probe.done():
            probe = self._probe = asyncio.ensure_future(self._store.writable())
            probe.add_done_callback(self._probed)
        return await asyncio.shield(probe)

    def _probed(self, probe: asyncio.Future[bool]) -> None:
        if probe.cancelled():
            return
        if probe.result():
            self._reachable()
        else:
            self._unavailable("probe", StateUnavailable("the store cannot be written"))

    def _backing_off(self) -> bool:
        if self._down and self._monotonic() < self._retry_at:
            self._observer.cluster_unavailable("backoff")
            return True
        return False

    def _unavailable(self, operation: str, exc: StateUnavailable) -> None:
        self._observer.cluster_unavailable(operation)
        now = self._monotonic()
        if self._down:
            self._backoff_s = min(RETRY_MAX_S, self._backoff_s * 2)
        self._retry_at = now + self._backoff_s
        if not self._down:
            self._down = True
            log.warning(
                "event=cluster_state_unavailable operation=%s reason=%r "
                "(new binds and submits get ESME_RSYSERR until it is back)",
                operation,
                exc.reason,
            )

    def _reachable(self) -> None:
        if self._down:
            self._down = False
            self._backoff_s = RETRY_FIRST_S
            log.warning("event=cluster_state_available")


def claim_verdict(claim: BindClaim) -> BindVerdict:
    """The answer to a bind whose credentials passed, by its cluster-wide lease."""
    match claim:
        case BindClaim.GRANTED:
            return BindVerdict(command_status=CommandStatus.ESME_ROK)
        case BindClaim.FULL:
            return BindVerdict(
                command_status=CommandStatus.ESME_RBINDFAIL,
                reason="account already holds max_binds binds across the cluster",
            )
        case BindClaim.UNAVAILABLE:
            # Not counted, so not accepted: a temporary error; the ESME binds again later.
            return BindVerdict(
                command_status=CommandStatus.ESME_RSYSERR, reason="shared state unavailable"
            )
        case _:
            assert_never(claim)


def _bucket(system_id: str) -> str:
    return f"throughput:{system_id}"


def _group(system_id: str) -> str:
    return f"binds:{system_id}"
