"""The asyncio shell around `bridge.smpp.Session`: listeners, connections, graceful stop.

The application plugs in two objects (`server` never imports `pipeline`; `app` wires them):

    registry = SessionRegistry()
    server = SmppServer(settings, authority=AccountAuthority(authenticator, throttles),
                        handler=my_submit_handler, registry=registry)
    await server.start()
    ...
    await registry.deliver("esme1", DeliverSm(...))   # a receipt to the oldest RX/TRX bind
    await server.shutdown()                           # graceful stop (SIGTERM)

`BindAuthority` decides binds and meters throughput; `SubmitHandler` answers submit_sm,
submit_multi, data_sm, query_sm, cancel_sm and replace_sm; `SessionListener` hears of
binds and closes.
"""

from bridge.server.authority import AccountAuthority, ServedAccount
from bridge.server.budget import ReadBudget
from bridge.server.handlers import (
    BindAttempt,
    BindAuthority,
    BindVerdict,
    Peer,
    SessionContext,
    SessionListener,
    SubmitHandler,
    SubmitRequest,
)
from bridge.server.limits import ConnectionRefusal
from bridge.server.listener import BoundSession, ServerState, SmppServer, tls_context
from bridge.server.observer import ConnectionObserver, NoConnectionObserver
from bridge.server.proxied import ProxyOutcome
from bridge.server.registry import (
    DeliveryNotConfirmed,
    NoReceiverBound,
    ReceiverBusy,
    RegisteredSession,
    SessionRegistry,
)
from bridge.server.settings import ProxySettings, ServerSettings, TlsSettings
from bridge.server.shared_limits import ClusterObserver, SharedLimits, SharedStore, Throughput

__all__ = [
    "AccountAuthority",
    "BindAttempt",
    "BindAuthority",
    "BindVerdict",
    "BoundSession",
    "ClusterObserver",
    "ConnectionObserver",
    "ConnectionRefusal",
    "DeliveryNotConfirmed",
    "NoConnectionObserver",
    "NoReceiverBound",
    "Peer",
    "ProxyOutcome",
    "ProxySettings",
    "ReadBudget",
    "ReceiverBusy",
    "RegisteredSession",
    "ServedAccount",
    "ServerSettings",
    "ServerState",
    "SessionContext",
    "SessionListener",
    "SessionRegistry",
    "SharedLimits",
    "SharedStore",
    "SmppServer",
    "SubmitHandler",
    "SubmitRequest",
    "Throughput",
    "TlsSettings",
    "tls_context",
]
