"""The SMPP 3.4 §7.2 timers of one session, as deadlines (the session never reads a clock).

- session_init: from connect until a bind is accepted (OPEN, BINDING).
- enquire_link: the peer has sent nothing for enquire_link_interval_s: ping it, one ping
  at a time (bound states). Its answer is awaited by the response timer in `window.py`.
- inactivity: the peer has sent nothing for inactivity_s: unbind (bound states). Any PDU
  from the peer counts, pings and their answers included, so an ESME that answers pings
  stays bound for weeks; with the defaults, a dead peer is caught by the ping first.
- unbound_drain: after unbind, answers still owed get response_timeout_s to go out.
Which timers run in which state is `StatePolicy` (table.py); what each does is `TIMER_RULES`.
"""

from __future__ import annotations

from bridge.smpp.settings import SessionConfig
from bridge.smpp.states import Timer
from bridge.smpp.table import StatePolicy


class Deadlines:
    """When each timer of one session falls due; the Session updates the instants."""

    __slots__ = ("_config", "created_at", "entered_at", "last_heard", "pinging")

    def __init__(self, config: SessionConfig, now: float) -> None:
        self._config = config
        self.created_at = now  # connect: session_init counts from here
        self.entered_at = now  # entry into the current state: unbound_drain counts from here
        self.last_heard = now  # the last PDU from the peer (or the accepted bind)
        self.pinging = False  # an enquire_link of ours awaits its answer

    def _deadlines(self, policy: StatePolicy, owed: bool) -> list[tuple[float, Timer]]:
        config = self._config
        found = []
        if policy.session_init:
            found.append((self.created_at + config.session_init_s, Timer.SESSION_INIT))
        if policy.keepalive:
            if config.inactivity_s:
                found.append((self.last_heard + config.inactivity_s, Timer.INACTIVITY))
            if config.enquire_link_interval_s and not self.pinging:
                interval = config.enquire_link_interval_s
                found.append((self.last_heard + interval, Timer.ENQUIRE_LINK))
        if policy.closes_when_drained and owed:
            found.append((self.entered_at + config.response_timeout_s, Timer.UNBOUND_DRAIN))
        return found

    def next_deadline(self, policy: StatePolicy, owed: bool) -> float | None:
        """The earliest instant a timer of this state falls due (`owed`: answers still owed)."""
        return min((at for at, _timer in self._deadlines(policy, owed)), default=None)

    def due(self, policy: StatePolicy, owed: bool, now: float) -> Timer | None:
        """The timer due at `now`, if any; the earliest first, inactivity before a ping."""
        passed = [(at, timer) for at, timer in self._deadlines(policy, owed) if at <= now]
        return min(passed, key=lambda item: item[0])[1] if passed else None
