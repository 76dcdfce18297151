"""The sandbox judges a send request as the iSMS API page describes (pure rules)."""

from __future__ import annotations

import pytest

from bridge.upstream.sandbox.rules import SendParams, judge_send, parts

ACCOUNTS = {"isms": "isms123"}
CREDITS = {"isms": 10}


def params(**overrides: str | None) -> SendParams:
    fields: dict[str, str | None] = {
        "un": "isms",
        "pwd": "isms123",
        "dstno": "60123456789",
        "msg": "hello",
        "type": "1",
        "agreedterm": "YES",
    }
    fields.update(overrides)
    return SendParams(**fields)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({}, 2000),
        ({"un": None}, -1008),
        ({"pwd": None}, -1008),
        ({"dstno": None}, -1008),
        ({"msg": None}, -1008),
        ({"type": None}, -1008),
        ({"type": ""}, -1008),
        ({"agreedterm": None}, -1013),
        ({"agreedterm": "NO"}, -1013),
        ({"agreedterm": "Yes"}, 2000),  # the REST reference spells it "Yes"
        ({"pwd": "wrong"}, -1001),
        ({"un": "stranger"}, -1001),
        ({"type": "3"}, -1005),
        ({"msg": ""}, -1006),
        ({"msg": "x" * 701}, -1006),
        ({"msg": "x" * 700}, 2000),
        ({"msg": "café"}, -1012),
        ({"msg": "café", "type": "2"}, 2000),
        ({"dstno": "+60123456789"}, -1009),
        ({"dstno": "60123456789;abc"}, -1009),
        ({"dstno": "60123456789;"}, -1009),
        ({"dstno": "12345"}, -1009),
        ({"msg": "x" * 154, "dstno": ";".join(["60123456789"] * 6)}, -1004),  # 12 credits > 10
    ],
)
def test_request_gets_the_code_the_api_page_gives(overrides: dict[str, str], code: int) -> None:
    assert judge_send(params(**overrides), ACCOUNTS, CREDITS).code == code


def test_missing_parameter_is_reported_before_bad_credentials() -> None:
    assert judge_send(params(pwd="wrong", msg=None), ACCOUNTS, CREDITS).code == -1008


def test_bad_credentials_are_reported_before_a_missing_agreedterm() -> None:
    assert judge_send(params(pwd="wrong", agreedterm=None), ACCOUNTS, CREDITS).code == -1001


def test_success_costs_parts_times_destinations() -> None:
    judged = judge_send(params(msg="x" * 154, dstno="60123456789;60198765432"), ACCOUNTS, CREDITS)
    assert (judged.code, judged.cost) == (2000, 4)


@pytest.mark.parametrize(
    ("length", "sms_type", "expected"),
    [(1, "1", 1), (153, "1", 1), (154, "1", 2), (700, "1", 5), (63, "2", 1), (64, "2", 2)],
)
def test_parts_follow_the_api_page_153_and_63_characters(
    length: int, sms_type: str, expected: int
) -> None:
    assert parts("x" * length, sms_type) == expected
