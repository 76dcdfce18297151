"""Logging setup for the process: the one place that installs handlers (no layer sets up
logging for itself).

Every package logs through `logging.getLogger(__name__)` and never configures anything;
the lines are already structured (logfmt after the level and logger name).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(name)s %(message)s"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Kept as they are in a logfmt value; the rest is written \xNN, as bridge.server's lines do.
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """One stream handler on the root logger.

    Lines look like `2026-05-09T07:35:25.123 INFO bridge.server.connection event=...`.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt=_DATE_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[level])


def logfmt(value: object) -> str:
    """A logfmt value: quoted when it has a space or `=` (or is empty), so `error="Address
    already in use"` stays one field; quotes, backslashes and control characters (the
    newlines of a multi-line error) are written \\xNN, so a value can neither end its field
    early nor start a line of its own."""
    text = "".join(ch if ch in _PLAIN else _escaped(ch) for ch in str(value))
    return f'"{text}"' if not text or " " in text or "=" in text else text


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
