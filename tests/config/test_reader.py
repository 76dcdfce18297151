"""TableReader: typed reads from one TOML table, each failure naming file and full key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, TableReader
from bridge.config.errors import ConfigProblems

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


def test_a_misspelt_key_is_refused_with_the_known_key_closest_to_it() -> None:
    r = reader(windw=5)
    r.integer("window", 100)
    r.integer("max_pdu_size", 65_536)
    with pytest.raises(ConfigError) as caught:
        r.finish()
    assert str(caught.value) == f"{PATH}: smpp.windw: unknown key (did you mean window?)"


def test_a_key_like_no_known_one_points_at_the_reference() -> None:
    r = reader(colour="blue")
    r.integer("window", 100)
    with pytest.raises(ConfigError) as caught:
        r.finish()
    assert caught.value.expected == "unknown key (see docs/configuration.md)"


def test_a_key_only_asked_about_is_known_to_the_suggestion() -> None:
    r = reader(max_conections=5)
    assert not r.has("max_connections")
    with pytest.raises(ConfigError, match="did you mean max_connections"):
        r.finish()


def test_a_collecting_reader_records_every_problem_and_goes_on_with_stand_ins() -> None:
    r = reader(window="ten", port=70_000, windw=1)
    problems = ConfigProblems()
    r.problems = problems
    assert r.integer("window", 100, minimum=1) == 100  # the default stands in
    assert r.port("port", 2775) == 65_535  # the nearest bound stands in
    assert r.string("system_id") == ""  # required and absent
    r.finish()
    with pytest.raises(ConfigError) as caught:
        problems.raise_if_any()
    assert [p.key for p in caught.value.problems] == [
        "smpp.window",
        "smpp.port",
        "smpp.system_id",
        "smpp.windw",
    ]
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


def test_a_second_problem_with_the_same_key_is_not_reported_again() -> None:
    r = reader()
    r.problems = ConfigProblems()
    r.string("system_id")
    assert r.failed("system_id")
    r.report("system_id", "expected a non-empty system_id")  # what a later check would add
    with pytest.raises(ConfigError) as caught:
        r.problems.raise_if_any()
    assert caught.value.expected == "is required"
    assert len(caught.value.problems) == 1


def test_a_table_named_by_a_label_shows_it_in_every_key() -> None:
    r = TableReader(PATH, "accounts[2]", {"system_id": "esme1"})
    r.name_as("esme1")
    assert r.key("password") == "accounts[2] (esme1).password"
