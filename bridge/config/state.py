"""`[state]`: where the bridge keeps what its answers oblige it to do (all keys optional).

    [state]
    backend = "sqlite"            # "sqlite" (default) | "memory" | "redis"
    path = "state.sqlite3"        # sqlite: the file; relative to $STATE_DIRECTORY when set
                                  # (systemd's StateDirectory=, the image's ENV), else to
                                  # this config file's folder
    fsync = "normal"              # sqlite: "normal" survives a crash, "full" a power loss too
    record_text = false           # keep each message's text in its record (off: never stored)
    max_file_mb = 2048            # sqlite: cap the file; past it submits get ESME_RSYSERR
    max_wal_mb = 256              # sqlite: cap its write-ahead log the same way (it grows
                                  # while a reader holds a snapshot)
    redis_url = "rediss://redis.internal:6380/0"   # redis only
    redis_password_env = "REDIS_PASSWORD"         # or redis_password / redis_password_file
    key_prefix = "isms-bridge:"                    # redis only: every key starts with it
    redis_allow_eviction = false                   # redis only: accept a maxmemory-policy
                                                   # other than noeviction (managed Redis)
    redis_sentinels = ["10.0.0.1:26379", "10.0.0.2:26379"]  # redis only, with redis_service:
    redis_service = "mymaster"                     # the primary is found through Sentinel;
                                                   # redis_url is then optional and gives only
                                                   # TLS (rediss://) and the db ("redis:///2")

README "Durability" explains each key. Only `bridge.app` turns this into a backend.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

from bridge.config.reader import TableReader

Backend = Literal["sqlite", "memory", "redis"]
Fsync = Literal["normal", "full"]

DEFAULT_STATE_FILE = "state.sqlite3"
DEFAULT_KEY_PREFIX = "isms-bridge:"
_REDIS_ONLY = (
    "redis_url",
    "redis_password",
    "redis_password_env",
    "redis_password_file",
    "redis_allow_eviction",
    "redis_sentinels",
    "redis_service",
)
_MAX_PREFIX = 64
DEFAULT_MAX_WAL_MB = 256
# Below this the WAL's ordinary cycle (a checkpoint every 1,000 pages, ~4 MiB) would need the
# bound's own checkpoint at every few commits.
MIN_MAX_WAL_MB = 8
_DB = re.compile(r"/?|/[0-9]{1,5}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisConfig:
    url: str
    # The password travels apart from the URL, so the URL can be logged and shown.
    password: str | None = field(default=None, repr=False)
    key_prefix: str = DEFAULT_KEY_PREFIX
    # A Redis whose maxmemory-policy may evict keys is refused at start unless this is set.
    allow_eviction: bool = False
    # With Sentinel: the sentinels (host, port) and the service; `url` then gives only the
    # scheme (rediss:// = TLS to the primary) and the db number, never the address.
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateConfig:
    backend: Backend = "sqlite"
    path: Path = Path(DEFAULT_STATE_FILE)
    fsync: Fsync = "normal"
    record_text: bool = False
    max_file_mb: int | None = None  # sqlite only; None = as the disk allows
    max_wal_mb: int = DEFAULT_MAX_WAL_MB  # sqlite only
    redis: RedisConfig | None = None


def state_folder(config_path: Path, environment: Mapping[str, str]) -> Path:
    """Where a relative `path` lives: systemd's $STATE_DIRECTORY (set by `StateDirectory=`,
    and by the container image for its /var/lib/isms-bridge volume; the first of several),
    else the config file's folder."""
    given = environment.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(given) if given else config_path.parent


def parse_state_section(
    reader: TableReader, environment: Mapping[str, str] | None = None
) -> StateConfig:
    backend = cast(Backend, reader.choice("backend", ("sqlite", "memory", "redis"), "sqlite"))
    raw_path = reader.string("path", DEFAULT_STATE_FILE)
    if not raw_path or raw_path.endswith(("/", "\\")):
        reader.report("path", f"expected a file path, got {raw_path!r}")
        raw_path = DEFAULT_STATE_FILE
    path = Path(raw_path)
    if not path.is_absolute():
        folder = state_folder(reader.path, os.environ if environment is None else environment)
        path = folder / path
    fsync = cast(Fsync, reader.choice("fsync", ("normal", "full"), "normal"))
    record_text = reader.boolean("record_text", False)
    max_file_mb: int | None = None
    if reader.has("max_file_mb"):
        if backend != "sqlite":
            reader.report("max_file_mb", f'applies to backend = "sqlite" only, not {backend!r}')
        else:
            max_file_mb = reader.integer("max_file_mb", minimum=1, maximum=1 << 20)
    max_wal_mb = DEFAULT_MAX_WAL_MB
    if reader.has("max_wal_mb"):
        if backend != "sqlite":
            reader.report("max_wal_mb", f'applies to backend = "sqlite" only, not {backend!r}')
        else:
            max_wal_mb = reader.integer("max_wal_mb", minimum=MIN_MAX_WAL_MB, maximum=1 << 20)
    redis: RedisConfig | None = None
    if backend == "redis":
        redis = _redis(reader)
    else:
        for name in (*_REDIS_ONLY, "key_prefix"):
            if reader.has(name):
                reader.report(name, f'applies to backend = "redis" only, not {backend!r}')
    config = StateConfig(
        backend=backend,
        path=path,
        fsync=fsync,
        record_text=record_text,
        max_file_mb=max_file_mb,
        max_wal_mb=max_wal_mb,
        redis=redis,
    )
    reader.finish()
    return config


