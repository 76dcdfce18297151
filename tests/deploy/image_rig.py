"""Debian's podman on this machine: a private storage, a base image made locally, the build.

What the machine needs, found by trying it:
- No registry serves base images here, so the base is made locally: `debootstrap
  --variant=minbase --include=python3,python3-venv,ca-certificates bookworm ROOT` from the
  Debian mirror apt is configured with (about 75-85 s), `python` linked to `python3`, the
  machine's CA bundle copied in (pip in the build reaches PyPI through this network with it),
  apt's downloads, lists, docs, man pages and locales left out (as the slim images do), then
  `tar -C ROOT -c . | podman import - NAME`. The Dockerfile gets it as `--build-arg
  PYTHON_IMAGE=NAME` and keeps python:3.12-slim-bookworm as its default.
- podman 4.3 works with `--storage-driver vfs`; builds need `--isolation chroot --network
  host` and `--format docker` (the OCI format drops HEALTHCHECK); running needs runc (crun
  fails on this machine's hybrid cgroups) and a containers.conf without podman's default
  ulimits (they exceed the hard limits here), no pids limit, and the cgroupfs manager.
- Containers use the host's network, on free loopback ports.

Everything lives in a storage of its own under the user's cache folder (`--root`,
`--runroot`), so no other podman user is disturbed, and a lock file lets one test run at a
time use it. (podman 4.3 as root also keeps a small blob-info cache, about 128 KiB, in
/var/lib/containers/cache whatever `--root` says; it has no option that moves it.) The base
is made once per recipe (its name carries a hash of the recipe and the CA bundle); the build
stage and the image keep fixed tags there, so an unchanged tree builds from cache, and older
untagged images are pruned after each build so the storage stays small.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from real_parts import missing, program

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isms-bridge-tests"
STORAGE = CACHE / "podman"

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What the base leaves out of a debootstrap tree (the slim images leave out the same).
BASE_STRIPPED = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)
FALLBACK_MIRROR = "http://deb.debian.org/debian"

IMAGE = "localhost/isms-bridge-test:latest"
BUILD_STAGE = "localhost/isms-bridge-test-build:latest"
LABEL = "isms-bridge-test"

CONTAINERS_CONF = """\
[containers]
default_ulimits = []
pids_limit = 0
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
tmp_dir = "{tmp_dir}"
"""


class PodmanError(AssertionError):
    pass


@dataclass(frozen=True)
class Podman:
    """`podman` with the private storage and the test's containers.conf."""

    executable: str
    conf: Path

    def argv(self, *args: str) -> list[str]:
        return [
            self.executable,
            "--root",
            str(STORAGE / "storage"),
            "--runroot",
            str(STORAGE / "run"),
            "--storage-driver",
            "vfs",
            *args,
        ]

    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            self.argv(*args),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and run.returncode != 0:
            raise PodmanError(
                f"podman {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
            )
        return run

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0

    def size(self, image: str) -> int:
        return int(self("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())

    def inspect(self, container: str) -> dict[str, object]:
        (found,) = json.loads(self("container", "inspect", container).stdout)
        assert isinstance(found, dict)
        return found


def podman(conf_dir: Path) -> Podman:
    """The podman this machine has, with containers.conf written into `conf_dir`."""
    executable = program("podman", "podman")
    program("runc", "runc")
    (STORAGE / "tmp").mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "containers.conf"
    conf.write_text(CONTAINERS_CONF.format(tmp_dir=STORAGE / "tmp"), encoding="utf-8")
    return Podman(executable=executable, conf=conf)


@contextmanager
def storage_lock() -> Iterator[None]:
    """One test run at a time in the shared storage (two worktrees may run the suite)."""
    STORAGE.mkdir(parents=True, exist_ok=True)
    with (STORAGE / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def debian_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The mirror apt is configured with for the suite (deb822 .sources or one-line .list)."""
    files = [
        *sorted(sources.glob("sources.list.d/*.sources")),
        sources / "sources.list",
        *sorted(sources.glob("sources.list.d/*.list")),
    ]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found = _deb822_mirror(text) if path.suffix == ".sources" else _one_line_mirror(text)
        if found is not None:
            return found
    return FALLBACK_MIRROR


def _deb822_mirror(text: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and SUITE in fields.get("suites", "").split():
            uris = fields.get("uris", "").split()
            if uris:
                return uris[0]
    return None


def _one_line_mirror(text: str) -> str | None:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] != ["deb"]:
            continue
        words = [w for w in words[1:] if not w.startswith("[")]  # "[arch=amd64]" options
        if len(words) >= 2 and words[1] == SUITE:
            return words[0]
    return None


def base_name(mirror: str) -> str:
    recipe = hashlib.sha256()
    recipe.update(f"{SUITE} minbase {','.join(BASE_PACKAGES)} {mirror}".encode())
    recipe.update(" ".join(BASE_STRIPPED).encode())
    recipe.update(CA_BUNDLE.read_bytes())
    return f"localhost/isms-bridge-test-base:{recipe.hexdigest()[:16]}"


def ensure_base(podman: Podman, scratch: Path) -> tuple[str, float]:
    """The local base image, made unless it exists; its name and the seconds making it took."""
    if not CA_BUNDLE.is_file():
        missing(f"{CA_BUNDLE} is missing (Debian's ca-certificates package)")
    mirror = debian_mirror()
    name = base_name(mirror)
    if podman.exists(name):
        return name, 0.0
    debootstrap = program("debootstrap", "debootstrap")
    if os.geteuid() != 0:
        missing("making the base image with debootstrap needs root")
    started = time.monotonic()
    tree = scratch / "base-root"
    subprocess.run(
        [
            debootstrap,
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            SUITE,
            str(tree),
            mirror,
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    (tree / "usr/bin/python").symlink_to("python3")
    shutil.copyfile(CA_BUNDLE, tree / CA_BUNDLE.relative_to("/"))
    for stripped in BASE_STRIPPED:
        for entry in (tree / stripped).glob("*"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    tar = subprocess.Popen(["tar", "-C", str(tree), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        podman.argv("import", "-", name),
        stdin=tar.stdout,
        env=podman.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tar.stdout is not None
    tar.stdout.close()
    assert tar.wait(60) == 0, "tar of the debootstrap tree failed"
    if imported.returncode != 0:
        raise PodmanError(f"podman import failed:\n{imported.stderr}")
    shutil.rmtree(tree)
    return name, time.monotonic() - started


def build(podman: Podman, base: str) -> float:
    """Build the build stage and the image (fixed tags), prune older ones; seconds taken."""
    started = time.monotonic()
    common = (
        "--isolation",
        "chroot",
        "--network",
        "host",
        "--format",
        "docker",
        "--build-arg",
        f"PYTHON_IMAGE={base}",
        "--file",
        str(ROOT / "Dockerfile"),
    )
    # Tagged on its own so that the prune below keeps it: the image does not derive from it.
    podman("build", *common, "--target", "build", "--tag", BUILD_STAGE, str(ROOT), timeout=900)
    podman("build", *common, "--tag", IMAGE, str(ROOT), timeout=900)
    podman("image", "prune", "--force", timeout=300)
    return time.monotonic() - started


def remove_leftovers(podman: Podman) -> None:
    """Containers and volumes an interrupted earlier run left in the private storage."""
    names = podman("ps", "--all", "--filter", f"label={LABEL}", "--format", "{{.Names}}")
    for name in names.stdout.split():
        podman("rm", "--force", "--volumes", name, check=False)
    volumes = podman("volume", "ls", "--filter", f"label={LABEL}", "--format", "{{.Name}}")
    for volume in volumes.stdout.split():
        podman("volume", "rm", "--force", volume, check=False)


def http_get(url: str, timeout: float = 2.0) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body
