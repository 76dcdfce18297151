"""docs/configuration.md and configs/example.toml hold every key the parser knows, and only
those; the defaults the page states are the parser's; the example loads and shows the
defaults it claims to show."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, ConfigError, load_config
from docs.config_keys import SMALLEST, example_keys, known_keys, write_certificate
from docs.manual import ROOT, page, sections, table_rows

EXAMPLE = ROOT / "configs" / "example.toml"
_SECTION_TITLE = re.compile(r"`\[\[?([a-z][a-z0-9_.]*)\]\]?`")
_ONE_VALUE = re.compile(r"`([^`]+)`")


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    return known_keys(tmp_path_factory.mktemp("known"))


def _reference() -> dict[str, str]:
    """Config section (`smpp.tls`) -> its part of docs/configuration.md."""
    found: dict[str, str] = {}
    for title, body in sections(page("configuration.md")).items():
        match = _SECTION_TITLE.fullmatch(title.strip())
        if match:
            found[match.group(1)] = body
    return found


def _subsections(known: dict[str, set[str]]) -> dict[str, set[str]]:
    """Section -> the names of its sub-tables (`smpp` -> {"tls"})."""
    found: dict[str, set[str]] = {section: set() for section in known}
    for section in known:
        parent, _, child = section.rpartition(".")
        if parent:
            found.setdefault(parent, set()).add(child)
    return found


def test_the_parser_is_seen_reading_every_section_and_its_keys(
    known: dict[str, set[str]],
) -> None:
    assert set(known) == {
        "smpp",
        "smpp.tls",
        "isms",
        "isms.status_overrides",
        "metrics",
        "messages",
        "state",
        "policy",
        "accounts",
        "admin",
        "admin.tls",
        "admin.tokens",
    }
    # A few keys read only in some cases, so a broken recording would lose them first.
    assert {"max_connections", "proxy_trusted", "bind_lease_s"} <= known["smpp"]
    assert {"redis_sentinels", "redis_password_file", "key_prefix"} <= known["state"]
    assert {"password_env", "isms_password_file", "report_delivered"} <= known["accounts"]
    assert known["smpp.tls"] == {"host", "port", "cert_file", "key_file"}


def test_every_section_has_its_part_of_the_configuration_reference(
    known: dict[str, set[str]],
) -> None:
    assert set(_reference()) == set(known)


def test_every_key_has_exactly_one_row_in_its_section_of_the_reference(
    known: dict[str, set[str]],
) -> None:
    reference = _reference()
    subsections = _subsections(known)
    for section, keys in known.items():
        documented = Counter(name for row in table_rows(reference[section]) for name in row.names())
        repeated = sorted(name for name, count in documented.items() if count > 1)
        assert not repeated, f"[{section}]: keys documented twice: {repeated}"
        missing = sorted(keys - set(documented))
        assert not missing, f"[{section}]: keys the parser reads but the page lacks: {missing}"
        unknown = sorted(set(documented) - keys - subsections[section])
        assert not unknown, f"[{section}]: the page documents keys the parser refuses: {unknown}"


def _stated_defaults() -> Iterator[tuple[str, str, str]]:
    """(section, key, TOML value) for every row whose default is one literal value."""
    for section, body in _reference().items():
        for row in table_rows(body):
            default = row.cells.get("default", "").strip()
            match = _ONE_VALUE.fullmatch(default)
            if not match:
                continue
            try:
                tomllib.loads(f"value = {match.group(1)}")
            except tomllib.TOMLDecodeError:
                continue  # a reference to another key, not a value
            for key in row.names():
                yield section, key, match.group(1)


# Configs a stated default is tried against, in order: a key that only one backend reads
# (key_prefix, max_wal_mb) is refused by the others.
_BASES = {
    "sqlite": SMALLEST,
    "redis": SMALLEST.replace(
        "[state]", '[state]\nbackend = "redis"\nredis_url = "redis://127.0.0.1:6379/0"'
    ),
}


def _with_key(base: str, section: str, line: str) -> str:
    header = "[[accounts]]" if section == "accounts" else f"[{section}]"
    assert header in base, header
    return base.replace(header, f"{header}\n{line}", 1)


def _load(path: Path, text: str) -> BridgeConfig:
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _same(with_key: BridgeConfig, without: BridgeConfig) -> bool:
    return dataclasses.replace(with_key, path=without.path) == without


def test_every_default_the_reference_states_is_the_parsers(tmp_path: Path) -> None:
    write_certificate(tmp_path)
    stated = list(_stated_defaults())
    assert len(stated) > 40, "the defaults column is no longer read"
    wrong = []
    for section, key, value in stated:
        for base in _BASES.values():
            without = _load(tmp_path / "without.toml", base)
            try:
                with_key = _load(
                    tmp_path / "with.toml", _with_key(base, section, f"{key} = {value}")
                )
            except ConfigError:
                continue  # not read with this base (a redis-only key on sqlite)
            if not _same(with_key, without):
                wrong.append(f"[{section}] {key} = {value}")
            break
        else:
            wrong.append(f"[{section}] {key} = {value} (refused by every base config)")
    assert not wrong, f"the page states defaults the parser does not have: {wrong}"


def test_the_example_config_holds_every_key_and_no_other(known: dict[str, set[str]]) -> None:
    expected = {(section, key) for section, keys in known.items() for key in keys}
    expected |= {
        (parent, child) for parent, children in _subsections(known).items() for child in children
    }
    shown = set(example_keys(EXAMPLE.read_text(encoding="utf-8")))
    missing = sorted(f"[{s}] {k}" for s, k in expected - shown)
    assert not missing, f"configs/example.toml lacks (even commented out): {missing}"
    unknown = sorted(f"[{s}] {k}" for s, k in shown - expected)
    assert not unknown, f"configs/example.toml shows keys the parser refuses: {unknown}"


def _example_with_its_secrets(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example, with every secret it names given a value (as
    tests/config/test_example_configs.py does for every file in configs/)."""
    copy = directory / EXAMPLE.name
    shutil.copy(EXAMPLE, copy)
    document = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for account in document["accounts"]:
        for key, value in account.items():
            if key.endswith("_env"):
                monkeypatch.setenv(value, "pw12345")
            elif key.endswith("_file"):
                secret = directory / value
                secret.parent.mkdir(parents=True, exist_ok=True)
                secret.write_text("pw12345\n", encoding="utf-8")
    return copy


def test_the_example_config_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_example_with_its_secrets(tmp_path, monkeypatch))
    assert [account.system_id for account in config.accounts] == ["esme1", "esme2"]


def test_the_example_sets_every_section_to_its_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_config(_example_with_its_secrets(tmp_path, monkeypatch))
    accounts = "\n".join(SMALLEST.partition("[[accounts]]")[1:])
    bare = _load(tmp_path / "bare.toml", accounts)
    for section in ("smpp", "isms", "metrics", "messages", "state"):
        assert getattr(example, section) == getattr(bare, section), (
            f"configs/example.toml's [{section}] is not the defaults it says it shows"
        )
    first = example.accounts[0]
    defaults = bare.accounts[0]
    for field in ("bind_types", "max_binds", "profile", "dc0", "dc1", "report_delivered"):
        assert getattr(first, field) == getattr(defaults, field), f"accounts[0].{field}"
