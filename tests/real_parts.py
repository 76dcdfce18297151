"""Real programs the tests start (Prometheus, redis-server, HAProxy, podman...).

A test that needs one calls `program(name, package)`: on a developer machine without it the
test is skipped, saying which Debian package brings it; under CI (CI=true) a missing program
fails the test, so nothing the suite claims to prove can silently turn into a skip.
scripts/ci-deps installs them in CI.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

UNDER_CI = os.environ.get("CI") == "true"


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
