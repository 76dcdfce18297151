"""The image's own install and entrypoint commands, run in a fresh virtual environment.

test_image.py builds and runs the image itself with podman; this replays what `docker build`
and `docker run` do without a container engine, so it also runs where none is: copy what the
build stage COPYs into an empty context, run the build stage's RUN line there (with
/opt/isms-bridge pointing into a temporary folder), then run ENTRYPOINT with `--version` and
`check-config` on the config docker-compose.yml mounts, and the CMD with its HEALTHCHECK.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge import __version__

from .deploy_files import ROOT, stages

pytestmark = pytest.mark.slow

VENV_IN_IMAGE = "/opt/isms-bridge"
COMPOSE_CONFIG = ROOT / "configs" / "compose.toml"
COMPOSE_ENV = {"ESME1_SMPP_PASSWORD": "secret1", "ISMS_PASSWORD": "isms123"}


def build_context(into: Path) -> None:
    """What the build stage's COPY lines copy, and nothing else."""
    for instruction in stages()[0]:
        if instruction.keyword != "COPY":
            continue
        *sources, _target = instruction.arguments.split()
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, into / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, into / source)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's virtual environment, built by the Dockerfile's own RUN line."""
    base = tmp_path_factory.mktemp("image")
    context, venv = base / "src", base / "venv"
    context.mkdir()
    build_context(context)
    (run,) = [i.arguments for i in stages()[0] if i.keyword == "RUN"]
    command = run.replace(VENV_IN_IMAGE, str(venv))
    # The image's `python` is the base image's interpreter; here it is the one running us.
    command = re.sub(r"^python ", f"{sys.executable} ", command)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
    subprocess.run(
        command,
        shell=True,
        cwd=context,
        env=env,
        check=True,
        timeout=240,
        capture_output=True,
    )
    return venv


def entrypoint(
    venv: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    final = stages()[1]
    (entry,) = [i.exec_form() for i in final if i.keyword == "ENTRYPOINT"]
    # The image puts the virtual environment first on PATH (ENV PATH=...).
    path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [shutil.which(entry[0], path=path) or entry[0], *entry[1:], *args],
        env={"PATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_installed_entrypoint_reports_the_package_version(installed: Path) -> None:
    run = entrypoint(installed, "--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"isms-bridge {__version__}"


def test_the_installed_entrypoint_accepts_the_config_compose_mounts(installed: Path) -> None:
    run = entrypoint(installed, "check-config", str(COMPOSE_CONFIG), env=COMPOSE_ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK" in run.stdout


def test_the_installed_entrypoint_names_a_missing_secret(installed: Path) -> None:
    run = entrypoint(installed, "check-config", str(COMPOSE_CONFIG), env={})
    assert run.returncode != 0
    assert "ESME1_SMPP_PASSWORD" in run.stdout + run.stderr


def test_the_installed_command_serves_and_passes_the_images_healthcheck(
    installed: Path, tmp_path: Path
) -> None:
    final = stages()[1]
    (cmd,) = [i.exec_form() for i in final if i.keyword == "CMD"]
    (healthcheck,) = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    probe = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    smpp_port, metrics_port = free_port(), free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(
        COMPOSE_CONFIG.read_text(encoding="utf-8")
        .replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
        .replace("port = 2775", f"port = {smpp_port}")
        .replace("port = 9102", f"port = {metrics_port}")
        .replace("sandbox:8480", "127.0.0.1:9"),
        encoding="utf-8",
    )
    args = [config.as_posix() if arg == cmd[-1] else arg for arg in cmd]
    path = f"{installed / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"PATH": path, **COMPOSE_ENV}
    bridge = subprocess.Popen(
        [str(installed / "bin" / "isms-bridge"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # The probe reads the served config: the image's path is the test's file here.
        check = [config.as_posix() if arg == cmd[-1] else arg for arg in probe]
        assert check != probe
        deadline = time.monotonic() + 20
        while subprocess.run(check, env=env, capture_output=True, check=False).returncode:
            assert bridge.poll() is None, bridge.communicate()[0].decode()
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.2)
        bridge.send_signal(signal.SIGTERM)
        output = bridge.communicate(timeout=20)[0].decode()
        assert bridge.returncode == 0, output
        assert "event=metrics_listening" in output
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
