"""Daily and monthly caps per account, in messages or in estimated credits, shared by every
instance of one store.

Rules:
1. A message reserves its amounts at submit, after its checks, with its intent: one
   message per destination, and its estimated credits (credits.py), on each configured cap,
   all in one atomic step of the state store (Redis: across instances): `reserve_all`, or
   with the message's intent and duplicate claim (`claim_and_put`, policy/gate.py). A cap that
   would be passed refuses the submit with the cap's status (`messages_cap_status`, default
   ESME_RMSGQFUL: try later; `credits_cap_status`, default ESME_RSUBMITFAIL: out of credit;
   never ESME_RSYSERR), kind `cap`, and no cap is reserved (all of them, or none).
2. Periods are calendar days and months in the account's time zone ([policy] time_zone,
   default Asia/Kuala_Lumpur): each period is a counter of its own (`cap/<account>/day/
   2026-11-26/messages`), which ends a day after its period does.
3. What was reserved for destinations iSMS never charged (not reached, or refused) is given
   back once the result is in; an unknown outcome keeps its reservation (iSMS may have sent
   it). A message that fails before its request leaves (the intent could not be committed,
   the ESME went while it waited for a slot) gives everything back.
4. The use of each cap is kept for the gauges (`isms_bridge_account_cap_used`): from each
   reservation, and read from the store at the sweep (other instances reserve too).
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bridge.pdu import CommandStatus
from bridge.pipeline.policy.settings import Caps
from bridge.state import CounterStore, Reservation, Reserved
from bridge.upstream import IsmsMessage, Outcome, SendResult

_GRACE_S = 86_400.0
# Outcomes iSMS charged nothing for (rule 3).
_NOT_CHARGED = frozenset({Outcome.NOT_SENT, Outcome.REJECTED})


@dataclass(slots=True, kw_only=True)
class CapUse:
    """One cap of one account as last seen: for the gauges (`used` moves with each
    reservation)."""

    account: str
    period: str  # "day" or "month"
    unit: str  # "messages" or "credits"
    used: int
    limit: int


@dataclass(slots=True, kw_only=True)
class Held:
    """What one message reserved: (counter, amount, unit) per cap."""

    held: Final[list[tuple[str, int, str]]]
    per_number: Final[int]  # credits per destination


class CapRefused(Exception):
    def __init__(self, status: CommandStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _limits(caps: Caps) -> list[tuple[str, str, int]]:
    """(period, unit, limit) of each configured cap, messages before credits."""
    found = [
        ("day", "messages", caps.daily_messages),
        ("month", "messages", caps.monthly_messages),
        ("day", "credits", caps.daily_credits),
        ("month", "credits", caps.monthly_credits),
    ]
    return [(period, unit, limit) for period, unit, limit in found if limit is not None]


def periods(now: float, caps: Caps) -> dict[str, tuple[str, float]]:
    """period -> (its name, when its counter ends: a day after the period, Unix seconds)."""
    local = datetime.fromtimestamp(now, caps.zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    next_day = (day + timedelta(days=1)).replace(tzinfo=caps.zone)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return {
        "day": (f"{day:%Y-%m-%d}", next_day.timestamp() + _GRACE_S),
        "month": (f"{month:%Y-%m}", next_month.timestamp() + _GRACE_S),
    }


@dataclass(frozen=True, slots=True)
class _Cap:
    """One configured cap of an account in the periods of today: its counter's name."""

    counter: str
    limit: int
    ends: float
    messages: bool  # counts destinations (else credits)


