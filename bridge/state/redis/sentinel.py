"""Redis behind Sentinel: the client to whichever server is the primary now.

    client, sentinel, shown = sentinel_client(sentinels, "mymaster", url="redis:///0",
                                              password=..., socket_timeout=1.0)

redis-py's SentinelConnectionPool asks the sentinels for the primary before every new
connection. That alone keeps a connection that is still open writing to the old primary until
Sentinel demotes it (seconds after the promotion, and those writes are then lost), so
`FollowPrimary`, run before each pipeline, asks again at most every FOLLOW_PRIMARY_S; when
the primary moved, the pool closes its idle connections to the old one and the pipeline goes
to the new one. Sockets, timeouts and the no-retry policy are the URL client's
(`client_options`), so while the primary moves operations are StateUnavailable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff

from bridge.state.errors import StateFileError

# How often a pipeline first asks a sentinel where the primary is (one more round trip, to
# the sentinel, at most this often).
FOLLOW_PRIMARY_S = 1.0


def client_options(socket_timeout: float) -> dict[str, Any]:
    """What every client to a Redis server gets: short socket timeouts, no retry (a lost
    reply may mean the script ran), no background health checks, bytes back."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
        "health_check_interval": 0,
        "decode_responses": False,
    }


def sentinel_name(sentinels: Sequence[tuple[str, int]], service: str, url: str) -> str:
    """How a Sentinel setup is named in messages and logs: its sentinels, service and db
    (redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0; rediss+sentinel with TLS)."""
    parts = urlsplit(url)
    hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in sentinels)
    db = parts.path.strip("/") or "0"
    return f"{parts.scheme}+sentinel://{hosts}/{service}/{db}"


def sentinel_client(
    sentinels: Sequence[tuple[str, int]],
    service: str,
    *,
    url: str,
    password: str | None,
    socket_timeout: float,
) -> tuple[Redis, Sentinel, str]:
    """The client to `service`'s primary, the Sentinel it asks (to close with it), and the
    setup's name for messages. `url` gives only the scheme (rediss:// = TLS to the primary)
    and the db number (its path); `password` is the primary's. StateFileError if unusable."""
    parts = urlsplit(url)
    shown = sentinel_name(sentinels, service, url)
    if parts.scheme not in ("redis", "rediss"):
        raise StateFileError(shown, "a Redis URL starts with redis:// or rediss://")
    if not sentinels:
        raise StateFileError(shown, "no sentinels given")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise StateFileError(shown, f"the db number (the URL's path) is {db!r}")
    # Sentinels get the same socket timeouts and no retry (redis-py asks the next sentinel
    # when one fails), and no password: the primary's is not theirs.
    sentinel = Sentinel(
        list(sentinels),
        sentinel_kwargs={
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0,
        },
    )
    client = sentinel.master_for(
        service,
        password=password,
        db=int(db),
        ssl=parts.scheme == "rediss",
        **client_options(socket_timeout),
    )
    return client, sentinel, shown


class FollowPrimary:
    """A pipe.BeforeSend: at most every FOLLOW_PRIMARY_S, ask where the primary is."""

    def __init__(self, client: Redis) -> None:
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        self._pool = pool
        self._asked = -FOLLOW_PRIMARY_S

    async def __call__(self) -> None:
        now = time.monotonic()
        if now - self._asked < FOLLOW_PRIMARY_S:
            return
        self._asked = now
        await self._pool.get_master_address()  # type: ignore[no-untyped-call]  # unannotated
