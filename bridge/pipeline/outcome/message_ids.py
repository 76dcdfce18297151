"""message_ids the bridge makes itself: for non-final parts of a long message, and for an
iSMS success that came back without a trx_id ("2000 = SUCCESS or EMPTY/BLANK").

Shape: 18 characters of 0-9A-Z, e.g. `0MWXP3VJIIWDA07000`:
- 9 characters: milliseconds since the Unix epoch in base 36 (fixed width, so ids sort by
  time; good until the year 5188);
- 6 characters: a random tag drawn once per generator (31 bits): two processes, or one
  restarted while the clock was stepped back, differ here;
- 3 characters: a counter within the millisecond (46,656 ids per ms). When it runs out the
  generator borrows the next millisecond, and it never goes back in time, so one generator
  never repeats an id.

Only digits and capital letters: they are the same octets in ASCII, Latin-1 and GSM 03.38,
so an id reads back identically in a receipt under any data_coding. An iSMS trx_id is all
digits (about 10); a bridge id always has 18 characters, which tells the two apart. Far
inside SMPP's limit (message_id is a C-Octet String of at most 65 octets, §5.2.23).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

MESSAGE_ID_LENGTH = 18
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TIME_WIDTH = 9
_TAG_WIDTH = 6
_COUNTER_WIDTH = 3
_COUNTER_LIMIT = 36**_COUNTER_WIDTH
_TAG_LIMIT = 36**_TAG_WIDTH


def _base36(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        chars.append(_DIGITS[digit])
    if value:
        raise ValueError(f"value does not fit in {width} base-36 digits")
    return "".join(reversed(chars))


class MessageIdGenerator:
    """Unique, time-ordered message_ids. `clock` returns seconds since the Unix epoch."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        randbelow: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        self._clock = clock
        self._tag = _base36(randbelow(_TAG_LIMIT), _TAG_WIDTH)
        self._last_ms = -1
        self._counter = 0

    def new_id(self) -> str:
        now_ms = int(self._clock() * 1000)
        if now_ms > self._last_ms:
            self._last_ms, self._counter = now_ms, 0
        else:
            # Same millisecond, or the clock stepped back: continue from where we were.
            self._counter += 1
            if self._counter == _COUNTER_LIMIT:
                self._last_ms, self._counter = self._last_ms + 1, 0
        return (
            _base36(self._last_ms, _TIME_WIDTH) + self._tag + _base36(self._counter, _COUNTER_WIDTH)
        )
