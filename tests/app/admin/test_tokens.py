"""Bearer tokens: where they may travel, how they are compared, what each scope may do."""

from __future__ import annotations

import statistics
import time

from bridge.app.admin.tokens import Caller, Refusal, Tokens
from bridge.config import AdminToken

OPS = AdminToken(name="ops", scope="operate", token="operate-token-0123456789")
VIEWER = AdminToken(name="viewer", scope="read", token="read-token-0123456789abcd")
TOKENS = Tokens([OPS, VIEWER])


def test_an_operate_token_may_call_read_and_operate_routes() -> None:
    for needed in ("read", "operate"):
        caller = TOKENS.check(f"Bearer {OPS.token}", [], needed)
        assert caller == Caller(name="ops", scope="operate")


def test_a_read_token_on_an_operate_route_is_refused_for_its_scope() -> None:
    assert TOKENS.check(f"Bearer {VIEWER.token}", [], "read") == Caller(name="viewer", scope="read")
    assert TOKENS.check(f"Bearer {VIEWER.token}", [], "operate") is Refusal.SCOPE
    assert Refusal.SCOPE.status == 403


def test_no_header_or_another_scheme_is_missing_and_a_wrong_token_invalid() -> None:
    assert TOKENS.check(None, [], "read") is Refusal.MISSING
    assert TOKENS.check(f"Basic {OPS.token}", [], "read") is Refusal.MISSING
    assert TOKENS.check("Bearer ", [], "read") is Refusal.MISSING
    assert TOKENS.check("Bearer operate-token-0123456788", [], "read") is Refusal.INVALID
    assert Refusal.MISSING.status == Refusal.INVALID.status == 401


def test_a_credential_in_the_query_string_is_refused_even_with_a_good_header() -> None:
    for name in ("token", "access_token", "Token", "api_key"):
        assert TOKENS.check(f"Bearer {OPS.token}", [name], "read") is Refusal.QUERY_STRING
    assert Refusal.QUERY_STRING.status == 400
    assert "query string" in Refusal.QUERY_STRING.message
    # Other parameters are the routes' own.
    assert TOKENS.check(f"Bearer {OPS.token}", ["account", "limit"], "read") == Caller(
        name="ops", scope="operate"
    )


def test_no_refusal_message_repeats_what_was_presented() -> None:
    for refusal in Refusal:
        assert OPS.token not in refusal.message


def _median_s(presented: str, rounds: int = 20_000) -> float:
    samples = []
    for _ in range(15):
        start = time.perf_counter()
        for _ in range(rounds):
            TOKENS.caller(presented)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def test_a_wrong_token_takes_as_long_to_refuse_as_a_right_one_takes_to_accept() -> None:
    right = _median_s(OPS.token)
    close = _median_s(OPS.token[:-1] + "x")  # differs in its last character only
    far = _median_s("x" * len(OPS.token))
    short = _median_s("x")
    for wrong in (close, far, short):
        assert 0.75 < wrong / right < 1.33, (right, close, far, short)
