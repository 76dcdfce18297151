"""Who may bind: account lookup, password check, address / bind type / bind count policy.

Pure policy like the rest of the package: the caller passes the peer's address, the number
of binds the account already holds and `now`; the answer says which status to send and how
long to wait before sending a refusal.

Rules (SMPP 3.4 §4.1 and Table 5-2):
1. Unknown system_id -> ESME_RINVSYSID (0x0F).
2. A peer address outside the account's `allowed_ips` -> ESME_RBINDFAIL (0x0D). This is
   decided before the password so that an address that may not bind at all cannot use the
   0x0E / 0x0D difference to guess the password.
3. Wrong password -> ESME_RINVPASWD (0x0E). Compared in constant time (hmac.compare_digest
   on SHA-256 digests, so lengths never differ); an unknown system_id is compared against a
   dummy so the time taken does not reveal which system_ids exist.
4. Bind type not allowed, or the account already holds `max_binds` binds -> ESME_RBINDFAIL.
Failures of rules 1-3 from one address are slowed down: each refusal waits
`base_delay_s * 2 ** (failures - 1)`, at most `max_delay_s`, where `failures` decays with a
half-life of `halflife_s`. The record is an LRU of at most `max_addresses` entries, keyed by
IPv4 address or IPv6 /64 (one host usually owns a whole /64, so rotating through it gains
nothing).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bridge.pdu import CommandStatus
from bridge.smpp.states import BindType

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The three bind types by their config names (SMPP 3.4 §4.1.1, §4.1.3, §4.1.5). `BindType`
# is a StrEnum of these names, so a session's bind_type is tested against an account directly.
BIND_TYPES: frozenset[str] = frozenset(bind_type.value for bind_type in BindType)

# Compared against when the system_id is unknown, so both paths do the same work.
_DUMMY_DIGEST = hashlib.sha256(b"\x00not-an-account\x00").digest()

# A failure record below this weight is as good as none and is dropped when next seen.
_FORGOTTEN = 0.05


class AccountPolicy(Protocol):
    """What binding needs to know of an account (`bridge.config.AccountConfig` fits)."""

    @property
    def system_id(self) -> str: ...
    @property
    def password(self) -> str: ...
    @property
    def bind_types(self) -> frozenset[str]: ...
    @property
    def allowed_ips(self) -> tuple[IpNetwork, ...]: ...
    @property
    def max_binds(self) -> int: ...


class BindRefusal(enum.Enum):
    """Why a bind was refused, for the log line and metrics (never the password)."""

    UNKNOWN_SYSTEM_ID = "unknown system_id"
    ADDRESS_NOT_ALLOWED = "peer address not in allowed_ips"
    WRONG_PASSWORD = "wrong password"  # noqa: S105 (a reason, not a password)
    BIND_TYPE_NOT_ALLOWED = "bind type not allowed for this account"
    TOO_MANY_BINDS = "account already holds max_binds binds"


_STATUS: dict[BindRefusal, CommandStatus] = {
    BindRefusal.UNKNOWN_SYSTEM_ID: CommandStatus.ESME_RINVSYSID,
    BindRefusal.ADDRESS_NOT_ALLOWED: CommandStatus.ESME_RBINDFAIL,
    BindRefusal.WRONG_PASSWORD: CommandStatus.ESME_RINVPASWD,
    BindRefusal.BIND_TYPE_NOT_ALLOWED: CommandStatus.ESME_RBINDFAIL,
    BindRefusal.TOO_MANY_BINDS: CommandStatus.ESME_RBINDFAIL,
}

# Refusals that count as a guess: the peer did not hold the credentials or the address.
# A right password with a disallowed bind type or a full account is a client setup matter.
_COUNTS_AS_FAILURE = frozenset(
    {BindRefusal.UNKNOWN_SYSTEM_ID, BindRefusal.ADDRESS_NOT_ALLOWED, BindRefusal.WRONG_PASSWORD}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BindDecision:
    """The answer to one bind: ESME_ROK with the account, or a refusal status and a delay.

    The shell waits `delay_s` before it sends a refused bind's response, then closes.
    """

    status: CommandStatus
    account: AccountPolicy | None = field(default=None, repr=False)
    refusal: BindRefusal | None = None
    delay_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status is CommandStatus.ESME_ROK


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanges:
    """What a reload did to the account table, by system_id (sorted)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]


@dataclass(slots=True)
class _Failures:
    weight: float
    seen: float


