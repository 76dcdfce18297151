"""The per-session rules an operator can tune, as one validated value (shared by every session).

Timer defaults follow SMPP 3.4 §7.2 practice (smpp-brief §15): session_init 30 s, response
30 s, an enquire_link after 60 s of silence, and unbind after 300 s of silence. "Silence"
means no PDU at all from the peer: an ESME that answers our pings stays bound for weeks,
as legacy ESMEs expect; one that stops answering is closed by the response timer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# SMPP 3.4 §4.1.2: system_id in bind_*_resp is a C-Octet String of at most 16 octets.
_SYSTEM_ID_MAX = 15
# A bind PDU is at most 98 octets and a submit_sm with a 254-octet short_message about 400.
_MIN_PDU_SIZE = 512
_MAX_PDU_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """What every Session obeys.

    our_system_id: sent in bind_*_resp. window: most unanswered requests per direction.
    max_pdu_size: largest command_length accepted (bigger -> generic_nack 0x02, close).
    session_init_s: connect -> accepted bind, else close. inactivity_s: no PDU from the peer
    for this long -> unbind (0 = off). enquire_link_interval_s: no PDU from the peer for
    this long -> send enquire_link (0 = off). response_timeout_s: wait for the answer to a
    request the bridge sent, and for owed answers after unbind. max_unknown_commands: unknown
    command_ids tolerated (each gets generic_nack 0x03); the next one also closes the session.
    """

    our_system_id: str = "isms-bridge"
    window: int = 100
    max_pdu_size: int = 65_536
    session_init_s: float = 30.0
    inactivity_s: float = 300.0
    enquire_link_interval_s: float = 60.0
    response_timeout_s: float = 30.0
    max_unknown_commands: int = 10

    def __post_init__(self) -> None:
        if not self.our_system_id or len(self.our_system_id) > _SYSTEM_ID_MAX:
            raise ValueError(f"our_system_id must be 1 to {_SYSTEM_ID_MAX} characters")
        if not self.our_system_id.isascii() or not self.our_system_id.isprintable():
            raise ValueError("our_system_id must be printable ASCII")
        if self.window < 1:
            raise ValueError("window must be at least 1")
        if not _MIN_PDU_SIZE <= self.max_pdu_size <= _MAX_PDU_SIZE:
            raise ValueError(f"max_pdu_size must be {_MIN_PDU_SIZE} to {_MAX_PDU_SIZE} octets")
        for name in ("session_init_s", "response_timeout_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds")
        for name in ("inactivity_s", "enquire_link_interval_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be 0 (off) or a positive number of seconds")
        if self.max_unknown_commands < 0:
            raise ValueError("max_unknown_commands must not be negative")
