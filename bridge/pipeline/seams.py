"""What the pipeline needs from the layers around it, as Protocols (it imports no `server`).

`bridge.server` satisfies these without the pipeline importing it: its `SessionContext` is a
`SessionInfo`, and its `SessionRegistry` is a `ReceiverRegistry` (LookupError when no
receiver can take a deliver_sm now, ConnectionError when one went out unconfirmed).
"""

from __future__ import annotations

from typing import Protocol

from bridge.pdu import DataSm, DeliverSm, Pdu, SubmitMulti, SubmitSm
from bridge.smpp import BindType, RequestPdu

# The requests a bound session hands to the pipeline (SMPP 3.4 §4.4-§4.10): the session's
# own union, declared once in bridge.smpp, under the name the pipeline gives it.
PipelineRequest = RequestPdu
# Those that carry a message to send: one destination (submit_sm, data_sm) or several
# (submit_multi).
MessagePdu = SubmitSm | SubmitMulti | DataSm


class SessionInfo(Protocol):
    """Who sent a request: the bound session's id, account and bind type."""

    @property
    def session_id(self) -> str: ...

    @property
    def system_id(self) -> str: ...

    @property
    def bind_type(self) -> BindType: ...


class ReceiverRegistry(Protocol):
    def delivery_window(self, system_id: str) -> int:
        """How many deliver_sm may be in flight to the account's receiver and transceiver
        sessions at once (their windows added up; 0 when none can take one)."""
        ...

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        """Send `pdu` to the account's oldest receiver or transceiver and return its response.

        Raises LookupError when no session can take it now (nothing was sent), and
        ConnectionError when it was sent but no response came back in time.
        """
        ...
