"""SMPP addresses -> iSMS numbers (digits with the country code, no + or 00)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pipeline import NumberRules
from bridge.pipeline.checks.numbers import InvalidNumber, isms_number

INTERNATIONAL, NATIONAL, UNKNOWN = 1, 2, 0


@pytest.mark.parametrize(
    ("address", "ton", "expected"),
    [
        ("60123456789", UNKNOWN, "60123456789"),
        ("60123456789", INTERNATIONAL, "60123456789"),
        ("+60123456789", UNKNOWN, "60123456789"),
        ("+60123456789", INTERNATIONAL, "60123456789"),
        ("0060123456789", UNKNOWN, "60123456789"),
        ("0123456789", UNKNOWN, "60123456789"),
        ("0123456789", NATIONAL, "60123456789"),
        ("123456789", NATIONAL, "60123456789"),
        ("123456789", 4, "60123456789"),  # subscriber number
        ("+65 9123-4567", UNKNOWN, "6591234567"),
        ("(012) 345.6789", UNKNOWN, "60123456789"),
        ("6591234567", 3, "6591234567"),  # network specific: taken as it is
    ],
)
def test_address_becomes_digits_with_country_code(address: str, ton: int, expected: str) -> None:
    assert isms_number(address, ton, 1) == expected


def test_national_number_takes_the_configured_country_code() -> None:
    assert isms_number("091234567", NATIONAL, 1, NumberRules(default_country_code="65")) == (
        "6591234567"
    )


@pytest.mark.parametrize(
    ("address", "ton", "npi", "reason"),
    [
        ("MyBrand", 5, 0, "alphanumeric"),
        ("15888", 6, 0, "abbreviated"),
        ("60123456789", 1, 14, "internet"),
        ("60123456789", 1, 3, "data"),
        ("6012345678a", 1, 1, "not all digits"),
        ("", 0, 1, "not all digits"),
        ("+", 1, 1, "not all digits"),
        ("0123456789", INTERNATIONAL, 1, "no country code"),
        ("00", 0, 1, "not all digits"),
        ("601234", 1, 1, "6 digits"),
        ("6012345678901234", 1, 1, "16 digits"),
        ("+0123456789", 1, 1, "no country code"),
        ("٦٠١٢٣٤٥٦٧٨٩", 1, 1, "not all digits"),  # Arabic-Indic digits are not ASCII
    ],
)
def test_address_that_cannot_be_a_phone_number_is_refused(
    address: str, ton: int, npi: int, reason: str
) -> None:
    with pytest.raises(InvalidNumber, match=reason):
        isms_number(address, ton, npi)


@pytest.mark.parametrize("code", ["", "0", "1234", "6a", "+60"])
def test_country_code_must_be_one_to_three_digits(code: str) -> None:
    with pytest.raises(ValueError, match="country code"):
        NumberRules(default_country_code=code)


@given(st.text(max_size=25), st.integers(0, 6), st.sampled_from([0, 1, 3, 8, 14]))
def test_result_is_always_7_to_15_ascii_digits_or_invalid_number(
    address: str, ton: int, npi: int
) -> None:
    try:
        number = isms_number(address, ton, npi)
    except InvalidNumber:
        return
    assert number.isascii() and number.isdigit() and 7 <= len(number) <= 15
    assert not number.startswith("0")
