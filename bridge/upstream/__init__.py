"""The iSMS upstream: `IsmsClient` with mirror failover, the HTTP seam and its adapters, the
reply parser, balance polling and the built-in sandbox. Knows nothing of SMPP."""

from bridge.upstream.alarms import AccountAlarms
from bridge.upstream.api import (
    Api,
    HttpMethod,
    HttpRequest,
    balance_request,
    balance_url,
    send_request,
)
from bridge.upstream.balance import BalanceCallback, BalancePoller, BalanceReading, BalanceSource
from bridge.upstream.client import (
    ClientState,
    IsmsClient,
    IsmsSender,
    make_transport,
)
from bridge.upstream.codes import ACCOUNT_FIXES, REPLY_TEXT, IsmsCode, code_name
from bridge.upstream.errors import NotSent, OutcomeUnknown, UpstreamError
from bridge.upstream.messages import (
    DEFAULT_MAX_DESTINATIONS,
    IsmsCredentials,
    IsmsMessage,
    Outcome,
    SendResult,
    SmsType,
    split_destinations,
)
from bridge.upstream.mirrors import (
    DEFAULT_BREAKER_FAILURES,
    FAILOVER_STATUSES,
    BreakerState,
    Mirror,
    MirrorSet,
    Verdict,
    judge_attempt,
    log_safe_url,
)
from bridge.upstream.observer import NoUpstreamObserver, UpstreamObserver
from bridge.upstream.replies import (
    BalanceReply,
    IsmsReply,
    UnparseableReply,
    parse_balance_reply,
    parse_send_reply,
)
from bridge.upstream.sandbox import (
    DEFAULT_ACCOUNTS,
    DEFAULT_CREDITS,
    RESERVED_PREFIX,
    IsmsSandbox,
    SandboxFaults,
    SandboxRecord,
)
from bridge.upstream.settings import (
    MIRROR_HOSTS,
    HttpClientKind,
    IsmsSettings,
    default_endpoints,
)
from bridge.upstream.transport import (
    MAX_REPLY_BYTES,
    FakeTransport,
    HttpReply,
    HttpTransport,
    SeenRequest,
    Timeouts,
)

__all__ = [
    "ACCOUNT_FIXES",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_BREAKER_FAILURES",
    "DEFAULT_CREDITS",
    "DEFAULT_MAX_DESTINATIONS",
    "FAILOVER_STATUSES",
    "MAX_REPLY_BYTES",
    "MIRROR_HOSTS",
    "REPLY_TEXT",
    "RESERVED_PREFIX",
    "AccountAlarms",
    "Api",
    "BalanceCallback",
    "BalancePoller",
    "BalanceReading",
    "BalanceReply",
    "BalanceSource",
    "BreakerState",
    "ClientState",
    "FakeTransport",
    "HttpClientKind",
    "HttpMethod",
    "HttpReply",
    "HttpRequest",
    "HttpTransport",
    "IsmsClient",
    "IsmsCode",
    "IsmsCredentials",
    "IsmsMessage",
    "IsmsReply",
    "IsmsSandbox",
    "IsmsSender",
    "IsmsSettings",
    "Mirror",
    "MirrorSet",
    "NoUpstreamObserver",
    "NotSent",
    "Outcome",
    "OutcomeUnknown",
    "SandboxFaults",
    "SandboxRecord",
    "SeenRequest",
    "SendResult",
    "SmsType",
    "Timeouts",
    "UnparseableReply",
    "UpstreamError",
    "UpstreamObserver",
    "Verdict",
    "balance_request",
    "balance_url",
    "code_name",
    "default_endpoints",
    "judge_attempt",
    "log_safe_url",
    "make_transport",
    "parse_balance_reply",
    "parse_send_reply",
    "send_request",
    "split_destinations",
]
