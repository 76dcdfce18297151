"""Config errors name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    def __init__(self, path: Path | str, key: str, expected: str) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        super().__init__(f"{self.path}: {key}: {expected}")
