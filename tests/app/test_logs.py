"""Logging setup, and the logfmt values of the lines bridge.app writes itself."""

from __future__ import annotations

import pytest

from bridge.app.logs import logfmt


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("smpp.host", "smpp.host"),
        ("Address already in use", '"Address already in use"'),
        ("[smpp] host = '::1'", "\"[smpp] host = '::1'\""),
        ("", '""'),
        ('a "quoted" word', '"a \\x22quoted\\x22 word"'),
        ("first\nsecond", "first\\x0asecond"),
        ("caf\u00e9", "caf\\xe9"),
    ],
)
def test_a_value_with_spaces_is_quoted_and_nothing_can_end_its_field_or_line(
    value: str, written: str
) -> None:
    assert logfmt(value) == written
