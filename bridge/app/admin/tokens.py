"""Bearer tokens of the admin API: who is calling, and may they do this.

Rules:
1. A token travels only in `Authorization: Bearer <token>`. A request carrying anything
   that looks like a credential in its query string (`?token=`, `?access_token=`, ...) is
   refused (400) before anything else, even with a good header: query strings end up in
   proxy and browser logs, which is where Kannel's and Jasmin's admin passwords leak.
2. The presented token is compared with every configured token in constant time
   (`hmac.compare_digest` of SHA-256 digests, so lengths do not show either), all of them
   every time: how long a refusal takes says nothing about how close a guess was, or which
   token it was close to.
3. `read` may call the read routes, `operate` every route.
4. A refusal is counted and logged with its reason, the route and the caller's address,
   never with what was presented.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridge.config import AdminToken

# Query parameter names that carry credentials somewhere; any of them is refused (rule 1).
CREDENTIAL_PARAMETERS = frozenset(
    {
        "token",
        "access_token",
        "bearer",
        "auth",
        "authorization",
        "api_key",
        "apikey",
        "key",
        "password",
        "pwd",
        "secret",
    }
)
SCOPES: Mapping[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "operate": frozenset({"read", "operate"}),
}


class Refusal(enum.Enum):
    """Why a call was refused (the `reason` label of the auth failures metric)."""

    MISSING = "missing"  # 401: no Authorization header, or not a Bearer one
    INVALID = "invalid"  # 401: no configured token matches
    SCOPE = "scope"  # 403: a read token on an operate route
    QUERY_STRING = "query_string"  # 400: a credential in the query string (rule 1)

    @property
    def status(self) -> int:
        return {"missing": 401, "invalid": 401, "scope": 403, "query_string": 400}[self.value]

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Refusal.MISSING: "send the token as `Authorization: Bearer <token>`",
    Refusal.INVALID: "the token is not valid",
    Refusal.SCOPE: "this token's scope is read; this route needs operate",
    Refusal.QUERY_STRING: "credentials are never accepted in the query string (it ends up in "
    "proxy and access logs); send `Authorization: Bearer <token>` and revoke the token you "
    "just sent",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    name: str
    scope: str


class Tokens:
    """The configured tokens, kept only as digests."""

    __slots__ = ("_known",)

    def __init__(self, tokens: Iterable[AdminToken]) -> None:
        self._known = tuple(
            (hashlib.sha256(t.token.encode()).digest(), Caller(name=t.name, scope=t.scope))
            for t in tokens
        )

    def caller(self, presented: str) -> Caller | None:
        """Whose token this is, compared with every one in constant time (rule 2)."""
        digest = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
        found: Caller | None = None
        for known, caller in self._known:
            if hmac.compare_digest(digest, known):
                found = caller
        return found

    def check(
        self, authorization: str | None, query: Iterable[str], needed: str
    ) -> Caller | Refusal:
        """The caller of a request with this Authorization header and these query
        parameter names, on a route needing scope `needed`; or why it is refused."""
        if any(name.lower() in CREDENTIAL_PARAMETERS for name in query):
            return Refusal.QUERY_STRING
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return Refusal.MISSING
        caller = self.caller(presented.strip())
        if caller is None:
            return Refusal.INVALID
        if needed not in SCOPES[caller.scope]:
            return Refusal.SCOPE
        return caller