class CapBook:
    """Reserves and gives back (module docstring); `uses` feeds the gauges."""

    __slots__ = ("_periods", "_plans", "_store", "uses")

    def __init__(self, store: CounterStore) -> None:
        self._store = store
        self.uses: dict[tuple[str, str, str], CapUse] = {}
        # zone -> (the periods, until when they hold): made once a day, not per message.
        self._periods: dict[object, tuple[dict[str, tuple[str, float]], float]] = {}
        # account -> (its caps, their limits, their counters today, from when, until when
        # they hold).
        self._plans: dict[
            str, tuple[Caps, list[tuple[str, str, int]], tuple[_Cap, ...], float, float]
        ] = {}

    def _named(self, now: float, caps: Caps) -> dict[str, tuple[str, float]]:
        held = self._periods.get(caps.zone)
        if held is not None and held[1] - 86_400.0 <= now < held[1]:
            return held[0]
        named = periods(now, caps)
        # Valid until the day ends (its counter ends _GRACE_S after that).
        self._periods[caps.zone] = (named, named["day"][1] - _GRACE_S)
        return named

    def _plan(self, account: str, caps: Caps, now: float) -> tuple[_Cap, ...]:
        """The account's caps with their counters' names for `now` (made once a day)."""
        held = self._plans.get(account)
        if held is not None and held[0] is caps and held[3] <= now < held[4]:
            return held[2]
        named = self._named(now, caps)
        limits = _limits(caps)
        plan = tuple(
            _Cap(
                counter=f"cap/{account}/{period}/{named[period][0]}/{unit}",
                limit=limit,
                ends=named[period][1],
                messages=unit == "messages",
            )
            for period, unit, limit in limits
        )
        until = named["day"][1] - _GRACE_S
        self._plans[account] = (caps, limits, plan, until - 86_400.0, until)
        return plan

    def wanted(
        self, account: str, caps: Caps, *, numbers: int, per_number: int, now: float
    ) -> list[Reservation]:
        """What a message to `numbers` destinations reserves (rule 1): (counter, amount,
        limit, expires_at) per cap, for the store's `reserve_all` or `claim_and_put`."""
        credits = numbers * per_number
        return [
            (cap.counter, numbers if cap.messages else credits, cap.limit, cap.ends)
            for cap in self._plan(account, caps, now)
        ]

    def taken(
        self,
        account: str,
        caps: Caps,
        wanted: Sequence[Reservation],
        reserved: Sequence[Reserved],
        per_number: int,
    ) -> Held:
        """What the store's answer to `wanted` holds (made by `wanted` just before), or
        CapRefused naming the first cap that would be passed (nothing was reserved then)."""
        known = self._plans.get(account)
        limits = known[1] if known is not None and known[0] is caps else _limits(caps)
        granted = True
        uses = self.uses
        for (period, unit, limit), got in zip(limits, reserved, strict=True):
            use = uses.get((account, period, unit))
            if use is not None and use.limit == limit:
                use.used = got.used  # the gauge follows each reservation
            else:
                self._seen(account, period, unit, got.used, limit)
            granted = granted and got.granted
        if granted:
            held = [(r[0], r[1], lim[1]) for r, lim in zip(wanted, limits, strict=True)]
            return Held(held=held, per_number=per_number)
        for (period, unit, limit), (_c, amount, _l, _e), got in zip(
            limits, wanted, reserved, strict=True
        ):
            if got.used + amount > limit:
                status = caps.messages_status if unit == "messages" else caps.credits_status
                raise CapRefused(
                    status,
                    f"{'daily' if period == 'day' else 'monthly'} cap of {limit} {unit} "
                    f"reached ({got.used} used, this message needs {amount})",
                )
        raise AssertionError("a refused reservation passes no cap")  # pragma: no cover

    async def reserve(
        self, account: str, caps: Caps, *, numbers: int, per_number: int, now: float
    ) -> Held:
        """Reserve a message to `numbers` destinations (rule 1), or raise CapRefused."""
        wanted = self.wanted(account, caps, numbers=numbers, per_number=per_number, now=now)
        reserved = await self._store.reserve_all(wanted, now=now)
        return self.taken(account, caps, wanted, reserved, per_number)

    def settled(
        self,
        held: Held,
        requests: Sequence[IsmsMessage],
        results: Sequence[SendResult],
        *,
        now: float,
    ) -> Coroutine[Any, Any, None] | None:
        """The write that gives back what destinations iSMS did not charge had reserved
        (rule 3); None when iSMS charged them all."""
        if len(results) == 1:  # one request: a submit_sm's, a data_sm's
            charged = results[0].outcome not in _NOT_CHARGED
            numbers = 0 if charged else len(requests[0].destinations)
        else:
            numbers = sum(
                len(request.destinations)
                for request, result in zip(requests, results, strict=True)
                if result.outcome in _NOT_CHARGED
            )
        if not numbers:
            return None
        return self._give_back(held.held, now, numbers=numbers, per_number=held.per_number)

    async def unsent(self, held: Held, *, now: float) -> None:
        """Nothing was sent: give it all back (rule 3)."""
        await self._give_back(held.held, now)

    async def measure(self, account: str, caps: Caps, *, now: float) -> None:
        """Read each cap's use from the store (rule 4)."""
        named = self._named(now, caps)
        for period, unit, limit in _limits(caps):
            name, _ends = named[period]
            used = await self._store.counter_value(f"cap/{account}/{period}/{name}/{unit}", now=now)
            self._seen(account, period, unit, used, limit)

    def _seen(self, account: str, period: str, unit: str, used: int, limit: int) -> None:
        use = self.uses.get((account, period, unit))
        if use is not None and use.limit == limit:
            use.used = used
            return
        self.uses[(account, period, unit)] = CapUse(
            account=account, period=period, unit=unit, used=used, limit=limit
        )

    async def _give_back(
        self,
        held: Sequence[tuple[str, int, str]],
        now: float,
        *,
        numbers: int | None = None,
        per_number: int = 0,
    ) -> None:
        amounts: list[tuple[str, int]] = []
        for counter, amount, unit in held:
            if numbers is not None:
                amount = numbers if unit == "messages" else numbers * per_number
            if amount > 0:
                amounts.append((counter, amount))
        if amounts:
            await self._store.unreserve_all(amounts, now=now)
