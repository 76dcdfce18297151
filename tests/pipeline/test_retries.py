"""AwaitingRetries: long messages kept for the ESME's retry of their completing part, bounded."""

from __future__ import annotations

import pytest

from bridge.pdu import SmeAddress
from bridge.pipeline import MessageState
from bridge.pipeline.checks.submission import MessageOrigin
from bridge.pipeline.checks.udh import ConcatenatedPart
from bridge.pipeline.long_messages.reassembly import Complete
from bridge.pipeline.long_messages.retries import (
    AwaitingRetries,
    AwaitingRetry,
    decode_retry,
    encode_retry,
    is_retry_record,
    retry_key,
)
from bridge.state import KeepGroup, MemoryState

COMPLETING = KeepGroup(kind="completing/esme1", key="k", expires_at=1e9, max_records=10)


def kept(reference: int, *, account: str = "esme1", deadline: float = 100.0) -> AwaitingRetry:
    """A 2-part message whose part 2 was answered ESME_RSYSERR."""
    origin = MessageOrigin(
        account=account,
        source_addr="MyBrand",
        destinations=(SmeAddress(destination_addr="60123456789"),),
    )
    complete = Complete(
        origin=origin,
        reference=reference,
        total=2,
        data_coding=0,
        octets=b"hello world",
        answered=(),
        first_part_at=0.0,
    )
    return AwaitingRetry(
        complete=complete,
        seqnum=2,
        payload=b"world",
        deadline=deadline,
        message_state=MessageState.UNDELIVERABLE,
        error_code=255,
    )


def part(seqnum: int, payload: bytes, reference: int = 1) -> ConcatenatedPart:
    return ConcatenatedPart(reference=reference, total=2, seqnum=seqnum, payload=payload)


async def test_past_its_bound_an_account_settles_its_oldest_kept_message() -> None:
    retries = AwaitingRetries(MemoryState(), max_per_account=2)
    first = kept(1)
    assert await retries.keep(first, now=1) == []
    assert await retries.keep(kept(2), now=2) == []
    # To settle now: the peer may not grow this store.
    assert await retries.keep(kept(3), now=3) == [first]
    assert await retries.count("esme1") == 2
    assert await retries.keep(kept(4, account="other"), now=4) == []  # the bound is per account


async def test_the_same_part_again_claims_the_kept_message() -> None:
    retries = AwaitingRetries(MemoryState(), max_per_account=5)
    entry = kept(1)
    await retries.keep(entry, now=0)
    key = retry_key(entry.complete)
    assert await retries.claim(key, part(2, b"world"), now=1, keep=COMPLETING) == (entry, None)
    assert await retries.count("esme1") == 0


async def test_a_claimed_message_is_in_its_completing_record_before_it_leaves_the_retries() -> None:
    state = MemoryState()
    retries = AwaitingRetries(state, max_per_account=5)
    entry = kept(1)
    await retries.keep(entry, now=0)
    await retries.claim(retry_key(entry.complete), part(2, b"world"), now=1, keep=COMPLETING)
    copy = await state.get_record(COMPLETING.kind, COMPLETING.key, now=2)
    assert copy is not None and decode_retry(copy.value) == entry


async def test_another_part_under_the_same_key_supersedes_the_kept_message() -> None:
    retries = AwaitingRetries(MemoryState(), max_per_account=5)
    entry = kept(1)
    await retries.keep(entry, now=0)
    claimed = await retries.claim(
        retry_key(entry.complete), part(1, b"hello "), now=1, keep=COMPLETING
    )
    assert claimed == (None, entry)
    assert await retries.count("esme1") == 0


async def test_keeping_a_message_again_under_its_key_settles_the_one_it_replaces() -> None:
    retries = AwaitingRetries(MemoryState(), max_per_account=5)
    older = kept(1, deadline=50.0)
    await retries.keep(older, now=0)
    assert await retries.keep(kept(1, deadline=60.0), now=1) == [older]


async def test_a_kept_message_expires_at_its_original_deadline() -> None:
    state = MemoryState()
    retries = AwaitingRetries(state, max_per_account=5)
    early, late = kept(1, deadline=10.0), kept(2, deadline=20.0)
    await retries.keep(early, now=0)
    await retries.keep(late, now=0)
    assert await state.expire_records(now=9.9) == ()
    [record] = await state.expire_records(now=10.0)
    assert is_retry_record(record) and decode_retry(record.value) == early
    assert await retries.count("esme1") == 1


def test_a_kept_message_reads_back_as_written() -> None:
    entry = kept(7)
    assert decode_retry(encode_retry(entry)) == entry


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_account"):
        AwaitingRetries(MemoryState(), max_per_account=0)
