"""The audit log: every operate call, logged and stored (who, what, on what, result, when).

One `event=admin_action` log line per call, and one record of kind `admin_audit` in the
state store (shared by every instance on Redis), listed newest first by the API and the CLI.
Bounded by count (`[admin] audit_max_entries`, the oldest dropped) and age
(`audit_max_age_s`). The caller is the token's name, never the token. A store that cannot
take the record does not undo the action: the log line is written either way, with
`stored=false`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from bridge.app.admin.records import AUDIT_KIND, JsonObject, decode, encode
from bridge.state import RecordStore, StateError

log = logging.getLogger(__name__)


class AuditLog:
    __slots__ = ("_clock", "_instance", "_max_age_s", "_max_entries", "_store")

    def __init__(
        self,
        store: RecordStore,
        *,
        instance: str,
        max_entries: int,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._instance = instance
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._clock = clock

    async def record(
        self, *, caller: str, action: str, target: str, result: str, detail: JsonObject
    ) -> JsonObject:
        now = self._clock()
        entry: JsonObject = {
            "at": now,
            "caller": caller,
            "action": action,
            "target": target,
            "result": result,
            "instance": self._instance,
            "detail": detail,
        }
        # Sorted by time in the key too, so entries of the same millisecond stay apart.
        key = f"{round(now * 1000):014d}-{secrets.token_hex(4)}"
        stored = True
        try:
            await self._store.put_record(
                AUDIT_KIND,
                key,
                encode(entry),
                now=now,
                expires_at=now + self._max_age_s,
                max_records=self._max_entries,
            )
        except StateError:
            stored = False
        log.warning(
            "event=admin_action caller=%s action=%s target=%s result=%s stored=%s",
            caller,
            action,
            target or "-",
            result,
            str(stored).lower(),
        )
        return entry

    async def entries(self, *, limit: int, since: float | None = None) -> list[JsonObject]:
        """Newest first."""
        found = await self._store.scan_records(
            AUDIT_KIND, now=self._clock(), since=since, limit=limit
        )
        return [decode(record.value) for record in found]
