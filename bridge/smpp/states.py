"""The session's states, bind types, timers and close reasons (SMPP 3.4 §2.2, §7.2).

Names follow the spec's session states (OPEN, BOUND_TX, BOUND_RX, BOUND_TRX, CLOSED) plus
the ones the spec leaves implicit, the way h11 adds MUST_CLOSE: BINDING (a bind is being
judged, so a second bind has a defined answer), UNBINDING (the bridge sent unbind and waits
for unbind_resp) and UNBOUND (unbind done; answers still owed may go out, then close).
What each state allows lives in `table.py`; this module only names things.
"""

from __future__ import annotations

import enum


class SessionState(enum.Enum):
    OPEN = "open"  # connected, no bind yet (session_init timer running)
    BINDING = "binding"  # bind received; the application has not answered it yet
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"  # the bridge sent unbind, waiting for unbind_resp
    UNBOUND = "unbound"  # unbind exchanged; close once every owed answer has gone out
    CLOSED = "closed"  # the session is over: flush what is queued, then close the socket

    # Members are singletons compared by identity, so the identity hash is the right one;
    # Enum's own is a Python call hashing the name, and tables keyed by a state are
    # looked up several times per message.
    __hash__ = object.__hash__


class BindType(enum.StrEnum):
    """The three binds, by the names the config uses (`bind_types = ["transmitter", ...]`)."""

    TRANSMITTER = "transmitter"  # bind_transmitter, SMPP 3.4 §4.1.1
    RECEIVER = "receiver"  # bind_receiver, §4.1.3
    TRANSCEIVER = "transceiver"  # bind_transceiver, §4.1.5


class Timer(enum.Enum):
    """The SMPP 3.4 §7.2 timers, plus the wait for owed answers after an unbind."""

    SESSION_INIT = "session_init"  # no bind within session_init_s: close
    ENQUIRE_LINK = "enquire_link"  # peer silent for enquire_link_interval_s: ping it
    INACTIVITY = "inactivity"  # peer silent for inactivity_s: unbind
    RESPONSE = "response"  # a request the bridge sent got no answer in response_timeout_s
    UNBOUND_DRAIN = "unbound_drain"  # unbound, answers still owed after response_timeout_s


class CloseReason(enum.Enum):
    """Why the session decided to close (for the shell's log line and metrics)."""

    PEER_CLOSED = "peer_closed"
    FRAMING_LOST = "framing_lost"  # command_length < 16 or over max_pdu_size
    BIND_REFUSED = "bind_refused"
    UNBOUND = "unbound"  # unbind exchanged, in either direction
    SESSION_INIT_TIMEOUT = "session_init_timeout"
    ENQUIRE_LINK_TIMEOUT = "enquire_link_timeout"  # our enquire_link got no answer
    UNBIND_TIMEOUT = "unbind_timeout"  # our unbind got no unbind_resp
    UNBOUND_DRAIN_TIMEOUT = "unbound_drain_timeout"
    UNKNOWN_COMMANDS = "unknown_commands"  # the budget of unknown command_ids is spent
    STOPPED = "stopped"  # the application ended a session that had not bound (start_unbind)
