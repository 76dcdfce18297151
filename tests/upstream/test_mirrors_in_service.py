"""A mirror an operator took out gets no message, whatever its breaker says, until put back."""

from __future__ import annotations

import pytest

from bridge.upstream.mirrors import MirrorSet


def names(mirrors: MirrorSet) -> list[str]:
    return [mirror.url for mirror in mirrors.route()]


def test_a_mirror_taken_out_is_left_out_of_the_route_and_back_in_once_put_back() -> None:
    mirrors = MirrorSet(["http://a", "http://b", "http://c"], cooldown_s=30.0)
    assert mirrors.set_in_service(0, False) is True
    assert names(mirrors) == ["http://b", "http://c"]
    assert mirrors.set_in_service(0, False) is False  # already out
    assert mirrors.set_in_service(0, True) is True
    assert names(mirrors) == ["http://a", "http://b", "http://c"]


def test_a_mirror_taken_out_is_not_tried_even_when_the_others_breakers_are_open() -> None:
    now = [0.0]
    mirrors = MirrorSet(["http://a", "http://b"], cooldown_s=30.0, breaker_failures=1,
                        clock=lambda: now[0])  # fmt: skip
    mirrors.set_in_service(0, False)
    [b] = [m for m in mirrors.mirrors if m.url == "http://b"]
    mirrors.record(b, healthy=False)  # b's breaker opens: no closed mirror in service
    assert mirrors.all_open
    assert names(mirrors) == []  # cooling, and a is out: nothing to try
    now[0] = 31.0
    assert names(mirrors) == ["http://b"]  # b's probe; a stays out


def test_the_last_mirror_in_service_cannot_be_taken_out() -> None:
    mirrors = MirrorSet(["http://a", "http://b"], cooldown_s=30.0)
    mirrors.set_in_service(1, False)
    with pytest.raises(ValueError, match="last mirror in service"):
        mirrors.set_in_service(0, False)
    with pytest.raises(IndexError):
        mirrors.set_in_service(5, False)
