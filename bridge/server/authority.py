"""The BindAuthority made of the account table: `Authenticator` + `AccountThrottles`.

Both live in `bridge.smpp` as pure policy; this adapter is the only place that turns their
answers into the server's `BindVerdict`. max_binds is counted from the live registry (the
server passes `bound_sessions` in), so the count can never drift from what is really bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bridge.server.handlers import BindAttempt, BindVerdict
from bridge.server.shared_limits import Throughput
from bridge.smpp import AccountChanges, AccountPolicy, AccountThrottles, Authenticator


class ServedAccount(AccountPolicy, Protocol):
    """An account that binds (AccountPolicy) and is throttled (`bridge.config.AccountConfig`
    fits both)."""

    @property
    def throughput_per_s(self) -> float | None: ...
    @property
    def throughput_burst(self) -> float | None: ...


class AccountAuthority:
    """Decides binds and meters traffic for the accounts of the config."""

    __slots__ = ("_authenticator", "_throttles")

    def __init__(self, authenticator: Authenticator, throttles: AccountThrottles) -> None:
        self._authenticator = authenticator
        self._throttles = throttles

    def decide(self, attempt: BindAttempt, bound_sessions: int, now: float) -> BindVerdict:
        decision = self._authenticator.authenticate(
            system_id=attempt.system_id,
            password=attempt.password,
            bind_type=attempt.bind_type.value,
            peer_ip=attempt.peer.host,
            binds_held=bound_sessions,
            now=now,
        )
        return BindVerdict(
            command_status=int(decision.status),
            reason="" if decision.refusal is None else decision.refusal.value,
            answer_delay_s=decision.delay_s,
        )

    def admit(self, system_id: str, parts: int, now: float) -> bool:
        return self._throttles.try_take(system_id, parts, now)

    def max_binds(self, system_id: str) -> int | None:
        account = self._authenticator.account(system_id)
        return None if account is None else account.max_binds

    def throughput(self, system_id: str) -> Throughput | None:
        bucket = self._throttles.bucket(system_id)
        return None if bucket is None else Throughput(rate=bucket.rate, burst=bucket.burst)

    def tokens_left(self, system_id: str, now: float) -> float | None:
        """Tokens in this process's bucket of the account at `now` (the clock `admit` is
        given: the loop's), negative while in debt; None for an account without a limit."""
        bucket = self._throttles.bucket(system_id)
        return None if bucket is None else bucket.available(now)

    def knows(self, system_id: str) -> bool:
        return self._authenticator.account(system_id) is not None

    def reload(self, accounts: Iterable[ServedAccount]) -> AccountChanges:
        """Adopt a new account table; the caller unbinds the sessions of `removed` accounts."""
        accounts = tuple(accounts)
        changes = self._authenticator.reload(accounts)
        self._throttles.reload(accounts)
        return changes
