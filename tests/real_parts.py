"""Real parts the tests need: programs they start (Prometheus, redis-server, HAProxy,
podman...) and the real-world PDUs other projects captured.

A test that needs a program calls `program(name, package)`: on a developer machine without
it the test is skipped, saying which Debian package brings it; under CI (CI=true) a missing
program fails the test, so nothing the suite claims to prove can silently turn into a skip.
scripts/ci-deps installs them in CI. The same holds for the shared vectors
(`require_vectors(name)`): ../shared/vectors beside the repository, read in place and never
copied into it, or the folder the ISMS_BRIDGE_VECTORS environment variable names.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

UNDER_CI = os.environ.get("CI") == "true"
SHARED_VECTORS = Path(
    os.environ.get(
        "ISMS_BRIDGE_VECTORS", Path(__file__).resolve().parents[2] / "shared" / "vectors"
    )
)


def missing(reason: str) -> None:
    """Skip the test for `reason`, or fail it under CI, where everything must be there."""
    if UNDER_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def program(name: str, package: str) -> str:
    """The path of `name`; skips (fails under CI) when it is not on PATH."""
    path = shutil.which(name)
    if path is None:
        missing(
            f"{name} is not on PATH: Debian's {package} package "
            "(scripts/test installs it in CI or when run as root: scripts/ci-deps)"
        )
        raise AssertionError("unreachable")  # pytest.skip/fail raise
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the kernel picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def shared_vectors(name: str) -> list[dict[str, Any]]:
    """The records of the shared vector file `name`; [] when it is absent."""
    path = SHARED_VECTORS / name
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


def vectors_absent(name: str) -> None:
    """Skip the test for want of the shared vector file `name` (fail it under CI)."""
    missing(
        f"{SHARED_VECTORS / name} is absent: the real-world vectors live in ../shared/vectors "
        "beside the repository (or set ISMS_BRIDGE_VECTORS to their folder)"
    )


def require_vectors(name: str) -> list[dict[str, Any]]:
    """The records of the shared vector file `name`; skips (fails under CI) when absent."""
    records = shared_vectors(name)
    if not records:
        vectors_absent(name)
    return records
