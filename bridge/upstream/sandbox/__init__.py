"""A faithful local iSMS for newcomers, demos and tests (see server.py and faults.py)."""

from bridge.upstream.sandbox.faults import (
    RESERVED_PREFIX,
    Fault,
    FaultKind,
    SandboxFaults,
    reserved_fault,
)
from bridge.upstream.sandbox.records import SandboxRecord
from bridge.upstream.sandbox.rules import MAX_TEXT_CHARS, PART_CHARS, parts
from bridge.upstream.sandbox.server import DEFAULT_ACCOUNTS, DEFAULT_CREDITS, IsmsSandbox

__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CREDITS",
    "MAX_TEXT_CHARS",
    "PART_CHARS",
    "RESERVED_PREFIX",
    "Fault",
    "FaultKind",
    "IsmsSandbox",
    "SandboxFaults",
    "SandboxRecord",
    "parts",
    "reserved_fault",
]
