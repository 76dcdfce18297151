"""`isms-bridge check-config PATH`: validate without starting; a summary, never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main

ISMS = """
[isms]
api = "http"
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]
timeout_s = 10
"""

VALID = (
    """
[smpp]
host = ["127.0.0.1", "::1"]
port = 2775
"""
    + ISMS
    + """
[metrics]
port = 9102

[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
allowed_ips = ["127.0.0.0/8"]
throughput_per_s = 5

[[accounts]]
system_id = "esme2"
password = "secret2"
isms_username = "isms"
isms_password = "isms123"
bind_types = ["transmitter"]
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_config_exits_0_and_says_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID)
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: OK\n")


def test_the_summary_lists_listeners_mirrors_and_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check-config", str(write(tmp_path, VALID))])
    out = capsys.readouterr().out
    assert "127.0.0.1:2775" in out and "[::1]:2775" in out
    assert "http://127.0.0.1:9102/metrics" in out
    assert "iSMS mirrors (1): http://127.0.0.1:8480/isms_send_all_id.php" in out
    assert "accounts (2):" in out
    assert "esme1: receiver, transceiver, transmitter; max 10 binds; from 127.0.0.0/8; 5/s" in out
    assert "esme2: transmitter; max 10 binds" in out


def test_the_summary_never_shows_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check-config", str(write(tmp_path, VALID))])
    captured = capsys.readouterr()
    for secret in ("secret1", "secret2", "isms123"):
        assert secret not in captured.out + captured.err


def test_an_invalid_config_exits_1_with_the_file_key_and_expectation_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID.replace('password = "secret2"', 'password = "secret2345"'))
    assert main(["check-config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}: accounts[1] (esme2).password: expected at most 8 characters" in captured.err


def test_an_invalid_config_error_does_not_echo_the_bad_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID.replace('password = "secret2"', 'password = "secret2345"'))
    main(["check-config", str(path)])
    assert "secret2345" not in capsys.readouterr().err


def test_an_unreadable_file_exits_1_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.toml"
    assert main(["check-config", str(path)]) == 1
    assert f"{path}: cannot read the file" in capsys.readouterr().err


def test_a_toml_syntax_error_exits_1_with_its_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[smpp]\nport = = 2775\n")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "column" in err


def test_check_config_is_listed_in_the_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "check-config" in capsys.readouterr().out


def test_the_summary_names_each_accounts_profile_and_what_its_receipts_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace('bind_types = ["transmitter"]', 'profile = "kannel"')
    text = text.replace("throughput_per_s = 5", 'profile = "node-smpp"')
    assert main(["check-config", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "esme1: receiver, transceiver, transmitter; max 10 binds; from 127.0.0.0/8; " in out
    assert "profile node-smpp (data_coding 1 read as GSM 03.38" in out
    assert "receipts ACCEPTD, data_coding 0 as gsm7, 1 as gsm7" in out
    assert "esme2: " in out and "profile kannel (receipts say DELIVRD" in out
    assert "): receipts DELIVRD" in out
    assert "warnings:" not in out


def test_a_kannel_account_whose_receipts_say_acceptd_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(
        'bind_types = ["transmitter"]', 'profile = "kannel"\nreport_delivered = false'
    )
    assert main(["check-config", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "  warnings:\n    esme2: profile kannel with report_delivered = false" in out
    assert "DLR type 4" in out


def test_a_generic_account_shows_only_its_receipts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(write(tmp_path, VALID))]) == 0
    assert "esme2: transmitter; max 10 binds; receipts ACCEPTD\n" in capsys.readouterr().out


def test_the_config_may_be_given_as_config_like_every_other_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID)
    assert main(["check-config", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: OK\n")
    assert main(["check-config", str(path), "--config", str(path)]) == 0


def test_two_different_configs_or_none_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID)
    assert main(["check-config", str(path), "--config", str(tmp_path / "other.toml")]) == 1
    assert "give the config once" in capsys.readouterr().err
    assert main(["check-config"]) == 1
    assert "--config PATH" in capsys.readouterr().err


def test_every_problem_is_listed_in_one_run_each_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace("port = 2775", "port = 2775\nwindw = 5")
    text = text.replace('password = "secret1"\n', "").replace('isms_password = "isms123"\n', "", 1)
    path = write(tmp_path, text)
    assert main(["check-config", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "isms-bridge: invalid config: 3 problems:",
        f"  {path}: smpp.windw: unknown key (did you mean window?)",
        f"  {path}: accounts[0] (esme1).password: is required (or password_env / password_file)",
        f"  {path}: accounts[0] (esme1).isms_password: is required "
        "(or isms_password_env / isms_password_file)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('host = ["127.0.0.1", "::1"]', 'host = ["127.0.0.1", "bridge.invalid"]', "smpp.host"),
        ("port = 9102", 'port = 9102\nhost = "bridge.invalid"', "metrics.host"),
    ],
)
def test_a_listen_host_that_does_not_resolve_is_refused_naming_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, key: str
) -> None:
    # .invalid never resolves (RFC 6761 §6.4): no real host is asked about.
    path = write(tmp_path, VALID.replace(old, new))
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: {key}: 'bridge.invalid' does not resolve: " in err


def test_an_admin_host_that_does_not_resolve_is_refused_naming_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "admin.token").write_text("admin-token-0123456789abcdef\n", encoding="utf-8")
    admin = '\n[admin]\nhost = "bridge.invalid"\n[[admin.tokens]]\nname = "ops"\n'
    path = write(tmp_path, VALID + admin + 'token_file = "admin.token"\n')
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: admin.host: 'bridge.invalid' does not resolve: " in err
    path = write(tmp_path, VALID + admin.replace("bridge.invalid", "127.0.0.1")
                 + 'token_file = "admin.token"\n')  # fmt: skip
    assert main(["check-config", str(path)]) == 0


def test_a_mirror_that_does_not_resolve_here_is_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace("127.0.0.1:8480", "sandbox.invalid:8480")
    assert main(["check-config", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "  warnings:\n    isms.endpoints[0]: 'sandbox.invalid' does not resolve here (" in out


def test_an_account_that_overrides_its_profile_says_so_instead_of_contradicting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(
        'bind_types = ["transmitter"]', 'profile = "kannel"\nreport_delivered = false'
    )
    assert main(["check-config", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert (
        "profile kannel (receipts say DELIVRD: Kannel takes ACCEPTD for an intermediate state "
        "(DLR type 4) and never sees a final one otherwise), but the account sets "
        "report_delivered = false: receipts ACCEPTD\n"
    ) in out
