"""TableReader: typed reads from one TOML table, each failure naming file and full key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, TableReader

PATH = Path("/etc/isms-bridge/bridge.toml")


def reader(**table: object) -> TableReader:
    return TableReader(PATH, "smpp", table)


def test_an_absent_optional_number_is_none_and_counts_as_known() -> None:
    r = reader()
    assert r.optional_number("throughput_per_s") is None
    r.finish()


def test_an_optional_number_that_is_given_is_range_checked() -> None:
    with pytest.raises(ConfigError, match=r"smpp\.rate: expected more than 0, got 0"):
        reader(rate=0).optional_number("rate", above=0.0)


def test_a_whole_float_bound_is_shown_without_a_decimal_point() -> None:
    with pytest.raises(ConfigError, match=r"expected at most 86400, got 100000$"):
        reader(t=100_000).number("t", maximum=86_400.0)


def test_a_port_is_0_to_65535() -> None:
    assert reader(port=0).port("port", 2775) == 0
    assert reader().port("port", 2775) == 2775
    with pytest.raises(ConfigError, match="at most 65535"):
        reader(port=65_536).port("port", 2775)


def test_one_or_more_strings_takes_a_string_or_a_list() -> None:
    assert reader(host="::").one_or_more_strings("host", ["127.0.0.1"]) == ["::"]
    assert reader(host=["a", "b"]).one_or_more_strings("host", []) == ["a", "b"]
    assert reader().one_or_more_strings("host", ["127.0.0.1"]) == ["127.0.0.1"]


@pytest.mark.parametrize("value", [[], [1], 5])
def test_one_or_more_strings_refuses_anything_else(value: object) -> None:
    with pytest.raises(ConfigError, match=r"smpp\.host: expected"):
        reader(host=value).one_or_more_strings("host", [])


def test_a_file_level_error_has_no_key_in_its_message() -> None:
    assert str(ConfigError(PATH, "", "expected valid TOML")) == f"{PATH}: expected valid TOML"
