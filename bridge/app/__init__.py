"""The application: the composition root, the command line's sub-commands, and metrics.

root.py         `Bridge`, the composition root: every part of one process built from the
                config in order and held typed; `SmppFront`, its SMPP side
settings.py     the one place where the typed config becomes each layer's settings
state.py        chooses and opens the [state] backend
bind_advice.py  a warning when a client will misread its account's receipts
logs.py         the one place that installs logging handlers
commands/       one module per `isms-bridge` sub-command (bridge.cli builds the parser)
metrics/        the Prometheus series, what feeds them, and the /metrics endpoint
admin/          the control plane: the operator's decisions every instance applies
                (steering), and the [admin] HTTP API with its tokens and audit log
"""

# Imported first: the sub-commands build on the root while this package initialises.
from bridge.app.root import Bridge, ReloadResult, SmppFront

# isort: split
from bridge.app.commands import add_commands

__all__ = ["Bridge", "ReloadResult", "SmppFront", "add_commands"]
