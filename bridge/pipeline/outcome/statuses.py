"""iSMS results -> the SMPP command_status a legacy ESME acts on correctly.

The defaults (README, "Status mapping", lists every row):
- 2000 -> ESME_ROK, message_id = the iSMS trx_id (a bridge id when iSMS answered a blank
  success);
- -1006 -> ESME_RINVMSGLEN; -1009 -> ESME_RINVDSTADR;
- -1001..-1005, -1007 and -1012 (after its one retry as type 2) -> ESME_RSUBMITFAIL: the
  message cannot go as it is, and retrying it unchanged would fail the same way;
- -1000, -1008, -1013 -> ESME_RSYSERR: the bridge's or iSMS's fault, worth a retry later;
- a code the API page does not list -> ESME_RSUBMITFAIL (iSMS answered, so nothing was sent);
- not sent (every mirror unreachable, 502/503/504) -> ESME_RSYSERR: safe to retry;
- unknown outcome (read timeout, HTTP 500, an unparseable reply) -> `unknown_outcome_status`:
  ESME_RSYSERR by default, which Kannel and most ESMEs re-queue (a possible duplicate), or
  ESME_RSUBMITFAIL for operators who prefer a possible loss.
Each negative code can be overridden in config (`[isms.status_overrides]`), except that no
refusal may become ESME_ROK: never acknowledge a message iSMS did not take.

-1012 ("Message contain unicode and please use type=2") is the one refusal worth resending:
iSMS refused before sending, so nothing was charged, and type 2 carries any text. The
pipeline chose the type, so the pipeline corrects it (`unicode_retry`): the client stays a
plain "send this once" and never second-guesses what it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, assert_never

from bridge.pdu import CommandStatus
from bridge.upstream import IsmsCode, IsmsMessage, Outcome, SendResult, SmsType

ROK = CommandStatus.ESME_ROK
RSYSERR = CommandStatus.ESME_RSYSERR
RSUBMITFAIL = CommandStatus.ESME_RSUBMITFAIL

DEFAULT_STATUSES: Mapping[int, CommandStatus] = MappingProxyType(
    {
        IsmsCode.SUCCESS: ROK,
        IsmsCode.UNKNOWN_ERROR: RSYSERR,
        IsmsCode.AUTHENTICATION_FAILED: RSUBMITFAIL,
        IsmsCode.ACCOUNT_SUSPENDED: RSUBMITFAIL,
        IsmsCode.IP_NOT_ALLOWED: RSUBMITFAIL,
        IsmsCode.INSUFFICIENT_CREDITS: RSUBMITFAIL,
        IsmsCode.INVALID_SMS_TYPE: RSUBMITFAIL,
        IsmsCode.INVALID_BODY_LENGTH: CommandStatus.ESME_RINVMSGLEN,
        IsmsCode.INVALID_HEX_BODY: RSUBMITFAIL,
        IsmsCode.MISSING_PARAMETER: RSYSERR,
        IsmsCode.INVALID_DESTINATION_NUMBER: CommandStatus.ESME_RINVDSTADR,
        IsmsCode.INVALID_MESSAGE_TYPE: RSUBMITFAIL,
        IsmsCode.INVALID_TERM_AND_AGREEMENT: RSYSERR,
    }
)
UNLISTED_CODE_STATUS = RSUBMITFAIL
NOT_SENT_STATUS = RSYSERR
# The two answers that make sense when iSMS may or may not have sent the message.
UNKNOWN_OUTCOME_STATUSES = (RSYSERR, RSUBMITFAIL)

# Members bound to module names where they are used per message: on Python 3.11 every
# `Outcome.X` lookup (a `case Outcome.X:` too) goes through EnumType's __getattr__ hook.
_ACCEPTED: Final = Outcome.ACCEPTED
_REJECTED: Final = Outcome.REJECTED
_UNKNOWN: Final = Outcome.UNKNOWN
_ASCII: Final = SmsType.ASCII


@dataclass(slots=True, kw_only=True)
class SubmitStatus:
    """What a submit_sm_resp (or data_sm_resp) says: status, and message_id on success."""

    command_status: Final[CommandStatus]
    message_id: Final[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusMapping:
    overrides: Mapping[int, CommandStatus] = field(default_factory=dict)
    unknown_outcome_status: CommandStatus = RSYSERR

    def __post_init__(self) -> None:
        if self.unknown_outcome_status not in UNKNOWN_OUTCOME_STATUSES:
            raise ValueError(
                "unknown_outcome_status must be ESME_RSYSERR or ESME_RSUBMITFAIL, got "
                f"{self.unknown_outcome_status.name}"
            )
        for code, status in self.overrides.items():
            if code == IsmsCode.SUCCESS or code >= 0:
                raise ValueError(f"only negative iSMS codes can be overridden, not {code}")
            if status is ROK:
                raise ValueError(f"iSMS code {code} is a refusal; it cannot map to ESME_ROK")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def status_for(self, result: SendResult) -> CommandStatus:
        outcome = result.outcome
        if outcome is _ACCEPTED:
            return ROK
        if outcome is _REJECTED:
            assert result.code is not None
            status = self.overrides.get(result.code) or DEFAULT_STATUSES.get(result.code)
            return status if status is not None else UNLISTED_CODE_STATUS
        if outcome is _UNKNOWN:
            return self.unknown_outcome_status
        if outcome is Outcome.NOT_SENT:
            return NOT_SENT_STATUS
        assert_never(outcome)

    def submit_status(self, result: SendResult, new_message_id: Callable[[], str]) -> SubmitStatus:
        """The reply for `result`; `new_message_id` names a blank success ("2000 = SUCCESS")."""
        status = self.status_for(result)
        if status is not ROK:
            return SubmitStatus(command_status=status, message_id="")
        return SubmitStatus(command_status=ROK, message_id=result.trx_id or new_message_id())


def unicode_retry(message: IsmsMessage, result: SendResult) -> IsmsMessage | None:
    """The message to send once more, as type 2, after iSMS refused type 1 with -1012.

    Only a type 1 message is retried, so the retry (type 2) can never ask for another.
    """
    if (
        result.outcome is _REJECTED
        and result.code == IsmsCode.INVALID_MESSAGE_TYPE
        and message.sms_type is _ASCII
    ):
        return message.with_type(SmsType.UNICODE)
    return None
