"""Config errors name the file, the key and what was expected; one error can carry them all."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class ConfigError(Exception):
    """`path: key: expected`; `key` is "" for faults of the whole file (unreadable, not TOML).

    `problems` holds every problem found (this error alone, unless it was made by `of`): a
    file is checked whole, so an operator fixes three missing secrets in one run, not three.
    """

    def __init__(self, path: Path | str, key: str, expected: str) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self.problems: tuple[ConfigError, ...] = (self,)
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {expected}")

    @classmethod
    def of(cls, problems: Sequence[ConfigError]) -> ConfigError:
        """One error for all `problems` (at least one): the first's path, key and expected,
        and as its text one line per problem. A single problem is returned as it is."""
        first = problems[0]
        if len(problems) == 1:
            return first
        error = cls(first.path, first.key, first.expected)
        error.problems = tuple(problems)
        error.args = ("\n".join(str(problem) for problem in problems),)
        return error


class ConfigProblems:
    """The problems found in one file so far, in the order found, at most one per key.

    Parsing goes on after a bad value with a stand-in, so a later check of the same key (a
    length check after a missing value, say) would only repeat the first problem: the first
    one per key is kept.
    """

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[str, ConfigError] = {}

    def add(self, error: ConfigError) -> None:
        for problem in error.problems:
            self._found.setdefault(problem.key, problem)

    def failed(self, key: str) -> bool:
        return key in self._found

    def failed_under(self, prefix: str) -> bool:
        """A problem with the key `prefix` or any key inside it (`smpp` covers `smpp.tls.port`)."""
        return any(key == prefix or key.startswith(f"{prefix}.") for key in self._found)

    def __len__(self) -> int:
        return len(self._found)

    def raise_if_any(self) -> None:
        if self._found:
            raise ConfigError.of(list(self._found.values()))