class Authenticator:
    """Decides binds against an account table that `reload` can swap at run time."""

    __slots__ = (
        "_accounts",
        "_digests",
        "_failures",
        "base_delay_s",
        "halflife_s",
        "max_addresses",
        "max_delay_s",
    )

    def __init__(
        self,
        accounts: Iterable[AccountPolicy],
        *,
        base_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        halflife_s: float = 60.0,
        max_addresses: int = 10_000,
    ) -> None:
        if base_delay_s < 0 or max_delay_s < base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")
        if halflife_s <= 0 or max_addresses < 1:
            raise ValueError("need halflife_s > 0 and max_addresses >= 1")
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.halflife_s = halflife_s
        self.max_addresses = max_addresses
        self._accounts: dict[str, AccountPolicy] = {}
        self._digests: dict[str, bytes] = {}
        self._failures: OrderedDict[IpAddress | IpNetwork, _Failures] = OrderedDict()
        self.reload(accounts)

    def account(self, system_id: str) -> AccountPolicy | None:
        return self._accounts.get(system_id)

    @property
    def system_ids(self) -> frozenset[str]:
        return frozenset(self._accounts)

    @property
    def tracked_addresses(self) -> int:
        """How many addresses have a failure record (bounded by `max_addresses`)."""
        return len(self._failures)

    def authenticate(
        self,
        *,
        system_id: str,
        password: str,
        bind_type: BindType | str,
        peer_ip: str | IpAddress,
        binds_held: int,
        now: float,
    ) -> BindDecision:
        """Decide one bind; `binds_held` is how many binds the system_id holds right now."""
        account = self._accounts.get(system_id)
        expected = _DUMMY_DIGEST if account is None else self._digests[system_id]
        # Always one comparison, whether or not the system_id exists (rule 3).
        password_ok = hmac.compare_digest(_digest(password), expected)
        address = _address(peer_ip)
        refusal: BindRefusal | None
        if account is None:
            refusal = BindRefusal.UNKNOWN_SYSTEM_ID
        elif account.allowed_ips and not any(address in net for net in account.allowed_ips):
            refusal = BindRefusal.ADDRESS_NOT_ALLOWED
        elif not password_ok:
            refusal = BindRefusal.WRONG_PASSWORD
        elif bind_type not in account.bind_types:
            refusal = BindRefusal.BIND_TYPE_NOT_ALLOWED
        elif binds_held >= account.max_binds:
            refusal = BindRefusal.TOO_MANY_BINDS
        else:
            return BindDecision(status=CommandStatus.ESME_ROK, account=account)
        delay = self._record_failure(address, now) if refusal in _COUNTS_AS_FAILURE else 0.0
        return BindDecision(status=_STATUS[refusal], refusal=refusal, delay_s=delay)

    def reload(self, accounts: Iterable[AccountPolicy]) -> AccountChanges:
        """Swap in a new account table (SIGHUP); failure records are kept.

        The caller unbinds the sessions of `removed` accounts; binds of kept accounts stay.
        """
        table: dict[str, AccountPolicy] = {}
        for account in accounts:
            if account.system_id in table:
                raise ValueError(f"system_id {account.system_id!r} appears twice")
            table[account.system_id] = account
        old = set(self._accounts)
        new = set(table)
        self._accounts = table
        self._digests = {sid: _digest(acc.password) for sid, acc in table.items()}
        return AccountChanges(
            added=tuple(sorted(new - old)),
            removed=tuple(sorted(old - new)),
            kept=tuple(sorted(old & new)),
        )

    def _record_failure(self, address: IpAddress, now: float) -> float:
        key = _failure_key(address)
        record = self._failures.pop(key, None)
        weight = 1.0 if record is None else self._decayed(record, now) + 1.0
        self._failures[key] = _Failures(weight=weight, seen=now)
        # LRU bound: the address that failed longest ago is forgotten first.
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
        return self._delay_for(weight)

    def _decayed(self, record: _Failures, now: float) -> float:
        elapsed = max(0.0, now - record.seen)
        weight = record.weight * math.pow(0.5, elapsed / self.halflife_s)
        return 0.0 if weight < _FORGOTTEN else weight

    def _delay_for(self, weight: float) -> float:
        # Doubling per failure; the exponent is capped so a long attack cannot overflow a float.
        return min(self.max_delay_s, self.base_delay_s * math.pow(2.0, min(weight - 1.0, 64.0)))


def _digest(password: str) -> bytes:
    # Equal-length digests keep compare_digest's time independent of the password length.
    return hashlib.sha256(password.encode("utf-8", "backslashreplace")).digest()


def _address(peer_ip: str | IpAddress) -> IpAddress:
    address = ipaddress.ip_address(peer_ip) if isinstance(peer_ip, str) else peer_ip
    # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; allowed_ips name them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _failure_key(address: IpAddress) -> IpAddress | IpNetwork:
    if isinstance(address, ipaddress.IPv6Address):
        return ipaddress.IPv6Network((int(address) >> 64 << 64, 64))
    return address
