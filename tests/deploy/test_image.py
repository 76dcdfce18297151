"""The image, built with Debian's podman and run: the sandbox and bridge containers, an ESME.

The bridge container runs as the image ships it (ENTRYPOINT, CMD, HEALTHCHECK, USER) with a
read-only root, its config mounted read-only, the secrets in its environment and a named
volume at /var/lib/isms-bridge. Its config moves the metrics port off 9102, so the
HEALTHCHECK passing shows it follows the config. image_rig.py says what this machine needs.
Skipped, saying why, without podman; under CI=true that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import smpplib.client
import smpplib.smpp
from real_parts import free_port

from .image_rig import (
    BUILD_STAGE,
    IMAGE,
    LABEL,
    SUITE,
    Podman,
    build,
    ensure_base,
    http_get,
    podman,
    remove_leftovers,
    storage_lock,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1200)]

STATE_DIR = "/var/lib/isms-bridge"
CONFIG_IN_IMAGE = "/etc/isms-bridge/bridge.toml"
SHUTDOWN_TIMEOUT_S = 10
GRACE_S = SHUTDOWN_TIMEOUT_S + 10  # `podman stop --time`: SIGTERM, then SIGKILL after this
SLOW_DESTINATION = "60000009030"  # the sandbox answers 3 s later (README, "The sandbox")
ENV = {"ESME1_SMPP_PASSWORD": "secret1", "ISMS_PASSWORD": "isms123"}
NOT_IN_THE_IMAGE = ("gcc", "cc", "make", "pip", "pip3")

CONFIG = """\
[smpp]
host = "127.0.0.1"
port = {smpp_port}
shutdown_timeout_s = {shutdown_timeout_s}

[isms]
api = "http"
endpoints = ["http://127.0.0.1:{sandbox_port}/isms_send_all_id.php"]
timeout_s = 10

[metrics]
host = "127.0.0.1"
port = {metrics_port}

