"""The bounded store of recent messages behind query_sm (SMPP 3.4 §4.8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.pipeline import MessageState, MessageStore, StoredMessage, absolute_time

FINAL = datetime(2024, 3, 9, 14, 6, 1, tzinfo=UTC)


def record(store: MessageStore, message_id: str, *, now: float, account: str = "alice") -> None:
    store.record(
        account=account,
        message_id=message_id,
        message_state=MessageState.ACCEPTED,
        final_date=FINAL,
        now=now,
    )


def test_a_recorded_message_is_found_with_its_state_date_and_error() -> None:
    store = MessageStore()
    store.record(
        account="alice",
        message_id="123",
        message_state=MessageState.REJECTED,
        final_date=FINAL,
        error_code=4,
        now=10,
    )
    assert store.lookup(account="alice", message_id="123", now=11) == StoredMessage(
        account="alice",
        message_id="123",
        message_state=MessageState.REJECTED,
        final_date=FINAL,
        error_code=4,
        recorded_at=10,
    )


def test_an_unknown_id_is_not_found() -> None:
    assert MessageStore().lookup(account="alice", message_id="nope", now=0) is None


def test_another_accounts_message_is_not_found() -> None:
    store = MessageStore()
    record(store, "123", now=0, account="alice")
    assert store.lookup(account="bob", message_id="123", now=0) is None


def test_two_accounts_may_hold_the_same_id_without_clobbering() -> None:
    store = MessageStore()
    record(store, "123", now=0, account="alice")
    store.record(
        account="bob", message_id="123", message_state=MessageState.REJECTED, final_date=None,
        now=0,
    )  # fmt: skip
    found = store.lookup(account="alice", message_id="123", now=0)
    assert found is not None and found.message_state is MessageState.ACCEPTED


def test_recording_an_id_again_replaces_its_state() -> None:
    store = MessageStore()
    store.record(
        account="alice", message_id="1", message_state=MessageState.ENROUTE, final_date=None,
        now=0,
    )  # fmt: skip
    record(store, "1", now=5)
    found = store.lookup(account="alice", message_id="1", now=5)
    assert found is not None
    assert (found.message_state, found.final_date) == (MessageState.ACCEPTED, FINAL)
    assert len(store) == 1


def test_the_oldest_message_goes_when_the_count_bound_is_reached() -> None:
    store = MessageStore(max_messages=3)
    for number in range(4):
        record(store, str(number), now=number)
    assert len(store) == 3
    assert store.lookup(account="alice", message_id="0", now=4) is None
    assert store.lookup(account="alice", message_id="3", now=4) is not None


def test_a_re_recorded_message_counts_as_new_for_eviction() -> None:
    store = MessageStore(max_messages=2)
    record(store, "a", now=0)
    record(store, "b", now=1)
    record(store, "a", now=2)
    record(store, "c", now=3)
    assert store.lookup(account="alice", message_id="a", now=3) is not None
    assert store.lookup(account="alice", message_id="b", now=3) is None


def test_a_message_older_than_max_age_is_no_longer_found() -> None:
    store = MessageStore(max_age=100)
    record(store, "old", now=0)
    assert store.lookup(account="alice", message_id="old", now=99) is not None
    assert store.lookup(account="alice", message_id="old", now=100) is None
    assert len(store) == 0


def test_recording_drops_messages_past_their_age() -> None:
    store = MessageStore(max_age=100)
    record(store, "old", now=0)
    record(store, "new", now=150)
    assert len(store) == 1


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MessageStore(max_messages=0)


def test_an_error_code_that_does_not_fit_query_sm_resp_is_refused() -> None:
    with pytest.raises(ValueError, match="Int1"):
        MessageStore().record(
            account="a", message_id="1", message_state=MessageState.REJECTED, final_date=None,
            error_code=1004, now=0,
        )  # fmt: skip


def test_absolute_time_writes_utc_in_smpp_form() -> None:
    assert absolute_time(FINAL.replace(microsecond=700_000)) == "240309140601700+"


def test_absolute_time_takes_a_naive_datetime_as_utc() -> None:
    assert absolute_time(datetime(2024, 3, 9, 14, 6, 1)) == "240309140601000+"


def test_absolute_time_writes_the_offset_in_quarter_hours() -> None:
    kuala_lumpur = timezone(timedelta(hours=8))
    assert absolute_time(datetime(2024, 3, 9, 22, 6, 1, tzinfo=kuala_lumpur)) == "240309220601032+"


def test_absolute_time_writes_a_negative_offset_with_a_minus() -> None:
    st_johns = timezone(-timedelta(hours=3, minutes=30))
    assert absolute_time(datetime(2024, 1, 2, 3, 4, 5, tzinfo=st_johns)) == "240102030405014-"
