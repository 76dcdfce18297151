"""iSMS result codes as the API page lists them, with the text iSMS prints after the code.

Account-level codes also carry the fix an operator must apply; the client logs it.
"""

from __future__ import annotations

import enum


class IsmsCode(enum.IntEnum):
    SUCCESS = 2000
    UNKNOWN_ERROR = -1000
    AUTHENTICATION_FAILED = -1001
    ACCOUNT_SUSPENDED = -1002
    IP_NOT_ALLOWED = -1003
    INSUFFICIENT_CREDITS = -1004
    INVALID_SMS_TYPE = -1005
    INVALID_BODY_LENGTH = -1006
    INVALID_HEX_BODY = -1007
    MISSING_PARAMETER = -1008
    INVALID_DESTINATION_NUMBER = -1009
    INVALID_MESSAGE_TYPE = -1012
    INVALID_TERM_AND_AGREEMENT = -1013


# The description iSMS prints after "<code> = " (API page, "Error Codes").
REPLY_TEXT: dict[IsmsCode, str] = {
    IsmsCode.SUCCESS: "SUCCESS",
    IsmsCode.UNKNOWN_ERROR: "UNKNOWN ERROR",
    IsmsCode.AUTHENTICATION_FAILED: "AUTHENTICATION FAILED",
    IsmsCode.ACCOUNT_SUSPENDED: "ACCOUNT SUSPENDED / EXPIRED",
    IsmsCode.IP_NOT_ALLOWED: "IP NOT ALLOWED",
    IsmsCode.INSUFFICIENT_CREDITS: "INSUFFICIENT CREDITS",
    IsmsCode.INVALID_SMS_TYPE: "INVALID SMS TYPE",
    IsmsCode.INVALID_BODY_LENGTH: "INVALID BODY LENGTH (1-700)",
    IsmsCode.INVALID_HEX_BODY: "INVALID HEX BODY",
    IsmsCode.MISSING_PARAMETER: "MISSING PARAMETER",
    IsmsCode.INVALID_DESTINATION_NUMBER: "INVALID DESTINATION NUMBER",
    IsmsCode.INVALID_MESSAGE_TYPE: "INVALID MESSAGE TYPE",
    IsmsCode.INVALID_TERM_AND_AGREEMENT: "INVALID TERM AND AGREEMENT",
}

# Failures of the iSMS account itself: every message of that account fails the same way
# until an operator acts, so they are logged at error level with what to do.
ACCOUNT_FIXES: dict[IsmsCode, str] = {
    IsmsCode.AUTHENTICATION_FAILED: (
        "check isms_username / isms_password of the accounts using this iSMS account"
    ),
    IsmsCode.ACCOUNT_SUSPENDED: (
        "the iSMS account is suspended or expired: renew it in the iSMS portal or contact iSMS"
    ),
    IsmsCode.IP_NOT_ALLOWED: (
        "ask iSMS to whitelist this server's public IP address for the account"
    ),
    IsmsCode.INSUFFICIENT_CREDITS: "reload credits for the iSMS account in the iSMS portal",
}


def code_name(code: int) -> str:
    """A bounded label for any code: its name, or UNLISTED."""
    try:
        return IsmsCode(code).name
    except ValueError:
        return "UNLISTED"
