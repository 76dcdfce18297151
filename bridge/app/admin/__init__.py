"""The control plane: see and steer a running bridge, across instances.

steering.py  `Steering`: suspensions, mirrors taken out, drain, the binds of every instance
             and commands between instances, all through the state store (every instance
             runs one, with or without an [admin] listener)
gate.py      where those decisions meet SMPP: the bind authority and submit handler wrappers
server.py    `AdminServer`: the HTTP API on [admin] (aiohttp), its auth middleware
views.py     the read routes; actions.py the operate routes; openapi.py their description
tokens.py    bearer tokens, scopes, constant-time comparison; audit.py the audit log
records.py   what is kept in the store; metrics.py the series
"""

from bridge.app.admin.audit import AuditLog
from bridge.app.admin.gate import SteeredAuthority, SteeredHandler
from bridge.app.admin.metrics import AdminMetrics, steering_series
from bridge.app.admin.server import AdminServer
from bridge.app.admin.steering import Steering
from bridge.app.admin.views import AdminParts

__all__ = [
    "AdminMetrics",
    "AdminParts",
    "AdminServer",
    "AuditLog",
    "SteeredAuthority",
    "SteeredHandler",
    "Steering",
    "steering_series",
]
