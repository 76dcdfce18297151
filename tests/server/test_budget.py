"""TurnSlice: one connection's share of an event-loop turn, in PDUs and octets."""

from __future__ import annotations

import pytest

from bridge.pdu import EnquireLink, SubmitSm, encode
from bridge.server import ReadBudget
from bridge.server.budget import SPENT, TurnSlice
from bridge.smpp import NEED_DATA, EnquireLinkReceived, Session, SessionConfig


def session_holding(*wires: bytes) -> Session:
    session = Session(SessionConfig(), now=0.0)
    session.receive_data(b"".join(wires), 0.0)
    return session


def pings(count: int) -> list[bytes]:
    return [encode(EnquireLink(sequence_number=n)) for n in range(1, count + 1)]


def take_all(turn: TurnSlice, session: Session) -> list[object]:
    taken: list[object] = []
    while (event := turn.next_event(session)) is not NEED_DATA:
        taken.append(event)
        if event is SPENT:
            break
    return taken


def test_a_turn_hands_out_at_most_its_budget_of_pdus_then_spent() -> None:
    session = session_holding(*pings(10))
    taken = take_all(TurnSlice(ReadBudget(pdus=4)), session)
    assert len(taken) == 5 and taken[-1] is SPENT
    assert all(isinstance(event, EnquireLinkReceived) for event in taken[:4])


def test_what_a_spent_turn_leaves_is_handed_out_by_the_next_turn() -> None:
    session = session_holding(*pings(10))
    take_all(TurnSlice(ReadBudget(pdus=4)), session)
    take_all(TurnSlice(ReadBudget(pdus=4)), session)
    rest = take_all(TurnSlice(ReadBudget(pdus=4)), session)
    assert [event.sequence_number for event in rest] == [9, 10]  # type: ignore[attr-defined]


def test_a_turn_that_runs_out_of_input_says_need_data_not_spent() -> None:
    session = session_holding(*pings(3))
    turn = TurnSlice(ReadBudget(pdus=4))
    assert len(take_all(turn, session)) == 3
    assert turn.next_event(session) is NEED_DATA
    session.receive_data(b"".join(pings(1)), 0.0)
    assert turn.next_event(session) not in (NEED_DATA, SPENT)  # the fourth PDU still fits


def test_large_pdus_spend_the_octet_budget_before_the_pdu_budget() -> None:
    big = encode(SubmitSm(sequence_number=1, short_message=b"x" * 200))
    session = session_holding(big, big, big)
    turn = TurnSlice(ReadBudget(pdus=100, octets=len(big) + 1))
    assert turn.next_event(session) is not SPENT
    assert turn.next_event(session) is not SPENT  # the octet that was left still allows one
    assert turn.next_event(session) is SPENT


def test_a_turn_fed_byte_by_byte_counts_only_whole_pdus() -> None:
    session = Session(SessionConfig(), now=0.0)
    turn = TurnSlice(ReadBudget(pdus=2))
    for byte in b"".join(pings(3)):
        session.receive_data(bytes([byte]), 0.0)
        take_all(turn, session)
    assert turn.next_event(session) is SPENT


@pytest.mark.parametrize(("pdus", "octets"), [(0, 65_536), (1, 15)])
def test_a_budget_that_cannot_take_one_pdu_is_refused(pdus: int, octets: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        ReadBudget(pdus=pdus, octets=octets)
