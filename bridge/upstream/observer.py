"""`UpstreamObserver`: what the client reports as it works, for metrics (httpx event hooks).

The client calls it with its own values and never imports a metrics library; the
application plugs in an implementation (bridge.app.metrics.observers). Calls happen on the
event loop in the middle of a send, so an implementation must be quick and must not raise.
"""

from __future__ import annotations

from typing import Protocol

from bridge.upstream.messages import IsmsMessage, SendResult
from bridge.upstream.mirrors import Verdict


class UpstreamObserver(Protocol):
    def request_finished(
        self, *, mirror: str, code: int | None, verdict: Verdict, elapsed_s: float
    ) -> None:
        """One HTTP send request to one mirror ended.

        `mirror` is the log-safe mirror name; `code` the iSMS result code when iSMS answered
        (verdict ANSWERED), else None; `verdict` NOT_REACHED when the next mirror may be
        tried, UNKNOWN when the request may have reached iSMS (unparseable replies too).
        """
        ...

    def message_finished(self, message: IsmsMessage, result: SendResult) -> None:
        """`IsmsClient.send` is about to return `result` for `message`."""
        ...


class NoUpstreamObserver:
    """The default: observes nothing."""

    __slots__ = ()

    def request_finished(
        self, *, mirror: str, code: int | None, verdict: Verdict, elapsed_s: float
    ) -> None:
        return None

    def message_finished(self, message: IsmsMessage, result: SendResult) -> None:
        return None