[[accounts]]
system_id = "esme1"
password_env = "ESME1_SMPP_PASSWORD"
isms_username = "isms"
isms_password_env = "ISMS_PASSWORD"
"""


@dataclass
class Built:
    podman: Podman
    base: str
    base_s: float
    build_s: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def name(self, role: str) -> str:
        return f"isms-bridge-test-{role}-{self.run_id}"

    def run(self, name: str, *args: str) -> str:
        self.containers.append(name)
        self.podman("run", "--detach", "--name", name, "--label", LABEL, "--network", "host", *args)
        return name

    def logs(self, name: str) -> str:
        found = self.podman("logs", name, check=False)
        return found.stdout + found.stderr


@dataclass(frozen=True)
class BridgeContainer:
    name: str
    smpp_port: int
    metrics_port: int
    volume: str


@dataclass(frozen=True)
class Deployment:
    built: Built
    sandbox_port: int
    bridge: BridgeContainer

    def sandbox_messages(self) -> list[dict[str, object]]:
        url = f"http://127.0.0.1:{self.sandbox_port}/messages.json"
        messages = json.loads(http_get(url))["messages"]
        assert isinstance(messages, list)
        return messages


def wait_until(
    what: str, check: Callable[[], bool], logs: Callable[[], str], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:g} s; the container said:\n{logs()}")
        time.sleep(0.2)


def answers_http(url: str) -> bool:
    try:
        http_get(url)
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    scratch = tmp_path_factory.mktemp("podman")
    engine = podman(scratch)
    with storage_lock():
        remove_leftovers(engine)
        base, base_s = ensure_base(engine, scratch)
        found = Built(podman=engine, base=base, base_s=base_s, build_s=build(engine, base))
        try:
            yield found
        finally:
            for name in reversed(found.containers):
                engine("rm", "--force", "--volumes", name, check=False)
            for volume in found.volumes:
                engine("volume", "rm", "--force", volume, check=False)


def start_bridge(built: Built, sandbox_port: int, tmp_path: Path, role: str) -> BridgeContainer:
    smpp_port, metrics_port = free_port(), free_port()
    config = tmp_path / f"{role}.toml"
    config.write_text(
        CONFIG.format(
            smpp_port=smpp_port,
            metrics_port=metrics_port,
            sandbox_port=sandbox_port,
            shutdown_timeout_s=SHUTDOWN_TIMEOUT_S,
        ),
        encoding="utf-8",
    )
    config.chmod(0o644)  # the container's unprivileged user reads it
    volume = built.name(f"{role}-state")
    built.volumes.append(volume)
    built.podman("volume", "create", "--label", LABEL, volume)
    environment = [arg for key, value in ENV.items() for arg in ("--env", f"{key}={value}")]
    name = built.run(
        built.name(role),
        "--read-only",
        "--volume",
        f"{volume}:{STATE_DIR}",
        "--volume",
        f"{config}:{CONFIG_IN_IMAGE}:ro",
        *environment,
        IMAGE,
    )
    wait_until(
        "the bridge listening",
        lambda: "event=started" in built.logs(name),
        lambda: built.logs(name),
    )
    return BridgeContainer(name=name, smpp_port=smpp_port, metrics_port=metrics_port, volume=volume)


@pytest.fixture(scope="module")
def deployment(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    sandbox_port = free_port()
    sandbox = built.run(
        built.name("sandbox"), IMAGE, "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)
    )
    wait_until(
        "the sandbox answering",
        lambda: answers_http(f"http://127.0.0.1:{sandbox_port}/messages.json"),
        lambda: built.logs(sandbox),
    )
    bridge = start_bridge(built, sandbox_port, tmp_path_factory.mktemp("bridge"), "bridge")
    return Deployment(built=built, sandbox_port=sandbox_port, bridge=bridge)


def esme(port: int) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=15, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transceiver(system_id="esme1", password="secret1")
    return client


def in_container(deployment: Deployment, *command: str) -> subprocess.CompletedProcess[str]:
    return deployment.built.podman("exec", deployment.bridge.name, *command, check=False)


# --- the image ------------------------------------------------------------------------------


def test_the_image_builds_on_the_local_base_and_its_size_is_printed(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    image, base, stage = (built.podman.size(name) for name in (IMAGE, built.base, BUILD_STAGE))
    venv = built.podman(
        "run", "--rm", "--network", "host", "--entrypoint", "du", IMAGE, "-sk", "/opt/isms-bridge"
    )
    venv_kib = int(venv.stdout.split()[0])
    with capsys.disabled():
        print(
            f"\n[image] {IMAGE}: {image / 1e6:.0f} MB = base {base / 1e6:.0f} MB "
            f"(Debian {SUITE} minbase + python3) + /opt/isms-bridge "
            f"{venv_kib / 1024:.0f} MiB; build stage {stage / 1e6:.0f} MB (not shipped); "
            f"base made in {built.base_s:.0f} s (0: cached), image built in {built.build_s:.0f} s"
        )
    assert base < image < base + 100e6  # the bridge and its wheels, not a second base


def test_the_final_image_has_no_compiler_and_no_installer(built: Built) -> None:
    script = " ; ".join(f"command -v {tool}" for tool in NOT_IN_THE_IMAGE)
    found = built.podman(
        "run", "--rm", "--network", "host", "--entrypoint", "sh", IMAGE, "-c", script, check=False
    )
    assert found.stdout.split() == []


# --- the bridge container -------------------------------------------------------------------


def test_a_message_submitted_to_the_bridge_container_reaches_the_sandbox_container(
    deployment: Deployment,
) -> None:
    client = esme(deployment.bridge.smpp_port)
    answers: list[tuple[int, int, bytes]] = []
    client.set_message_sent_handler(
        lambda pdu: answers.append((pdu.sequence, pdu.status, pdu.message_id))
    )
    text = f"hello from container {deployment.built.run_id}"
    try:
        sent = client.send_message(
            source_addr="ACME", destination_addr="60123456789", short_message=text.encode()
        )
        client.read_once()
    finally:
        client.unbind()
        client.disconnect()
    [(sequence, status, message_id)] = answers
    assert (sequence, status) == (sent.sequence, 0)
    [received] = [m for m in deployment.sandbox_messages() if m["text"] == text]
    assert received["destinations"] == ["60123456789"]
    assert received["trx_id"] == message_id.decode()


def test_the_images_healthcheck_passes_on_the_port_the_config_moved_it_to(
    deployment: Deployment,
) -> None:
    built, bridge = deployment.built, deployment.bridge
    assert bridge.metrics_port != 9102
    run = built.podman("healthcheck", "run", bridge.name, check=False)
    assert run.returncode == 0, run.stdout + run.stderr + built.logs(bridge.name)
    health = built.podman.inspect(bridge.name)["State"]
    assert isinstance(health, dict)
    last = health["Health"]["Log"][-1]
    assert last["ExitCode"] == 0
    assert last["Output"].strip() == (
        f"healthy: http://127.0.0.1:{bridge.metrics_port}/healthz answered 200 ok"
    )


def test_the_bridge_process_does_not_run_as_root(deployment: Deployment) -> None:
    status = in_container(deployment, "cat", "/proc/1/status")
    assert status.returncode == 0, status.stderr
    uids = re.search(r"^Uid:\s+(.*)$", status.stdout, re.MULTILINE)
    gids = re.search(r"^Gid:\s+(.*)$", status.stdout, re.MULTILINE)
    assert uids is not None and gids is not None
    assert uids.group(1).split() == ["10001"] * 4  # real, effective, saved, filesystem
    assert gids.group(1).split() == ["10001"] * 4
    command = in_container(deployment, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert command[1:4] == ["/opt/isms-bridge/bin/isms-bridge", "serve", "--config"]


def test_the_bridge_runs_on_a_read_only_root(deployment: Deployment) -> None:
    container = deployment.built.podman.inspect(deployment.bridge.name)
    host_config = container["HostConfig"]
    assert isinstance(host_config, dict) and host_config["ReadonlyRootfs"] is True
    for path in ("/opt/isms-bridge/written", "/etc/isms-bridge/written", "/written"):
        write = in_container(deployment, "python", "-c", f"open({path!r}, 'w')")
        assert write.returncode != 0
        assert "Read-only file system" in write.stderr


def test_the_state_volume_is_mounted_and_writable_by_the_bridge_user(
    deployment: Deployment,
) -> None:
    container = deployment.built.podman.inspect(deployment.bridge.name)
    mounts = container["Mounts"]
    assert isinstance(mounts, list)
    [state] = [m for m in mounts if m["Destination"] == STATE_DIR]
    assert state["Type"] == "volume" and state["Name"] == deployment.bridge.volume
    assert state["RW"] is True
    probe = f"{STATE_DIR}/written-by-the-test"
    check = (
        f"import os; open({probe!r}, 'w').write('x'); s = os.stat({STATE_DIR!r}); "
        "print(s.st_uid, s.st_gid, oct(s.st_mode & 0o777))"
    )
    written = in_container(deployment, "python", "-c", check)
    assert written.returncode == 0, written.stderr
    assert written.stdout.split() == ["10001", "10001", "0o750"]


def test_podman_stop_answers_the_submit_in_flight_and_exits_0_within_the_grace_period(
    deployment: Deployment, tmp_path: Path
) -> None:
    built = deployment.built
    bridge = start_bridge(built, deployment.sandbox_port, tmp_path, "stopped")
    client = esme(bridge.smpp_port)
    answers: list[tuple[int, int, bytes]] = []
    client.set_message_sent_handler(
        lambda pdu: answers.append((pdu.sequence, pdu.status, pdu.message_id))
    )
    text = f"in flight {built.run_id}"
    sent = client.send_message(
        source_addr="ACME", destination_addr=SLOW_DESTINATION, short_message=text.encode()
    )
    # The sandbox lists a message when it takes it, before its slow reply.
    wait_until(
        "the sandbox holding the submit",
        lambda: any(m["text"] == text for m in deployment.sandbox_messages()),
        lambda: built.logs(bridge.name),
        timeout=10,
    )
    started = time.monotonic()
    stop = threading.Thread(
        target=lambda: built.podman("stop", "--time", str(GRACE_S), bridge.name, timeout=60)
    )
    stop.start()
    try:
        client.read_once()  # the answer to the submit in flight
        unbind = client.read_pdu()  # then the bridge unbinds; answer it as an ESME should
        assert unbind.command == "unbind"
        client.send_pdu(
            smpplib.smpp.make_pdu("unbind_resp", client=client, sequence=unbind.sequence)
        )
    finally:
        stop.join(GRACE_S + 30)
        client_close(client)
    took = time.monotonic() - started
    assert answers == [(sent.sequence, 0, answers[0][2])] and answers[0][2]
    state = built.podman.inspect(bridge.name)["State"]
    assert isinstance(state, dict)
    assert (state["Status"], state["ExitCode"]) == ("exited", 0), built.logs(bridge.name)
    assert took < GRACE_S, f"the stop took {took:.1f} s, past the {GRACE_S} s grace period"
    log = built.logs(bridge.name)
    assert "action=graceful_stop" in log and "event=shutdown_done" in log


def client_close(client: smpplib.client.Client) -> None:
    with contextlib.suppress(OSError):  # the bridge may have closed first
        client.disconnect()
