"""Config errors name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """`path: key: expected`; `key` is "" for faults of the whole file (unreadable, not TOML)."""

    def __init__(self, path: Path | str, key: str, expected: str) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {expected}")
