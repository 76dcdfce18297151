"""bridge.smpp"""

from bridge.smpp.auth import (
    BIND_TYPES,
    AccountChanges,
    AccountPolicy,
    Authenticator,
    BindDecision,
    BindRefusal,
)
from bridge.smpp.throttle import AccountThrottles, ThrottledAccount, TokenBucket, default_burst

__all__: list[str] = [
    "BIND_TYPES",
    "AccountChanges",
    "AccountPolicy",
    "AccountThrottles",
    "Authenticator",
    "BindDecision",
    "BindRefusal",
    "ThrottledAccount",
    "TokenBucket",
    "default_burst",
]
