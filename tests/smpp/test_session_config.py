"""SessionConfig: the tunable session rules, validated once, shared by every session."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from bridge.pdu import EnquireLink
from bridge.smpp import SessionConfig

from .session_doubles import Esme


def test_defaults_follow_the_documented_timer_values() -> None:
    config = SessionConfig()
    assert (config.session_init_s, config.response_timeout_s) == (30.0, 30.0)
    assert (config.enquire_link_interval_s, config.inactivity_s) == (60.0, 300.0)
    assert (config.window, config.max_pdu_size, config.max_unknown_commands) == (100, 65_536, 10)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("our_system_id", "", "our_system_id"),
        ("our_system_id", "x" * 16, "our_system_id"),  # C-Octet String of at most 16
        ("our_system_id", "bridge\x00", "printable"),
        ("window", 0, "window"),
        ("max_pdu_size", 100, "max_pdu_size"),
        ("max_pdu_size", 1 << 30, "max_pdu_size"),
        ("session_init_s", 0.0, "session_init_s"),
        ("response_timeout_s", -1.0, "response_timeout_s"),
        ("response_timeout_s", float("nan"), "response_timeout_s"),
        ("inactivity_s", -5.0, "inactivity_s"),
        ("enquire_link_interval_s", float("inf"), "enquire_link_interval_s"),
        ("max_unknown_commands", -1, "max_unknown_commands"),
    ],
)
def test_an_unusable_value_is_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SessionConfig(**{field: value})  # type: ignore[arg-type]


def test_zero_turns_the_keepalive_timers_off_and_is_accepted() -> None:
    config = SessionConfig(inactivity_s=0, enquire_link_interval_s=0)
    assert config.inactivity_s == 0 == config.enquire_link_interval_s


def test_an_idle_bound_session_holds_about_a_kilobyte() -> None:
    # The target is at most 32 KiB per idle session for the whole server (socket, transport,
    # session; bench/sessions.py measures it); the state machine's share must stay a small
    # fraction of it.
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        sessions = []
        for _ in range(200):
            esme = Esme()
            esme.bind()
            esme.send(EnquireLink())
            esme.take()
            sessions.append(esme.session)
        del esme
        gc.collect()
        per_session = (tracemalloc.get_traced_memory()[0] - before) / len(sessions)
    finally:
        tracemalloc.stop()
    assert per_session < 4096, f"{per_session:.0f} bytes per idle session"
