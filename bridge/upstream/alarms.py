"""Account-level failures, logged at error level once per account and code per minute.

-1001..-1004 mean every message of that iSMS account will fail until an operator acts; one
error line a minute with the fix says so without flooding the log at thousands of messages
a second. The table of remembered accounts is bounded by the configured accounts (the key is
the configured username, never a peer-supplied value).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bridge.upstream.codes import ACCOUNT_FIXES, REPLY_TEXT, IsmsCode

log = logging.getLogger(__name__)

ALARM_INTERVAL_S = 60.0


class AccountAlarms:
    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, interval_s: float = ALARM_INTERVAL_S
    ) -> None:
        self._clock = clock
        self._interval_s = interval_s
        self._last: dict[tuple[str, int], float] = {}

    def check(self, username: str, code: int) -> bool:
        """Log the alarm for an account-level `code` unless it was logged within a minute."""
        try:
            known = IsmsCode(code)
        except ValueError:
            return False
        fix = ACCOUNT_FIXES.get(known)
        if fix is None:
            return False
        now = self._clock()
        last = self._last.get((username, code))
        if last is not None and now - last < self._interval_s:
            return False
        self._last[(username, code)] = now
        log.error(
            "isms account %s failing: %d %s; fix: %s (repeats at most once a minute)",
            username,
            code,
            REPLY_TEXT[known],
            fix,
        )
        return True
