"""BindAdvice: one warning when Kannel binds to an account whose receipts it cannot finish,
and every observer call passed on to the metrics unchanged."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bridge.app.bind_advice import BindAdvice
from bridge.config import AccountConfig
from bridge.pdu import CommandStatus, SubmitSm, SubmitSmResp
from bridge.server import BindAttempt, BindVerdict, Peer, SessionContext
from bridge.smpp import BindType, EnquireLinkReceived

ESME1 = AccountConfig(
    system_id="esme1", password="secret1", isms_username="isms", isms_password="isms123"
)
KANNEL = dataclasses.replace(ESME1, system_id="kannel1", profile="kannel", report_delivered=True)
ACCEPTED = BindVerdict(command_status=CommandStatus.ESME_ROK)
PEER = Peer(host="127.0.0.1", port=40000)
CONTEXT = SessionContext(
    session_id="s1", peer=PEER, system_id="esme1", bind_type=BindType.TRANSCEIVER
)


def bind(system_id: str = "esme1", system_type: str = "VMA") -> BindAttempt:
    return BindAttempt(
        session_id="s1",
        peer=PEER,
        bind_type=BindType.TRANSCEIVER,
        system_id=system_id,
        password="secret1",
        system_type=system_type,
    )


def hints(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "esme_profile_hint" in r.getMessage()]


class Recorder:
    """A ConnectionObserver that notes each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def event_received(self, context: object, event: object) -> None:
        self.calls.append("event_received")

    def bind_decided(self, attempt: object, verdict: object) -> None:
        self.calls.append("bind_decided")

    def request_throttled(self, context: object, request: object, parts: int) -> None:
        self.calls.append("request_throttled")

    def request_answered(
        self, context: object, request: object, response: object, elapsed_s: float | None
    ) -> None:
        self.calls.append("request_answered")

    def pdus_sent(self, data: bytes) -> None:
        self.calls.append("pdus_sent")


def test_kannel_binding_to_an_account_whose_receipts_say_acceptd_is_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    advice = BindAdvice([ESME1])
    with caplog.at_level(logging.WARNING):
        advice.bind_decided(bind(), ACCEPTED)
        advice.bind_decided(bind(), ACCEPTED)
    (hint,) = hints(caplog)
    assert "system_id=esme1 system_type=VMA profile=generic" in hint
    assert 'profile = \\"kannel\\"' in hint and "DLR type 4" in hint


def test_an_account_whose_receipts_say_delivrd_gets_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        BindAdvice([KANNEL]).bind_decided(bind("kannel1"), ACCEPTED)
    assert hints(caplog) == []


@pytest.mark.parametrize(
    ("attempt", "verdict"),
    [
        (bind(system_type=""), ACCEPTED),
        (bind(system_type="SMPP"), ACCEPTED),
        (bind(), BindVerdict(command_status=CommandStatus.ESME_RINVPASWD)),
        (bind("guess"), ACCEPTED),
    ],
    ids=["no-system-type", "other-system-type", "refused", "unknown-account"],
)
def test_other_clients_refused_binds_and_unknown_accounts_get_no_warning(
    caplog: pytest.LogCaptureFixture, attempt: BindAttempt, verdict: BindVerdict
) -> None:
    with caplog.at_level(logging.WARNING):
        BindAdvice([ESME1]).bind_decided(attempt, verdict)
    assert hints(caplog) == []


def test_a_reload_that_changes_the_account_judges_it_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    advice = BindAdvice([ESME1])
    with caplog.at_level(logging.WARNING):
        advice.bind_decided(bind(), ACCEPTED)
        advice.reload([ESME1])  # unchanged: already warned
        advice.bind_decided(bind(), ACCEPTED)
        advice.reload([dataclasses.replace(ESME1, report_delivered=True)])
        advice.bind_decided(bind(), ACCEPTED)  # fixed: nothing to say
        advice.reload([ESME1])  # back to ACCEPTD: worth saying again
        advice.bind_decided(bind(), ACCEPTED)
    assert len(hints(caplog)) == 2


def test_every_observer_call_reaches_the_wrapped_observer() -> None:
    inner = Recorder()
    advice = BindAdvice([ESME1], inner)
    advice.event_received(CONTEXT, EnquireLinkReceived(sequence_number=1))
    advice.bind_decided(bind(), ACCEPTED)
    advice.request_throttled(CONTEXT, SubmitSm(), 1)
    advice.request_answered(CONTEXT, SubmitSm(), SubmitSmResp(message_id="1"), 0.01)
    advice.pdus_sent(b"")
    assert inner.calls == [
        "event_received",
        "bind_decided",
        "request_throttled",
        "request_answered",
        "pdus_sent",
    ]
