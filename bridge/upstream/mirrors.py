"""Mirrors: which host to try next, and whether trying another one is allowed at all.

Rule 1 (`judge_attempt`, the only place this is decided): a message goes to the next mirror
only when the request certainly did not reach iSMS: `NotSent` from the transport (DNS,
refused, reset or TLS failure before writing, no free connection) or HTTP 502/503/504 from a
proxy or load balancer in front of iSMS. Everything else after the request may have been
written (read timeout, reset while reading, HTTP 500, a body that is not an iSMS reply) is an
unknown outcome and is never resent, because iSMS charges per request.

Rule 2 (`MirrorSet.record`, the breaker): each attempt on a mirror is one vote on it. An iSMS
reply (2000 or a negative code) is a vote for; anything else is a vote against, whether the
message moved on (not reached: refused, 502/503/504) or ended there (unknown: HTTP 500, an
HTML page, a read timeout). Rule 1 alone decides the message's fate; the vote only judges
the mirror. A closed breaker opens when `breaker_failures` votes against arrive in a row:
counted in the order answers arrive, across every message in flight, a vote for resetting
the count to 0. An open mirror is skipped for `cooldown_s` from its last vote against; then
one message probes it (half-open), and that one vote decides: for closes it, against opens
it again for a new cool-down. A vote for closes an open breaker at any time (a late answer,
or a Rule 3 fallback); a vote against while open restarts the cool-down. So one dead host
does not add its timeout to every message, and a host that answers one message in N with a
fault stays in use.
Rule 3: while at least one mirror's breaker is closed, a cooling mirror is still tried,
soonest first, once every healthy one was certainly not reached: a message is not refused
while a mirror that might answer is left untried.
Rule 4: when no breaker is closed (every mirror's breaker opened and is cooling or being
probed), the breakers cut: a message goes only to a mirror whose cool-down is over (one
probe each per cool-down), and with none due it is not sent at all. The caller answers at
once with the temporary status, and a struggling iSMS sees probes instead of every message
times every mirror.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Final
from urllib.parse import urlsplit

from bridge.upstream.errors import NotSent, UpstreamError
from bridge.upstream.transport import HttpReply

# Gateway statuses: a proxy in front of iSMS answered because iSMS itself could not be
# reached (502 bad gateway, 503 unavailable, 504 gateway timeout before forwarding).
FAILOVER_STATUSES = frozenset({502, 503, 504})
# Votes against in a row that open a closed breaker (Rule 2; `[isms] breaker_failures`).
DEFAULT_BREAKER_FAILURES = 5


class Verdict(enum.Enum):
    ANSWERED = "answered"  # iSMS answered (HTTP 2xx): parse the body
    NOT_REACHED = "not_reached"  # certainly never reached iSMS: the next mirror may be tried
    UNKNOWN = "unknown"  # may have reached iSMS: stop here, never resend

    # Members are singletons compared by identity, so the identity hash is the right one;
    # Enum's own is a Python call hashing the name, and tables keyed by a verdict are
    # looked up several times per message.
    __hash__ = object.__hash__


# Members bound to module names where they are used per message: a member looked up on its
# enum class is slow on Python 3.11 (docs/performance-notes.md).
_ANSWERED: Final = Verdict.ANSWERED


def judge_attempt(attempt: HttpReply | UpstreamError) -> Verdict:
    """Rule 1: what one attempt on one mirror means for the message."""
    if isinstance(attempt, HttpReply):
        status = attempt.status
        if 200 <= status < 300:
            return _ANSWERED
        if status in FAILOVER_STATUSES:
            return Verdict.NOT_REACHED
        # HTTP 500, redirects, 4xx: the request reached a server that may be iSMS.
        return Verdict.UNKNOWN
    if isinstance(attempt, NotSent):
        return Verdict.NOT_REACHED
    # OutcomeUnknown, and any other UpstreamError: it may have been sent.
    return Verdict.UNKNOWN


class BreakerState(enum.Enum):
    CLOSED = "closed"  # healthy: used in its configured order
    OPEN = "open"  # failed: skipped until its cool-down ends
    HALF_OPEN = "half_open"  # cool-down over: one message is probing it now


_CLOSED: Final = BreakerState.CLOSED  # bound once, as _ANSWERED above
_OPEN: Final = BreakerState.OPEN


class Mirror:
    """One endpoint and its breaker. Mutable, owned by one `MirrorSet`."""

    __slots__ = ("failures", "in_service", "name", "opened_at", "reopen_at", "state", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = log_safe_url(url)
        self.state = BreakerState.CLOSED
        self.failures = 0  # votes against since the last vote for (Rule 2)
        self.opened_at = 0.0  # when the breaker last left CLOSED
        self.reopen_at = 0.0
        # False: an operator took it out; no message is routed to it until put back.
        self.in_service = True

    def __repr__(self) -> str:
        return f"Mirror({self.name!r}, {self.state.value}, failures={self.failures})"


class MirrorSet:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        cooldown_s: float,
        breaker_failures: int = DEFAULT_BREAKER_FAILURES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("at least one iSMS endpoint is needed")
        if breaker_failures < 1:
            raise ValueError("a breaker needs at least one failure to open")
        self.mirrors = tuple(Mirror(url) for url in urls)
        # The mirrors messages are routed to: all but those an operator took out.
        self._serving = self.mirrors
        self.cooldown_s = cooldown_s
        self.breaker_failures = breaker_failures
        self._clock = clock

    def route(self) -> Iterator[Mirror]:
        """Mirrors to try for one message, in order; each is admitted when it is reached.

        Lazy on purpose: an open mirror becomes HALF_OPEN only when this message actually
        gets to it, so a probe is never claimed by a message that succeeded earlier.
        """
        if self._all_closed():
            return iter(self._serving)  # the usual case: every mirror healthy
        return self._route_around_failures()

    # Both are asked once per message: plain loops, since all()/any() over a generator cost
    # two calls more each.
    def _all_closed(self) -> bool:
        for mirror in self._serving:  # noqa: SIM110 (see above)
            if mirror.state is not _CLOSED:
                return False
        return True

    @property
    def all_open(self) -> bool:
        """No breaker is closed: messages go only to probes (Rule 4)."""
        for mirror in self._serving:  # noqa: SIM110 (see above)
            if mirror.state is _CLOSED:
                return False
        return True

    def next_probe_in(self) -> float:
        """Seconds until the first cooling mirror may be probed (0 when one may be now)."""
        cooling = [m.reopen_at for m in self._serving if m.state is _OPEN]
        if not cooling:
            return 0.0
        return max(0.0, min(cooling) - self._clock())

    def _route_around_failures(self) -> Iterator[Mirror]:
        # Decided before the first attempt: a message that itself finds the last closed
        # mirror failing still falls back to the cooling ones (Rule 3).
        cut = self.all_open
        skipped: list[Mirror] = []
        for mirror in self._serving:
            if self._admit(mirror):
                yield mirror
            else:
                skipped.append(mirror)
        if cut:
            return  # Rule 4: only probes go out while every breaker is open
        # Reached only when every admitted mirror was certainly not reached: rather than
        # give up, try the cooling ones too, soonest first (Rule 3).
        yield from sorted(skipped, key=lambda m: m.reopen_at)

    def record(self, mirror: Mirror, *, healthy: bool) -> BreakerState | None:
        """One attempt's vote on `mirror` (Rule 2): `healthy` when iSMS answered.

        Returns the state the breaker left when this vote moved it (None when it stayed), so
        the caller can report an opening or a closing once.
        """
        if healthy:
            mirror.failures = 0
            left = mirror.state
            if left is _CLOSED:
                return None
            mirror.state = _CLOSED  # also ends a probe
            return left
        mirror.failures += 1
        left = mirror.state
        if left is _CLOSED and mirror.failures < self.breaker_failures:
            return None  # not yet sustained: one fault on one message is no outage
        now = self._clock()
        mirror.reopen_at = now + self.cooldown_s
        if left is _OPEN:
            return None  # already open: the cool-down counts from this latest failure
        # Closed at the threshold, or half-open, where the probe's one vote is enough.
        mirror.state = _OPEN
        if left is _CLOSED:
            mirror.opened_at = now
        return left

    def set_in_service(self, index: int, in_service: bool) -> bool:
        """Take mirror `index` (0-based, config order) out of the routing, or put it back;
        whether that changed anything. The last mirror in service cannot be taken out
        (ValueError): messages would have nowhere to go. IndexError for no such mirror."""
        mirror = self.mirrors[index]
        if mirror.in_service is in_service:
            return False
        if not in_service and len(self._serving) == 1:
            raise ValueError(f"{mirror.name} is the last mirror in service")
        mirror.in_service = in_service
        self._serving = tuple(m for m in self.mirrors if m.in_service)
        return True

    def release(self, mirror: Mirror) -> None:
        """An attempt ended without a verdict (cancelled): let the next message probe."""
        if mirror.state is BreakerState.HALF_OPEN:
            mirror.state = _OPEN
            mirror.reopen_at = self._clock()

    def _admit(self, mirror: Mirror) -> bool:
        if mirror.state is BreakerState.CLOSED:
            return True
        if mirror.state is _OPEN and self._clock() >= mirror.reopen_at:
            mirror.state = BreakerState.HALF_OPEN
            return True
        return False


def log_safe_url(url: str) -> str:
    """scheme://host[:port]/path: no user info, no query string (GET carries `pwd` there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
