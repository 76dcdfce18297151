"""The windows: unanswered requests by sequence_number, in both directions (SMPP 3.4 §2.7)."""

from __future__ import annotations

import pytest

from bridge.pdu import (
    CommandId,
    DeliverSm,
    EnquireLink,
    SubmitSm,
    Unbind,
)
from bridge.smpp import (
    DuplicateSequenceNumber,
    ResponseMismatch,
    UnknownSequenceNumber,
    WindowExceeded,
    WindowFull,
)
from bridge.smpp.window import IncomingWindow, OutgoingWindow

SUBMIT = CommandId.SUBMIT_SM
SUBMIT_RESP = CommandId.SUBMIT_SM_RESP

# --- IncomingWindow: the peer's requests we owe an answer -------------------------------


def test_incoming_window_admits_up_to_its_limit_then_refuses_with_rthrottled() -> None:
    window = IncomingWindow(limit=3)
    for number in (7, 8, 9):
        window.admit(SUBMIT, number)
    with pytest.raises(WindowExceeded) as refused:
        window.admit(SUBMIT, 10)
    assert refused.value.command_status == 0x58
    assert refused.value.sequence_number == 10
    assert len(window) == 3 and 10 not in window


def test_an_answer_frees_its_slot_for_the_next_request() -> None:
    window = IncomingWindow(limit=1)
    window.admit(SUBMIT, 7)
    window.answer(SUBMIT_RESP, 7)
    window.admit(SUBMIT, 8)
    assert 8 in window and 7 not in window


def test_answers_may_come_in_any_order() -> None:
    window = IncomingWindow(limit=5)
    for number in (1, 2, 3):
        window.admit(SUBMIT, number)
    for number in (3, 1, 2):
        window.answer(SUBMIT_RESP, number)
    assert len(window) == 0


def test_a_second_request_under_an_unanswered_sequence_number_is_refused() -> None:
    window = IncomingWindow(limit=5)
    window.admit(SUBMIT, 7)
    with pytest.raises(DuplicateSequenceNumber) as refused:
        window.admit(CommandId.QUERY_SM, 7)
    assert refused.value.command_status == 0x08
    assert window.command_id_of(7) == SUBMIT


def test_a_duplicate_is_refused_even_when_the_window_is_full() -> None:
    window = IncomingWindow(limit=1)
    window.admit(SUBMIT, 7)
    with pytest.raises(DuplicateSequenceNumber):
        window.admit(SUBMIT, 7)


def test_answering_a_sequence_number_never_received_is_a_local_error() -> None:
    window = IncomingWindow(limit=5)
    with pytest.raises(UnknownSequenceNumber):
        window.answer(SUBMIT_RESP, 7)


def test_answering_the_same_request_twice_is_a_local_error() -> None:
    window = IncomingWindow(limit=5)
    window.admit(SUBMIT, 7)
    window.answer(SUBMIT_RESP, 7)
    with pytest.raises(UnknownSequenceNumber):
        window.answer(SUBMIT_RESP, 7)


def test_answering_with_another_requests_response_type_is_a_local_error() -> None:
    window = IncomingWindow(limit=5)
    window.admit(SUBMIT, 7)
    with pytest.raises(ResponseMismatch):
        window.answer(CommandId.QUERY_SM_RESP, 7)
    assert 7 in window  # still owed


def test_a_generic_nack_may_answer_any_request() -> None:
    window = IncomingWindow(limit=5)
    window.admit(CommandId.REPLACE_SM, 7)
    window.answer(CommandId.GENERIC_NACK, 7)
    assert 7 not in window


# --- OutgoingWindow: requests the bridge sent --------------------------------------------


def test_our_sequence_numbers_start_at_one_and_count_up() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    assert [window.next_sequence_number() for _ in range(3)] == [1, 2, 3]


def test_our_sequence_numbers_wrap_from_0x7fffffff_back_to_one() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    window._last_sequence_number = 0x7FFFFFFE
    assert [window.next_sequence_number() for _ in range(3)] == [0x7FFFFFFF, 1, 2]


def test_a_wrapped_sequence_number_skips_one_still_awaiting_its_answer() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    window.track(DeliverSm(sequence_number=1), now=0.0)
    window._last_sequence_number = 0x7FFFFFFF
    assert window.next_sequence_number() == 2


def test_a_response_is_matched_to_its_request_and_stops_the_wait() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    request = DeliverSm(sequence_number=5, short_message=b"x")
    window.track(request, now=0.0)
    assert window.match(CommandId.DELIVER_SM_RESP, 5) == request
    assert len(window) == 0
    assert window.match(CommandId.DELIVER_SM_RESP, 5) is None


def test_a_generic_nack_answers_our_request() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    window.track(DeliverSm(sequence_number=5), now=0.0)
    assert window.match(CommandId.GENERIC_NACK, 5) is not None


def test_a_response_of_the_wrong_type_does_not_end_the_wait() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    request = DeliverSm(sequence_number=5)
    window.track(request, now=0.0)
    assert window.match(CommandId.SUBMIT_SM_RESP, 5) is None
    assert window.waiting_for(5) == request


def test_traffic_requests_past_the_limit_are_a_local_error() -> None:
    window = OutgoingWindow(limit=2, timeout=30.0)
    window.track(DeliverSm(sequence_number=1), now=0.0)
    window.track(DeliverSm(sequence_number=2), now=0.0)
    assert not window.has_room_for(CommandId.DELIVER_SM)
    with pytest.raises(WindowFull):
        window.track(DeliverSm(sequence_number=3), now=0.0)


def test_enquire_link_and_unbind_are_never_held_back_by_a_full_window() -> None:
    window = OutgoingWindow(limit=1, timeout=30.0)
    window.track(DeliverSm(sequence_number=1), now=0.0)
    assert window.has_room_for(CommandId.ENQUIRE_LINK)
    window.track(EnquireLink(sequence_number=2), now=0.0)
    window.track(Unbind(sequence_number=3), now=0.0)
    assert len(window) == 3


def test_an_answered_traffic_request_frees_room() -> None:
    window = OutgoingWindow(limit=1, timeout=30.0)
    window.track(DeliverSm(sequence_number=1), now=0.0)
    window.match(CommandId.DELIVER_SM_RESP, 1)
    assert window.has_room_for(CommandId.DELIVER_SM)


def test_the_next_deadline_is_the_oldest_requests() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    assert window.next_deadline() is None
    window.track(DeliverSm(sequence_number=1), now=10.0)
    window.track(DeliverSm(sequence_number=2), now=12.0)
    assert window.next_deadline() == 40.0
    window.match(CommandId.DELIVER_SM_RESP, 1)
    assert window.next_deadline() == 42.0


def test_expire_returns_every_overdue_request_oldest_first_and_keeps_the_rest() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    for number, sent_at in ((1, 0.0), (2, 5.0), (3, 20.0)):
        window.track(DeliverSm(sequence_number=number), now=sent_at)
    assert window.expire(now=29.9) == []
    assert [r.sequence_number for r in window.expire(now=35.0)] == [1, 2]
    assert [r.sequence_number for r in window.requests()] == [3]
    assert window.has_room_for(CommandId.DELIVER_SM)


def test_requests_lists_what_still_waits_oldest_first() -> None:
    window = OutgoingWindow(limit=10, timeout=30.0)
    window.track(SubmitSm(sequence_number=4), now=0.0)
    window.track(EnquireLink(sequence_number=9), now=1.0)
    assert [r.sequence_number for r in window.requests()] == [4, 9]
