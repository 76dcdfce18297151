"""`BindAdvice`: a warning when the client that binds will misread the account's receipts.

Kannel binds with system_type "VMA" unless told otherwise, and reads the receipts the bridge
sends by default (`stat:ACCEPTD`, message_state 6) as intermediate: DLR type 8, then 4, never
a final 1 or 2, so its DLR store keeps every message for ever. An operator cannot guess that
from the bind, so the first accepted bind of such a client to an account whose receipts say
ACCEPTD logs one warning naming the fix (`profile = "kannel"`). Once per account per
process: the set is bounded by the configured accounts.

It is the server's `ConnectionObserver`: every call is passed on to the observer it wraps
(the metrics), and binds are looked at on the way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bridge.config import KANNEL_SYSTEM_TYPE, AccountConfig
from bridge.server import (
    BindAttempt,
    BindVerdict,
    ConnectionObserver,
    ConnectionRefusal,
    NoConnectionObserver,
    Peer,
    ProxyOutcome,
    SessionContext,
    SubmitRequest,
)

log = logging.getLogger(__name__)


class BindAdvice:
    """Passes every observer call on to `inner`; warns once per account about a Kannel
    binding to receipts it cannot finish."""

    __slots__ = (
        "_accounts",
        "_inner",
        "_warned",
        "event_received",
        "pdus_sent",
        "request_answered",
    )

    def __init__(
        self, accounts: Iterable[AccountConfig], inner: ConnectionObserver | None = None
    ) -> None:
        self._inner: ConnectionObserver = inner if inner is not None else NoConnectionObserver()
        # The calls made per PDU go straight to the inner observer: no extra call each.
        self.event_received = self._inner.event_received
        self.request_answered = self._inner.request_answered
        self.pdus_sent = self._inner.pdus_sent
        self._accounts: dict[str, AccountConfig] = {}
        self._warned: set[str] = set()
        self.reload(accounts)

    def reload(self, accounts: Iterable[AccountConfig]) -> None:
        """The accounts after a SIGHUP reload; a changed account is judged again."""
        new = {account.system_id: account for account in accounts}
        self._warned = {s for s in self._warned if new.get(s) == self._accounts.get(s)}
        self._accounts = new

    def bind_decided(self, attempt: BindAttempt, verdict: BindVerdict) -> None:
        self._inner.bind_decided(attempt, verdict)
        if not verdict.accepted or attempt.system_type != KANNEL_SYSTEM_TYPE:
            return
        account = self._accounts.get(attempt.system_id)
        if account is None or account.report_delivered or account.system_id in self._warned:
            return
        self._warned.add(account.system_id)
        log.warning(
            "event=esme_profile_hint system_id=%s system_type=%s profile=%s "
            'advice="Kannel (its default system-type) reads the ACCEPTD receipts of this '
            "account as intermediate (DLR type 4) and never gets a final one: set "
            'profile = \\"kannel\\" (or report_delivered = true) on the account"',
            account.system_id,
            attempt.system_type,
            account.profile,
        )

    def request_throttled(
        self, context: SessionContext, request: SubmitRequest, parts: int
    ) -> None:
        self._inner.request_throttled(context, request, parts)

    def connection_refused(self, reason: ConnectionRefusal, peer: Peer) -> None:
        self._inner.connection_refused(reason, peer)

    def loop_lag_sampled(self, lag_s: float) -> None:
        self._inner.loop_lag_sampled(lag_s)

    def proxy_header_read(self, outcome: ProxyOutcome) -> None:
        self._inner.proxy_header_read(outcome)
