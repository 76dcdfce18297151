"""message_ids the bridge makes: short, ASCII, unique, time-ordered."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bridge.pipeline import decode_text
from bridge.pipeline.checks.gsm7 import encode_gsm7
from bridge.pipeline.outcome.message_ids import MESSAGE_ID_LENGTH, MessageIdGenerator

SHAPE = re.compile(r"[0-9A-Z]{18}")
NOW = 1_710_000_000.0


def generator(*, clock: list[float], tag: int = 0) -> MessageIdGenerator:
    return MessageIdGenerator(clock=lambda: clock[0], randbelow=lambda _limit: tag)


def test_an_id_is_18_digits_or_capital_letters() -> None:
    message_id = generator(clock=[NOW]).new_id()
    assert SHAPE.fullmatch(message_id)
    assert len(message_id) == MESSAGE_ID_LENGTH == 18


def test_an_id_fits_the_c_octet_string_limit_of_smpp_message_id() -> None:
    assert len(generator(clock=[NOW]).new_id()) + 1 <= 65


def test_an_id_reads_the_same_in_ascii_latin1_and_gsm() -> None:
    message_id = generator(clock=[NOW], tag=12345).new_id()
    gsm = encode_gsm7(message_id)
    assert gsm == message_id.encode("ascii") == message_id.encode("latin-1")
    assert decode_text(0, gsm) == message_id


def test_ids_in_one_millisecond_differ_by_their_counter() -> None:
    make = generator(clock=[NOW]).new_id
    first, second = make(), make()
    assert first[:15] == second[:15]
    assert first != second


def test_ids_sort_in_the_order_they_were_made() -> None:
    clock = [NOW]
    make = generator(clock=clock).new_id
    made = []
    for step in range(50):
        clock[0] = NOW + step // 3 * 0.001
        made.append(make())
    assert made == sorted(made)
    assert len(set(made)) == 50


def test_a_clock_stepping_back_never_repeats_an_id() -> None:
    clock = [NOW]
    make = generator(clock=clock).new_id
    before = {make() for _ in range(5)}
    clock[0] = NOW - 3600
    after = {make() for _ in range(5)}
    assert not before & after
    assert max(before) < min(after)


def test_running_out_of_counter_in_one_millisecond_borrows_the_next() -> None:
    make = generator(clock=[NOW]).new_id
    made = [make() for _ in range(36**3 + 2)]
    assert len(set(made)) == len(made)
    assert made[-1][:9] != made[0][:9]


def test_two_generators_with_different_tags_differ_in_the_same_millisecond() -> None:
    one = generator(clock=[NOW], tag=1).new_id()
    two = generator(clock=[NOW], tag=2).new_id()
    assert one != two
    assert one[:9] == two[:9]


def test_the_default_randomness_gives_each_generator_its_own_tag() -> None:
    tags = {MessageIdGenerator(clock=lambda: NOW).new_id()[9:15] for _ in range(20)}
    assert len(tags) > 1


@given(st.floats(min_value=0, max_value=4e10), st.integers(min_value=0, max_value=36**6 - 1))
def test_any_time_and_tag_give_a_well_formed_id(now: float, tag: int) -> None:
    assert SHAPE.fullmatch(generator(clock=[now], tag=tag).new_id())
