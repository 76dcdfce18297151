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
