"""Typed reads from one TOML table, each failure a `ConfigError` naming file and full key.

Every section parser reads its keys through a `TableReader` and ends with `finish()`, which
rejects keys it did not read: a misspelt key is an error, not a silently ignored setting,
and the error names the known key closest to it ("did you mean window?").

A reader given `problems` (a `ConfigProblems`, shared with the readers of its sub-tables)
records each problem there and goes on with a stand-in value (the default, or an empty or
smallest one), so one pass finds every problem of a file; `load_config` raises them together.
A reader without one raises at the first problem.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from bridge.config.errors import ConfigError, ConfigProblems

T = TypeVar("T")
_MISSING = object()
# Where every key is described, for a typo with no known key close to it.
REFERENCE = "docs/configuration.md"


class TableReader:
    def __init__(self, path: Path, prefix: str, table: Mapping[str, object]) -> None:
        self.path = path
        self.prefix = prefix
        # None: raise at the first problem; else record it there and go on.
        self.problems: ConfigProblems | None = None
        self._table = table
        self._read: set[str] = set()
        # Every key the parser asked about (read, or only tested with `has`): what a
        # misspelt key is compared with.
        self._known: set[str] = set()
        self._label = ""

    def key(self, name: str) -> str:
        """The dotted name of a key, as error messages show it (`accounts[0] (esme1).password`)."""
        return f"{self.prefix}{self._label}.{name}" if self.prefix else name

    def name_as(self, label: str) -> None:
        """Show `label` after the prefix in every key named from now on: an account is found
        by its system_id, not by its place in the file."""
        self._label = f" ({label})"

    def error(self, name: str, expected: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), expected)

    def report(self, name: str, expected: str) -> None:
        """A problem with `name`: raised, or recorded when this reader collects them."""
        self.caught(self.error(name, expected))

    def caught(self, error: ConfigError) -> None:
        """An error a check raised: recorded when this reader collects problems, else raised."""
        if self.problems is None:
            raise error
        self.problems.add(error)

    def failed(self, name: str) -> bool:
        """A problem was recorded for `name` (so a check built on its value would only echo it)."""
        return self.problems is not None and self.problems.failed(self.key(name))

    def has(self, name: str) -> bool:
        self._known.add(name)
        return name in self._table

    def _get(self, name: str, default: object) -> object:
        """The value, else `default`; `_MISSING` (after reporting it) for a required key."""
        self._read.add(name)
        self._known.add(name)
        if name in self._table:
            return self._table[name]
        if default is _MISSING:
            self.report(name, "is required")
        return default

    def _wrong(self, name: str, value: object, expected: str, stand_in: T) -> T:
        """Report a value of the wrong type (a missing one was reported already)."""
        if value is not _MISSING:
            self.report(name, f"expected {expected}, got {_describe(value)}")
        return stand_in

    def string(self, name: str, default: str | object = _MISSING) -> str:
        value = self._get(name, default)
        if isinstance(value, str):
            return value
        return self._wrong(name, value, "a string", default if isinstance(default, str) else "")

    def optional_string(self, name: str) -> str | None:
        value = self._get(name, None)
        if value is None or isinstance(value, str):
            return value
        return self._wrong(name, value, "a string", None)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.string(name, default)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            self.report(name, f"expected one of {allowed}, got {value!r}")
            return default
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
            stand_in = default if isinstance(default, int) else (minimum or 0)
            return self._wrong(name, value, "an integer", stand_in)
        return int(self._in_range(name, value, minimum, maximum))

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
        stand_in = float(default) if isinstance(default, int | float) else float(minimum or 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self._wrong(name, value, "a number", stand_in)
        if not math.isfinite(value):
            self.report(name, "expected a finite number")
            return stand_in
        if above is not None and value <= above:
            self.report(name, f"expected more than {_show(above)}, got {_show(value)}")
            return stand_in
        return float(self._in_range(name, value, minimum, maximum))

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
            self._known.add(name)
            return None
        return self.number(name, minimum=minimum, maximum=maximum, above=above)

    def port(self, name: str, default: int) -> int:
        """A TCP port; 0 asks the operating system for any free one (tests use it)."""
        return self.integer(name, default, minimum=0, maximum=65_535)

    def boolean(self, name: str, default: bool | object = _MISSING) -> bool:
        value = self._get(name, default)
        if isinstance(value, bool):
            return value
        stand_in = default if isinstance(default, bool) else False
        return self._wrong(name, value, "true or false", stand_in)

    def string_list(
        self, name: str, default: list[str] | object = _MISSING, *, non_empty: bool = False
    ) -> list[str]:
        value = self._get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            stand_in = list(default) if isinstance(default, list) else []
            return self._wrong(name, value, "a list of strings", stand_in)
        if non_empty and not value:
            self.report(name, "expected at least one entry")
        return list(value)

    def one_or_more_strings(self, name: str, default: list[str]) -> list[str]:
        """A string or a non-empty list of strings (`host = "::"` or `host = ["0.0.0.0", "::"]`)."""
        value = self._get(name, default)
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return self._wrong(name, value, "a string or a list of strings", list(default))
        if not value:
            self.report(name, "expected at least one entry")
            return list(default)
        return list(value)

    def table(self, name: str) -> TableReader:
        """A sub-table (absent means empty)."""
        value = self._get(name, {})
        if not isinstance(value, dict):
            value = self._wrong(name, value, "a table", {})
        return self._child(self.key(name), value)

    def tables(self, name: str) -> list[TableReader]:
        """An array of tables (`[[accounts]]`); absent means none."""
        value = self._get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return self._wrong(name, value, "an array of tables", [])
        return [self._child(f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)]

    def _child(self, prefix: str, table: Mapping[str, object]) -> TableReader:
        reader = TableReader(self.path, prefix, table)
        reader.problems = self.problems  # one file, one list of problems
        return reader

    def secret(self, name: str, *, required: bool = True) -> str | None:
        """A secret given as `name`, `name_env` (an environment variable) or `name_file`.

        Exactly one of the three may be set, so a committed config can name where the
        secret lives instead of holding it.
        """
        forms = (name, f"{name}_env", f"{name}_file")
        self._known.update(forms)
        given = [k for k in forms if k in self._table]
        if len(given) > 1:
            self._read.update(given)
            self.report(name, f"set only one of {', '.join(given)}")
            return None
        if not given:
            self._read.update(forms)
            if required:
                self.report(name, f"is required (or {name}_env / {name}_file)")
            return None
        which = given[0]
        if which == name:
            value = self._get(name, _MISSING)
            if not isinstance(value, str):
                # Never echo the value: it is the secret, only of the wrong type.
                self.report(name, f"expected a string (in quotes), got {_kind(value)}")
                return None
            return value
        raw = self.string(which)
        if self.failed(which):
            return None
        if which.endswith("_env"):
            env_value = os.environ.get(raw)
            if env_value is None:
                self.report(which, f"environment variable {raw!r} is not set")
            return env_value
        secret_path = Path(raw)
        if not secret_path.is_absolute():
            secret_path = self.path.parent / secret_path
        try:
            # A trailing newline is what editors and `echo` leave; it is never part of it.
            return secret_path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            self.report(which, f"cannot read {secret_path}: {exc.strerror}")
            return None

    def finish(self) -> None:
        """Reject every key this section does not know, each with the known key closest to it."""
        # items(), not [name]: the docs' drift test counts every key looked up as known.
        for name, value in sorted(self._table.items()):
            if name in self._read:
                continue
            section = not self.prefix and (
                isinstance(value, dict)
                or (isinstance(value, list) and bool(value) and isinstance(value[0], dict))
            )
            close = difflib.get_close_matches(name, sorted(self._known), n=1)
            hint = f"did you mean {close[0]}?" if close else f"see {REFERENCE}"
            self.report(name, f"unknown {'section' if section else 'key'} ({hint})")

    def _in_range(
        self, name: str, value: float, minimum: float | None, maximum: float | None
    ) -> float:
        """`value`, or after reporting it out of range the nearest bound."""
        if minimum is not None and value < minimum:
            self.report(name, f"expected at least {_show(minimum)}, got {_show(value)}")
            return minimum
        if maximum is not None and value > maximum:
            self.report(name, f"expected at most {_show(maximum)}, got {_show(value)}")
            return maximum
        return value


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
