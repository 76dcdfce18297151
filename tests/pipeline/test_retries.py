"""AwaitingRetries: long messages kept for the ESME's retry of their completing part, bounded."""

from __future__ import annotations

import pytest

from bridge.pdu import SmeAddress
from bridge.pipeline import Complete, ConcatenatedPart, MessageOrigin, MessageState
from bridge.pipeline.retries import AwaitingRetries, AwaitingRetry, retry_key


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


def test_past_its_bound_an_account_keeps_no_more_and_the_new_one_is_settled_at_once() -> None:
    retries = AwaitingRetries(max_per_account=2)
    assert retries.keep(kept(1)) is None and retries.keep(kept(2)) is None
    third = kept(3)
    assert retries.keep(third) is third  # to settle now: the peer may not grow this store
    assert len(retries) == 2
    assert retries.keep(kept(4, account="other")) is None  # the bound is per account


def test_the_same_part_again_claims_the_kept_message() -> None:
    retries = AwaitingRetries(max_per_account=5)
    entry = kept(1)
    retries.keep(entry)
    assert retries.claim(retry_key(entry.complete), part(2, b"world")) == (entry, None)
    assert len(retries) == 0


def test_another_part_under_the_same_key_supersedes_the_kept_message() -> None:
    retries = AwaitingRetries(max_per_account=5)
    entry = kept(1)
    retries.keep(entry)
    assert retries.claim(retry_key(entry.complete), part(1, b"hello ")) == (None, entry)
    assert len(retries) == 0


def test_a_kept_message_is_given_up_at_its_original_deadline() -> None:
    retries = AwaitingRetries(max_per_account=5)
    early, late = kept(1, deadline=10.0), kept(2, deadline=20.0)
    retries.keep(early)
    retries.keep(late)
    assert retries.expire(9.9) == []
    assert retries.expire(10.0) == [early]
    assert len(retries) == 1


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_account"):
        AwaitingRetries(max_per_account=0)
