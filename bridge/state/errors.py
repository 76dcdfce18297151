"""What can go wrong with the store, said so that the caller knows what to answer.

- `StateUnavailable`: an operation could not be committed (the disk is full, a disk error, the
  database is locked past its timeout, Redis is unreachable). Nothing of that operation was
  kept; the caller answers with a temporary error and does not act on it.
- `StateFileError`: the store cannot be opened at all (a file where a folder should be, no
  permission, a corrupt file, a file another running bridge holds). Raised at open only, with
  the path and the reason in words an operator can act on.
"""

from __future__ import annotations


class StateError(Exception):
    """Base of every error the state layer raises."""


class StateUnavailable(StateError):
    """The store cannot commit now; nothing of the failed operation was kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StateFileError(StateError):
    """The store's file (or server) cannot be used: raised when opening it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
