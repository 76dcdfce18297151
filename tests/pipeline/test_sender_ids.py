"""source_addr -> iSMS sendid: A-z 0-9, at most 11, allowed by the account, else the default."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.pipeline.sending.requests import (
    choose_sender_id,
    is_valid_sender_id,
    sender_id_replaced_in_malaysia,
)


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("MyBrand", True),
        ("61000", True),
        ("A1", False),  # alphanumeric needs 3 characters (REST reference)
        ("ABC", True),
        ("7", True),
        ("CompanyName", True),
        ("CompanyName1", False),  # 12 characters
        ("My Brand", False),
        ("Brand!", False),
        ("Marché", False),
        ("", False),
    ],
)
def test_sender_id_rule(candidate: str, valid: bool) -> None:
    assert is_valid_sender_id(candidate) is valid


@given(st.text(max_size=14) | st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True))
def test_sender_id_rule_is_a_to_z_and_0_to_9_only_at_most_11(candidate: str) -> None:
    rule = re.fullmatch(r"[A-Za-z0-9]{1,11}", candidate) is not None and (
        candidate.isdigit() or len(candidate) >= 3
    )
    assert is_valid_sender_id(candidate) is rule


def test_fitting_source_addr_becomes_the_sendid() -> None:
    assert choose_sender_id("MyBrand") == "MyBrand"


def test_phone_number_source_loses_its_plus() -> None:
    assert choose_sender_id("+60123456789") == "60123456789"


def test_source_not_fitting_the_rule_falls_back_to_the_account_default() -> None:
    assert choose_sender_id("My Brand Ltd", default="MyBrand") == "MyBrand"


def test_source_not_allowed_for_the_account_falls_back_to_the_default() -> None:
    assert choose_sender_id("OtherCo", allowed={"MyBrand"}, default="MyBrand") == "MyBrand"


def test_allowed_source_is_kept() -> None:
    assert choose_sender_id("61000", allowed={"MyBrand", "61000"}, default="MyBrand") == "61000"


def test_without_a_default_an_unfit_source_sends_no_sendid() -> None:
    assert choose_sender_id("", default=None) is None


def test_invalid_default_is_not_used() -> None:
    assert choose_sender_id("bad id", default="also bad") is None


def test_alphanumeric_sender_to_malaysia_is_flagged_as_replaced() -> None:
    assert sender_id_replaced_in_malaysia("MyBrand", ["6591234567", "60123456789"])


def test_numeric_sender_or_foreign_destinations_are_not_flagged() -> None:
    assert not sender_id_replaced_in_malaysia("61000", ["60123456789"])
    assert not sender_id_replaced_in_malaysia("MyBrand", ["6591234567"])
    assert not sender_id_replaced_in_malaysia(None, ["60123456789"])
