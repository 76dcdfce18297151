"""Every sub-command's --help says what it does and what each option defaults to."""

from __future__ import annotations

import argparse

import pytest

from bridge.cli import build_parser, main


def subcommands() -> dict[str, argparse.ArgumentParser]:
    # argparse keeps its sub-parsers in the action add_subparsers() returned; no public reader.
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


COMMANDS = sorted(subcommands())


def test_every_command_is_found() -> None:
    assert set(COMMANDS) >= {*READS_CONFIG, "sandbox"}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_description_of_its_own(name: str) -> None:
    parser = subcommands()[name]
    assert parser.description, f"isms-bridge {name} --help has no description"
    assert len(parser.description) > 40


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_with_a_default_says_it_in_its_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = subcommands()[name]
    for action in parser._actions:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            continue
        assert action.help and "default" in action.help, (
            f"isms-bridge {name} {action.option_strings[0]} (default {action.default!r}) "
            "does not say its default"
        )


# The commands that read the config file (sandbox and admin take none).
READS_CONFIG = [
    "serve",
    "demo",
    "send",
    "check-config",
    "healthcheck",
    "balance",
    "messages",
    "backup",
]


@pytest.mark.parametrize("name", READS_CONFIG)
def test_every_command_that_reads_the_config_takes_it_as_config(name: str) -> None:
    parser = subcommands()[name]
    assert "--config" in {o for a in parser._actions for o in a.option_strings}


def test_sandbox_help_shows_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for shown in (
        "(default: 127.0.0.1)",
        "(default: 8480)",
        "(default: isms:isms123)",
        "(default: 200)",
        "(default: 1)",
        "(default: 0)",
    ):
        assert shown in out, shown


def test_serve_help_says_what_a_second_ctrl_c_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "a second one stops at once" in out and "(default: info)" in out
