"""The Lua scripts as files: every lua/*.lua is read at import as the script of one constant
of scripts.py, opens with a header saying what it takes and answers, and compiles on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.resources import files

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer

from bridge.state.redis import scripts

LUA = files("bridge.state.redis") / "lua"
SCRIPTS = sorted(name for name in vars(scripts) if name.isupper() and not name.startswith("_"))
SCRIPT_FILES = sorted(entry.name for entry in LUA.iterdir() if entry.name.endswith(".lua"))
SHARED_FILES = sorted(
    f"lib/{entry.name}" for entry in (LUA / "lib").iterdir() if entry.name.endswith(".lua")
)


def read(path: str) -> str:
    entry = LUA
    for part in path.split("/"):
        entry = entry / part
    return entry.read_text(encoding="utf-8")


def test_every_script_file_is_the_script_of_one_constant() -> None:
    assert [name.removesuffix(".lua").upper() for name in SCRIPT_FILES] == SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_is_loaded_with_the_whole_text_of_its_file(name: str) -> None:
    own = read(f"{name.lower()}.lua")
    assert own.strip() and getattr(scripts, name).endswith(own)


@pytest.mark.parametrize("path", [*SCRIPT_FILES, *SHARED_FILES])
def test_every_lua_file_opens_with_a_header_naming_itself(path: str) -> None:
    assert read(path).startswith(f"-- {path}")


@pytest.mark.parametrize("path", SCRIPT_FILES)
def test_every_script_header_says_its_keys_arguments_and_reply(path: str) -> None:
    header = read(path).split("\n\n", 1)[0]
    for part in ("-- KEYS:", "-- ARGV:", "-- Reply:"):
        assert part in header, f"{path}: no {part!r} in its header"


def test_every_shared_file_is_sent_with_some_script() -> None:
    for path in SHARED_FILES:
        text = read(path)
        assert any(text in getattr(scripts, name) for name in SCRIPTS), path


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    opened = Redis.from_url(redis_server.url)
    yield opened
    await opened.aclose()


async def test_every_script_compiles_on_redis(client: Redis) -> None:
    # SCRIPT LOAD compiles a script without running it: a syntax error fails here.
    for name in SCRIPTS:
        assert len(await client.script_load(getattr(scripts, name))) == 40, name
