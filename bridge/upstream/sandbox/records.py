"""What the sandbox remembers of each send request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxRecord:
    """One send request as the sandbox saw it (never the password)."""

    seq: int
    at: float
    path: str
    method: str
    api: str  # "http", "legacy" (isms_send.php) or "rest"
    username: str
    destinations: tuple[str, ...]
    text: str
    sms_type: str
    sender_id: str
    reply: str  # the body answered, or what happened instead ("HTTP 503", "dropped")
    code: int | None
    trx_id: str | None
    charged: int
    query_keys: tuple[str, ...]  # parameter names in the URL (pwd must not be one on POST)
    content_type: str
    basic_auth: bool
