"""`load_metrics_config`: only `[metrics]`, validated as `load_config` does (for probes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, MetricsConfig, load_metrics_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_without_a_metrics_section_gives_the_defaults_serve_listens_on(
    tmp_path: Path,
) -> None:
    assert load_metrics_config(write(tmp_path, "[smpp]\nport = 2775\n")) == MetricsConfig()


def test_the_metrics_host_and_port_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, '[metrics]\nhost = "0.0.0.0"\nport = 9200\n')
    assert load_metrics_config(path) == MetricsConfig(host="0.0.0.0", port=9200)


def test_the_other_sections_are_not_read_so_no_secret_needs_to_be_set(tmp_path: Path) -> None:
    text = (
        "[metrics]\nport = 9200\n\n[[accounts]]\n"
        'system_id = "esme1"\npassword_env = "ISMS_BRIDGE_TEST_UNSET_VARIABLE"\n'
    )
    assert load_metrics_config(write(tmp_path, text)).port == 9200


def test_a_bad_metrics_key_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.port: expected an integer"):
        load_metrics_config(write(tmp_path, '[metrics]\nport = "9200"\n'))


def test_an_unknown_metrics_key_is_refused_as_load_config_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.prot: unknown key"):
        load_metrics_config(write(tmp_path, "[metrics]\nprot = 9200\n"))


def test_a_missing_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_metrics_config(path)
