"""Typed reads from one TOML table, each failure a `ConfigError` naming file and full key.

Every section parser reads its keys through a `TableReader` and ends with `finish()`, which
rejects keys it did not read: a misspelt key is an error, not a silently ignored setting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from bridge.config.errors import ConfigError

T = TypeVar("T")
_MISSING = object()


class TableReader:
    def __init__(self, path: Path, prefix: str, table: Mapping[str, object]) -> None:
        self.path = path
        self.prefix = prefix
        self._table = table
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of a key, as error messages show it (`accounts[0].password`)."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, expected: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), expected)

    def has(self, name: str) -> bool:
        return name in self._table

    def _get(self, name: str, default: object) -> object:
        self._read.add(name)
        if name in self._table:
            return self._table[name]
        if default is _MISSING:
            raise self.error(name, "is required")
        return default

    def string(self, name: str, default: str | object = _MISSING) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_describe(value)}")
        return value

    def optional_string(self, name: str) -> str | None:
        value = self._get(name, None)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_describe(value)}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.string(name, default)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise self.error(name, f"expected one of {allowed}, got {value!r}")
        return value

    def integer(
        self,
        name: str,
        default: int | object = _MISSING,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {_describe(value)}")
        _check_range(self, name, value, minimum, maximum)
        return value

    def number(
        self,
        name: str,
        default: float | object = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
    ) -> float:
        """A number; `above` is an exclusive lower bound (a timer must be more than 0 s)."""
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_describe(value)}")
        if not math.isfinite(value):
            raise self.error(name, "expected a finite number")
        if above is not None and value <= above:
            raise self.error(name, f"expected more than {_show(above)}, got {_show(value)}")
        _check_range(self, name, value, minimum, maximum)
        return float(value)

    def optional_number(
        self,
        name: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
    ) -> float | None:
        """A number that may be left out (None); an explicit value is range-checked."""
        if name not in self._table:
            self._read.add(name)
            return None
        return self.number(name, minimum=minimum, maximum=maximum, above=above)

    def port(self, name: str, default: int) -> int:
        """A TCP port; 0 asks the operating system for any free one (tests use it)."""
        return self.integer(name, default, minimum=0, maximum=65_535)

    def boolean(self, name: str, default: bool | object = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_describe(value)}")
        return value

    def string_list(
        self, name: str, default: list[str] | object = _MISSING, *, non_empty: bool = False
    ) -> list[str]:
        value = self._get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"expected a list of strings, got {_describe(value)}")
        if non_empty and not value:
            raise self.error(name, "expected at least one entry")
        return list(value)

    def one_or_more_strings(self, name: str, default: list[str]) -> list[str]:
        """A string or a non-empty list of strings (`host = "::"` or `host = ["0.0.0.0", "::"]`)."""
        value = self._get(name, default)
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(
                name, f"expected a string or a list of strings, got {_describe(value)}"
            )
        if not value:
            raise self.error(name, "expected at least one entry")
        return list(value)

    def table(self, name: str) -> TableReader:
        """A sub-table (absent means empty)."""
        value = self._get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {_describe(value)}")
        return TableReader(self.path, self.key(name), value)

    def tables(self, name: str) -> list[TableReader]:
        """An array of tables (`[[accounts]]`); absent means none."""
        value = self._get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, f"expected an array of tables, got {_describe(value)}")
        return [
            TableReader(self.path, f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)
        ]

    def secret(self, name: str, *, required: bool = True) -> str | None:
        """A secret given as `name`, `name_env` (an environment variable) or `name_file`.

        Exactly one of the three may be set, so a committed config can name where the
        secret lives instead of holding it.
        """
        given = [k for k in (name, f"{name}_env", f"{name}_file") if k in self._table]
        if len(given) > 1:
            raise self.error(name, f"set only one of {', '.join(given)}")
        if not given:
            self._read.update({name, f"{name}_env", f"{name}_file"})
            if required:
                raise self.error(name, f"is required (or {name}_env / {name}_file)")
            return None
        which = given[0]
        if which == name:
            value = self._get(name, _MISSING)
            if not isinstance(value, str):
                # Never echo the value: it is the secret, only of the wrong type.
                raise self.error(name, f"expected a string (in quotes), got {_kind(value)}")
            return value
        raw = self.string(which)
        if which.endswith("_env"):
            env_value = os.environ.get(raw)
            if env_value is None:
                raise self.error(which, f"environment variable {raw!r} is not set")
            return env_value
        secret_path = Path(raw)
        if not secret_path.is_absolute():
            secret_path = self.path.parent / secret_path
        try:
            # A trailing newline is what editors and `echo` leave; it is never part of it.
            return secret_path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise self.error(which, f"cannot read {secret_path}: {exc.strerror}") from exc

    def finish(self) -> None:
        """Reject any key this section does not know."""
        unknown = sorted(set(self._table) - self._read)
        if unknown:
            raise self.error(unknown[0], "unknown key (check the spelling against README)")


def _check_range(
    reader: TableReader,
    name: str,
    value: float,
    minimum: float | None,
    maximum: float | None,
) -> None:
    if minimum is not None and value < minimum:
        raise reader.error(name, f"expected at least {_show(minimum)}, got {_show(value)}")
    if maximum is not None and value > maximum:
        raise reader.error(name, f"expected at most {_show(maximum)}, got {_show(value)}")


def _show(value: float) -> str:
    """65536 rather than 65536.0 or 6.5536e+04 in messages."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(value: object) -> str:
    """What a value is, without showing it (for secrets)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _describe(value)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
