"""iSMS results -> SMPP command_status: every default row, overrides, and the -1012 retry.

The expected table is written by hand from the issue, not derived from DEFAULT_STATUSES.
"""

from __future__ import annotations

import pytest

from bridge.pdu import CommandStatus
from bridge.pipeline import StatusMapping, unicode_retry
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult, SmsType

S = CommandStatus


def result(outcome: Outcome, code: int | None = None, trx_id: str | None = None) -> SendResult:
    return SendResult(
        outcome=outcome, code=code, trx_id=trx_id, mirror="m", elapsed_s=0.1, attempts=1
    )


def refused(code: int) -> SendResult:
    return result(Outcome.REJECTED, code)


MESSAGE = IsmsMessage(
    credentials=IsmsCredentials(username="u", password="p"),
    destinations=("60123456789",),
    text="café",
    sms_type=SmsType.ASCII,
    reference="esme/1",
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (-1000, S.ESME_RSYSERR),
        (-1001, S.ESME_RSUBMITFAIL),
        (-1002, S.ESME_RSUBMITFAIL),
        (-1003, S.ESME_RSUBMITFAIL),
        (-1004, S.ESME_RSUBMITFAIL),
        (-1005, S.ESME_RSUBMITFAIL),
        (-1006, S.ESME_RINVMSGLEN),
        (-1007, S.ESME_RSUBMITFAIL),
        (-1008, S.ESME_RSYSERR),
        (-1009, S.ESME_RINVDSTADR),
        (-1012, S.ESME_RSUBMITFAIL),
        (-1013, S.ESME_RSYSERR),
        (-1011, S.ESME_RSUBMITFAIL),  # not on the API page: iSMS answered, nothing sent
        (20001, S.ESME_RSUBMITFAIL),
    ],
)
def test_each_isms_refusal_maps_to_its_status(code: int, status: CommandStatus) -> None:
    assert StatusMapping().status_for(refused(code)) is status


def test_success_is_rok_with_the_trx_id_as_message_id() -> None:
    reply = StatusMapping().submit_status(result(Outcome.ACCEPTED, 2000, "1171081025"), str)
    assert (reply.command_status, reply.message_id) == (S.ESME_ROK, "1171081025")


def test_blank_success_gets_a_bridge_made_message_id() -> None:
    reply = StatusMapping().submit_status(
        result(Outcome.ACCEPTED, 2000), new_message_id=lambda: "0MB2Q3K9XA1B2C3000"
    )
    assert (reply.command_status, reply.message_id) == (S.ESME_ROK, "0MB2Q3K9XA1B2C3000")


def test_refusal_has_an_empty_message_id() -> None:
    assert StatusMapping().submit_status(refused(-1009), str).message_id == ""


def test_not_sent_is_rsyserr_whatever_the_unknown_outcome_setting() -> None:
    mapping = StatusMapping(unknown_outcome_status=S.ESME_RSUBMITFAIL)
    assert mapping.status_for(result(Outcome.NOT_SENT)) is S.ESME_RSYSERR


def test_unknown_outcome_is_rsyserr_by_default() -> None:
    assert StatusMapping().status_for(result(Outcome.UNKNOWN)) is S.ESME_RSYSERR


def test_unknown_outcome_can_be_rsubmitfail() -> None:
    mapping = StatusMapping(unknown_outcome_status=S.ESME_RSUBMITFAIL)
    assert mapping.status_for(result(Outcome.UNKNOWN)) is S.ESME_RSUBMITFAIL


def test_unknown_outcome_status_other_than_the_two_is_refused() -> None:
    with pytest.raises(ValueError, match="ESME_RSYSERR or ESME_RSUBMITFAIL"):
        StatusMapping(unknown_outcome_status=S.ESME_RMSGQFUL)


def test_override_replaces_the_default_for_that_code_only() -> None:
    mapping = StatusMapping(overrides={-1004: S.ESME_RMSGQFUL})
    assert mapping.status_for(refused(-1004)) is S.ESME_RMSGQFUL
    assert mapping.status_for(refused(-1003)) is S.ESME_RSUBMITFAIL


def test_override_to_rok_is_refused_because_isms_did_not_take_the_message() -> None:
    with pytest.raises(ValueError, match="cannot map to ESME_ROK"):
        StatusMapping(overrides={-1009: S.ESME_ROK})


def test_override_of_success_is_refused() -> None:
    with pytest.raises(ValueError, match="only negative"):
        StatusMapping(overrides={2000: S.ESME_RSYSERR})


def test_overrides_cannot_be_changed_after_construction() -> None:
    source = {-1004: S.ESME_RMSGQFUL}
    mapping = StatusMapping(overrides=source)
    source[-1004] = S.ESME_RSYSERR
    assert mapping.status_for(refused(-1004)) is S.ESME_RMSGQFUL


def test_1012_on_type_1_asks_for_one_resend_as_type_2() -> None:
    retry = unicode_retry(MESSAGE, refused(-1012))
    assert retry is not None and retry.sms_type is SmsType.UNICODE
    assert (retry.text, retry.destinations, retry.reference) == (
        MESSAGE.text,
        MESSAGE.destinations,
        MESSAGE.reference,
    )


def test_1012_on_type_2_asks_for_nothing_more() -> None:
    assert unicode_retry(MESSAGE.with_type(SmsType.UNICODE), refused(-1012)) is None


@pytest.mark.parametrize("outcome", [refused(-1009), result(Outcome.UNKNOWN)])
def test_other_results_ask_for_no_resend(outcome: SendResult) -> None:
    assert unicode_retry(MESSAGE, outcome) is None
