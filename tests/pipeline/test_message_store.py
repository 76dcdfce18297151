"""The bounded store of recent messages behind query_sm (SMPP 3.4 §4.8), and message records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.pipeline import MessageRecord, MessageState, MessageStore, decode_record
from bridge.pipeline.outcome.message_store import StoredMessage, absolute_time
from bridge.pipeline.outcome.records import encode_record
from bridge.state import MemoryState

FINAL = datetime(2024, 3, 9, 14, 6, 1, tzinfo=UTC)


def message(
    message_id: str,
    *,
    account: str = "alice",
    state: MessageState = MessageState.ACCEPTED,
    final: datetime | None = FINAL,
    error_code: int = 0,
) -> MessageRecord:
    return MessageRecord(
        account=account,
        message_ids=(message_id,),
        pdu="submit_sm",
        source_addr="MyBrand",
        destinations=("60123456789",),
        parts=1,
        status="ESME_ROK",
        message_state=int(state),
        error_code=error_code,
        received_at=0.0,
        answered_at=0.0,
        final_at=None if final is None else final.timestamp(),
    )


def new_store(**bounds: float) -> MessageStore:
    return MessageStore(MemoryState(), **bounds)  # type: ignore[arg-type]


async def find(
    store: MessageStore, message_id: str, *, now: float, account: str = "alice"
) -> StoredMessage | None:
    return await store.lookup(account=account, message_id=message_id, now=now, zone=UTC)


async def test_a_recorded_message_is_found_with_its_state_date_and_error() -> None:
    store = new_store()
    await store.record(message("123", state=MessageState.REJECTED, error_code=4), now=10)
    assert await find(store, "123", now=11) == StoredMessage(
        account="alice",
        message_id="123",
        message_state=MessageState.REJECTED,
        final_date=FINAL,
        error_code=4,
    )


async def test_an_unknown_id_is_not_found() -> None:
    assert await find(new_store(), "nope", now=0) is None


async def test_another_accounts_message_is_not_found() -> None:
    store = new_store()
    await store.record(message("123"), now=0)
    assert await find(store, "123", now=0, account="bob") is None


async def test_two_accounts_may_hold_the_same_id_without_clobbering() -> None:
    store = new_store()
    await store.record(message("123"), now=0)
    await store.record(message("123", account="bob", state=MessageState.REJECTED), now=0)
    found = await find(store, "123", now=0)
    assert found is not None and found.message_state is MessageState.ACCEPTED


async def test_recording_an_id_again_replaces_its_state() -> None:
    store = new_store()
    await store.record(message("1", state=MessageState.ENROUTE, final=None), now=0)
    await store.record(message("1"), now=5)
    found = await find(store, "1", now=5)
    assert found is not None
    assert (found.message_state, found.final_date) == (MessageState.ACCEPTED, FINAL)


async def test_every_message_id_of_a_record_finds_it() -> None:
    store = new_store()
    record = message("1")
    await store.record(
        MessageRecord(**{**_fields(record), "message_ids": ("P1", "P2", "9")}), now=0
    )
    assert [await find(store, i, now=0) is not None for i in ("P1", "P2", "9")] == [True] * 3


async def test_the_oldest_message_goes_when_the_count_bound_is_reached() -> None:
    store = new_store(max_messages=3)
    for number in range(4):
        await store.record(message(str(number)), now=number)
    assert await find(store, "0", now=4) is None
    assert await find(store, "3", now=4) is not None


async def test_a_re_recorded_message_counts_as_new_for_eviction() -> None:
    store = new_store(max_messages=2)
    for message_id, now in (("a", 0), ("b", 1), ("a", 2), ("c", 3)):
        await store.record(message(message_id), now=now)
    assert await find(store, "a", now=3) is not None
    assert await find(store, "b", now=3) is None


async def test_a_message_older_than_max_age_is_no_longer_found() -> None:
    store = new_store(max_age=100)
    await store.record(message("old"), now=0)
    assert await find(store, "old", now=99) is not None
    assert await find(store, "old", now=100) is None


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        new_store(max_messages=0)


async def test_an_error_code_that_does_not_fit_query_sm_resp_is_refused() -> None:
    with pytest.raises(ValueError, match="Int1"):
        await new_store().record(message("1", error_code=1004), now=0)


def test_a_message_record_reads_back_as_written() -> None:
    record = MessageRecord(
        **{**_fields(message("1")), "trx_id": "555", "isms_code": 2000, "text": "Hi £5"}
    )
    assert decode_record(encode_record(record)) == record


def test_a_record_is_compact_utf8_json_that_any_json_reader_reads() -> None:
    # What an operator sees with the sqlite3 shell or redis-cli: readable text, no escapes.
    record = MessageRecord(**{**_fields(message("1")), "text": "Hi £5 \U0001f600", "trx_id": "555"})
    value = encode_record(record)
    assert "£5 \U0001f600".encode() in value and b", " not in value and b": " not in value
    assert json.loads(value)[0] == 4 and json.loads(value)[18] == "Hi £5 \U0001f600"


def test_a_record_keeps_its_times_to_the_millisecond() -> None:
    times = {"received_at": 1764636000.1234, "answered_at": 1764636000.2996, "sent_at": 0.0006}
    record = MessageRecord(**{**_fields(message("1")), **times, "final_at": 1764636001.5})
    read = decode_record(encode_record(record))
    assert (read.received_at, read.answered_at, read.final_at, read.sent_at) == (
        1764636000.123,
        1764636000.3,
        1764636001.5,
        0.001,
    )


def test_a_record_keeps_the_addresses_ton_npi_and_each_ids_user_message_reference() -> None:
    record = MessageRecord(
        **{**_fields(message("1")), "message_ids": ("1", "2"), "destinations": ("601", "602"),
           "source_addr_ton": 5, "source_addr_npi": 0,
           "destination_types": ((1, 1), (0, 1)), "user_message_references": (None, 4242)}
    )  # fmt: skip
    assert decode_record(encode_record(record)) == record


def test_a_record_written_in_version_3_reads_with_0_0_and_no_user_message_reference() -> None:
    value = (
        b'[3,"acct",["7"],"submit_sm","Brand",["60123"],1,"ESME_ROK",2,0,'
        b'1764636000250,1764636000500,1764636000500,"555",2000,"www",1764636000300,"none",'
        b'null,"r",2,"",""]'
    )
    record = decode_record(value)
    assert (record.credits, record.received_at) == (2, 1764636000.25)
    assert (record.source_addr_ton, record.source_addr_npi) == (0, 0)
    assert (record.destination_types, record.user_message_references) == ((), ())


def test_a_record_written_in_version_1_with_float_seconds_still_reads() -> None:
    value = (
        b'[1,"acct",["7"],"submit_sm","Brand",["60123"],1,"ESME_ROK",2,0,'
        b'1764636000.25,1764636000.5,1764636000.5,"555",2000,"www",1764636000.3,"none",null,"r"]'
    )
    record = decode_record(value)
    assert (record.received_at, record.final_at, record.sent_at) == (
        1764636000.25,
        1764636000.5,
        1764636000.3,
    )


def test_a_value_that_is_no_message_record_is_refused() -> None:
    with pytest.raises(ValueError, match="message record"):
        decode_record(b"[3]")


def _fields(record: MessageRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in MessageRecord.__slots__}


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