def _redis(reader: TableReader) -> RedisConfig:
    sentinels, service = _sentinels(reader)
    url = _redis_url(reader, service)
    password = reader.secret("redis_password", required=False)
    prefix = reader.string("key_prefix", DEFAULT_KEY_PREFIX)
    if not 0 < len(prefix) <= _MAX_PREFIX or not prefix.isprintable() or " " in prefix:
        reader.report("key_prefix", f"expected 1-{_MAX_PREFIX} printable characters without spaces")
    allow_eviction = reader.boolean("redis_allow_eviction", False)
    return RedisConfig(
        url=url,
        password=password,
        key_prefix=prefix,
        allow_eviction=allow_eviction,
        sentinels=sentinels,
        service=service,
    )


def _redis_url(reader: TableReader, service: str | None) -> str:
    if not reader.has("redis_url"):
        if service is None:
            reader.report("redis_url", 'is required with backend = "redis"')
        return "redis:///0"
    url = reader.string("redis_url")
    if reader.failed("redis_url"):
        return url
    # A URL with user info may hold a password: never echo it.
    shown = repr(url) if "@" not in url else "a URL with user info (not shown)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        reader.report("redis_url", f"expected a redis:// or rediss:// URL, got {shown}")
        return url
    if parts.scheme not in ("redis", "rediss") or (not parts.hostname and service is None):
        reader.report("redis_url", f"expected a redis:// or rediss:// URL, got {shown}")
    elif parts.password is not None:
        # Never echo it: the URL holds a secret.
        reader.report(
            "redis_url",
            "holds a password: give it as redis_password_env or redis_password_file instead",
        )
    elif service is not None and not reader.failed("redis_service"):
        _check_sentinel_url(reader, parts.hostname, parts.port, parts.path, service, shown)
    return url


def _sentinels(reader: TableReader) -> tuple[tuple[tuple[str, int], ...], str | None]:
    """`redis_sentinels` and `redis_service`: both or neither."""
    has_list, has_service = reader.has("redis_sentinels"), reader.has("redis_service")
    if not has_list and not has_service:
        return (), None
    # Both read even when one is missing, so the other is not reported as unknown as well.
    service = reader.string("redis_service") if has_service else None
    entries = reader.string_list("redis_sentinels", non_empty=True) if has_list else []
    if service is None:
        reader.report("redis_service", 'is required with redis_sentinels (e.g. "mymaster")')
        return (), None
    if not has_list:
        reader.report("redis_sentinels", 'is required with redis_service (e.g. ["10.0.0.1:26379"])')
        return (), None
    if not service or not service.isprintable() or " " in service:
        reader.report("redis_service", f"expected a Sentinel service name, got {service!r}")
    found: list[tuple[str, int]] = []
    for entry in entries:
        host, _, port = entry.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            reader.report("redis_sentinels", f'expected "host:port" entries, got {entry!r}')
        elif (host, int(port)) in found:
            reader.report("redis_sentinels", f"{entry!r} is listed twice")
        else:
            found.append((host, int(port)))
    return tuple(found), service


def _check_sentinel_url(
    reader: TableReader, host: str | None, port: int | None, path: str, service: str, shown: str
) -> None:
    """With Sentinel the URL gives no address: none, or the service's name, and no port."""
    if (host is not None and host != service.lower()) or port is not None:
        reader.report(
            "redis_url",
            f"with redis_sentinels the primary's address comes from Sentinel: give only the "
            f'scheme and the db ("redis:///0", or "redis://{service}/0"), got {shown}',
        )
    elif not _DB.fullmatch(path):
        reader.report("redis_url", f'expected the db number as its path ("/0"), got {shown}')
