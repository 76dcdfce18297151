"""What the control plane keeps in the state store, so every instance sharing it sees it.

Kinds of record (each value one JSON object; the store's `scan_records` lists a kind):
- `admin_suspended`, key system_id: an account an operator suspended (`Suspension`). Kept
  until resumed, so it holds across restarts and instances (the memory backend forgets it
  at exit, like everything it holds).
- `admin_mirror_out`, key the mirror's index: a mirror an operator took out.
- `admin_instance`, key the instance: what it holds (its binds), rewritten every few seconds
  with a short expiry, so an instance that died drops out of the listing by itself.
- `admin_command`, key `instance/id`: an action for the instance holding what it acts on
  (unbind a session it holds); taken by that instance's sweep, answered as `admin_result`,
  key id.
- `admin_audit`: one per operate call (audit.py).
- `admin_opt_out`, key `scope/number` (scope `*` for every account, else a system_id): a
  number an operator opted out through the API, beside the opt-out files. Kept until
  removed. The counter `admin_opt_out_generation` moves with every change, so a sweep
  reads the whole list only when it changed.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass

SUSPENDED_KIND = "admin_suspended"
MIRROR_OUT_KIND = "admin_mirror_out"
INSTANCE_KIND = "admin_instance"
COMMAND_KIND = "admin_command"
RESULT_KIND = "admin_result"
AUDIT_KIND = "admin_audit"
OPT_OUT_KIND = "admin_opt_out"
OPT_OUT_GENERATION = "admin_opt_out_generation"
# Opt-out lists run to the hundreds of thousands of numbers; the store bounds each kind.
MAX_OPT_OUTS = 10_000_000
EVERY_ACCOUNT = "*"

# Far more than any account table or cluster; the store keeps each kind bounded.
MAX_RECORDS = 100_000
# A record that lasts until deleted (the store wants an expiry): ten years.
FOREVER_S = 10 * 365 * 86_400.0

JsonObject = dict[str, object]


class SuspendMode(enum.Enum):
    # New binds refused ESME_RBINDFAIL; the account's sessions are unbound.
    REFUSE_BINDS = "refuse_binds"
    # The softer mode: binds stay up and receipts flow; submits are refused ESME_RTHROTTLED.
    THROTTLE_SUBMITS = "throttle_submits"


@dataclass(frozen=True, slots=True, kw_only=True)
class Suspension:
    system_id: str
    mode: SuspendMode
    reason: str
    by: str  # the token's name
    at: float

    def to_json(self) -> JsonObject:
        return {**asdict(self), "mode": self.mode.value}


def encode(value: JsonObject) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def decode(raw: bytes) -> JsonObject:
    """The JSON object, or {} for anything else (a record this version cannot read)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def decode_suspension(system_id: str, raw: bytes) -> Suspension | None:
    value = decode(raw)
    try:
        return Suspension(
            system_id=system_id,
            mode=SuspendMode(value.get("mode")),
            reason=str(value.get("reason", "")),
            by=str(value.get("by", "")),
            at=float(value.get("at", 0.0)),  # type: ignore[arg-type]
        )
    except (ValueError, TypeError):
        return None


def opt_out_key(scope: str, number: str) -> str:
    return f"{scope}/{number}"


def opt_out_of(key: str) -> tuple[str, str] | None:
    """(scope, number) of an `admin_opt_out` key; None for a key this version cannot read."""
    scope, slash, number = key.rpartition("/")
    return (scope, number) if slash and scope and number else None
