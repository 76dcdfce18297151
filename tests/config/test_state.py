"""`[state]`: the backend, its file and its Redis settings (README "Durability")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, ConfigError, RedisConfig, StateConfig

Load = Callable[..., BridgeConfig]
Failure = Callable[..., ConfigError]


def state(*lines: str) -> str:
    return "\n".join(["[state]", *lines])


def test_without_a_state_table_the_default_is_sqlite_beside_the_config_file(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load()
    assert config.state == StateConfig(
        backend="sqlite", path=config.path.parent / "state.sqlite3", fsync="normal"
    )
    assert config.state.record_text is False


def test_a_relative_path_is_relative_to_the_state_directory_systemd_and_the_image_set(
    load: Load, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path / 'state'}:{tmp_path / 'other'}")
    assert load().state.path == tmp_path / "state" / "state.sqlite3"


def test_a_relative_path_is_relative_to_the_config_files_folder(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load(metrics=state('path = "data/bridge.sqlite3"'))
    assert config.state.path == config.path.parent / "data" / "bridge.sqlite3"


def test_an_absolute_path_is_kept(load: Load) -> None:
    path = load(metrics=state('path = "/var/lib/isms-bridge/state.sqlite3"')).state.path
    assert path == Path("/var/lib/isms-bridge/state.sqlite3")


def test_fsync_full_record_text_and_a_file_cap_can_be_chosen(load: Load) -> None:
    chosen = load(metrics=state('fsync = "full"', "record_text = true", "max_file_mb = 64")).state
    assert (chosen.fsync, chosen.record_text, chosen.max_file_mb) == ("full", True, 64)


def test_the_wal_is_bounded_at_256_mib_unless_max_wal_mb_says_otherwise(load: Load) -> None:
    assert load().state.max_wal_mb == 256
    assert load(metrics=state("max_wal_mb = 64")).state.max_wal_mb == 64


def test_the_memory_backend_can_be_chosen(load: Load) -> None:
    assert load(metrics=state('backend = "memory"')).state.backend == "memory"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('backend = "postgres"', "state.backend"),
        ('fsync = "always"', "state.fsync"),
        ('path = ""', "state.path"),
        ('path = "data/"', "state.path"),
        ("record_text = 1", "state.record_text"),
        ("max_file_mb = 0", "state.max_file_mb"),
        ('backend = "memory"\nmax_file_mb = 5', "state.max_file_mb"),
        ("max_wal_mb = 7", "state.max_wal_mb"),
        ('max_wal_mb = "256"', "state.max_wal_mb"),
        ('backend = "memory"\nmax_wal_mb = 64', "state.max_wal_mb"),
        ('paht = "x"', "state.paht"),
    ],
)
def test_a_bad_state_key_is_refused_naming_it(failure: Failure, line: str, key: str) -> None:
    assert failure(metrics=state(line)).key == key


def test_redis_needs_a_url(failure: Failure) -> None:
    error = failure(metrics=state('backend = "redis"'))
    assert error.key == "state.redis_url" and "required" in error.expected


def test_redis_takes_its_url_password_from_the_environment_and_a_key_prefix(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REDIS_PASSWORD", "s3cret")
    chosen = load(
        metrics=state(
            'backend = "redis"',
            'redis_url = "rediss://redis.internal:6380/0"',
            'redis_password_env = "TEST_REDIS_PASSWORD"',
            'key_prefix = "bridge-a:"',
        )
    ).state
    assert chosen.redis == RedisConfig(
        url="rediss://redis.internal:6380/0", password="s3cret", key_prefix="bridge-a:"
    )
    assert "s3cret" not in repr(chosen)


def test_redis_password_can_come_from_a_file(load: Load, tmp_path: Path) -> None:
    (tmp_path / "redis.pw").write_text("from-file\n", encoding="utf-8")
    chosen = load(
        metrics=state(
            'backend = "redis"',
            'redis_url = "redis://127.0.0.1"',
            'redis_password_file = "redis.pw"',
        )
    ).state
    assert chosen.redis is not None and chosen.redis.password == "from-file"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "redis://host:port"])
def test_a_redis_url_that_is_not_redis_or_rediss_is_refused(failure: Failure, url: str) -> None:
    error = failure(metrics=state('backend = "redis"', f'redis_url = "{url}"'))
    assert error.key == "state.redis_url"


def test_a_password_inside_the_redis_url_is_refused_without_echoing_it(failure: Failure) -> None:
    error = failure(metrics=state('backend = "redis"', 'redis_url = "redis://:hunter2@host"'))
    assert error.key == "state.redis_url" and "hunter2" not in str(error)


def test_redis_keys_with_another_backend_are_refused(failure: Failure) -> None:
    error = failure(metrics=state('redis_url = "redis://127.0.0.1"'))
    assert error.key == "state.redis_url" and "redis" in error.expected


def test_a_redis_that_may_evict_is_refused_unless_the_config_accepts_it(load: Load) -> None:
    plain = load(metrics=state('backend = "redis"', 'redis_url = "redis://127.0.0.1"')).state
    assert plain.redis is not None and plain.redis.allow_eviction is False
    accepted = load(
        metrics=state(
            'backend = "redis"', 'redis_url = "redis://127.0.0.1"', "redis_allow_eviction = true"
        )
    ).state
    assert accepted.redis is not None and accepted.redis.allow_eviction is True


def test_redis_allow_eviction_must_be_true_or_false(failure: Failure) -> None:
    error = failure(
        metrics=state(
            'backend = "redis"', 'redis_url = "redis://127.0.0.1"', 'redis_allow_eviction = "yes"'
        )
    )
    assert error.key == "state.redis_allow_eviction" and "true or false" in error.expected


def test_redis_allow_eviction_with_another_backend_is_refused(failure: Failure) -> None:
    error = failure(metrics=state("redis_allow_eviction = true"))
    assert error.key == "state.redis_allow_eviction" and "redis" in error.expected


def test_sentinels_and_a_service_find_the_primary_and_the_url_gives_only_tls_and_the_db(
    load: Load,
) -> None:
    chosen = load(
        metrics=state(
            'backend = "redis"',
            'redis_sentinels = ["10.0.0.1:26379", "[::1]:26380"]',
            'redis_service = "mymaster"',
            'redis_url = "rediss:///2"',
        )
    ).state.redis
    assert chosen is not None
    assert chosen.sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    assert chosen.service == "mymaster" and chosen.url == "rediss:///2"
    bare = load(
        metrics=state(
            'backend = "redis"', 'redis_sentinels = ["s1:26379"]', 'redis_service = "mymaster"'
        )
    ).state.redis
    assert bare is not None and bare.url == "redis:///0"


@pytest.mark.parametrize(
    ("lines", "key", "said"),
    [
        (['redis_sentinels = ["s1:26379"]'], "state.redis_service", "required"),
        (['redis_service = "mymaster"'], "state.redis_sentinels", "required"),
        (["redis_sentinels = []", 'redis_service = "m"'], "state.redis_sentinels", "at least"),
        (['redis_sentinels = ["s1"]', 'redis_service = "m"'], "state.redis_sentinels", "host:port"),
        (
            ['redis_sentinels = ["s1:0"]', 'redis_service = "m"'],
            "state.redis_sentinels",
            "host:port",
        ),
        (
            ['redis_sentinels = ["s1:1", "s1:1"]', 'redis_service = "m"'],
            "state.redis_sentinels",
            "twice",
        ),
        (['redis_sentinels = ["s1:1"]', 'redis_service = ""'], "state.redis_service", "service"),
        (
            ['redis_sentinels = ["s1:1"]', 'redis_service = "m"', 'redis_url = "redis://h:6379/0"'],
            "state.redis_url",
            "comes from Sentinel",
        ),
        (
            ['redis_sentinels = ["s1:1"]', 'redis_service = "m"', 'redis_url = "redis:///x"'],
            "state.redis_url",
            "db number",
        ),
    ],
)
def test_a_bad_sentinel_setting_is_refused_naming_its_key(
    failure: Failure, lines: list[str], key: str, said: str
) -> None:
    error = failure(metrics=state('backend = "redis"', *lines))
    assert error.key == key and said in error.expected


def test_sentinel_keys_with_another_backend_are_refused(failure: Failure) -> None:
    error = failure(metrics=state('redis_service = "mymaster"'))
    assert error.key == "state.redis_service" and "redis" in error.expected
