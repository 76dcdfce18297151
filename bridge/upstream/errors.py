"""Upstream failures, classified by the one property that matters: did the request leave?

iSMS charges per request and has no idempotency key, so a request that may have reached it
must never be sent again. Every transport failure is therefore one of two leaves:

- `NotSent`: the request certainly did not reach iSMS (DNS failure, connection refused,
  reset or TLS failure before the first byte of the request, no free connection). Another
  mirror may be tried.
- `OutcomeUnknown`: anything after the request may have been written (read timeout, reset
  while reading, a reply that is not an iSMS reply). Never resent; logged for reconciliation.

Each adapter maps its library's exceptions to these in exactly one place.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A request to iSMS that produced no usable iSMS reply."""

    def __init__(self, reason: str, *, mirror: str = "", reference: str = "") -> None:
        self.reason = reason
        # The mirror's log-safe name (scheme://host/path, never a query string) and the
        # caller's message reference, so an "unknown outcome" line can be reconciled.
        self.mirror = mirror
        self.reference = reference
        super().__init__(reason)

    def at(self, *, mirror: str, reference: str) -> UpstreamError:
        """The same failure, labelled with where it happened and which message it carried."""
        labelled = type(self)(self.reason, mirror=mirror, reference=reference)
        labelled.__cause__ = self.__cause__
        return labelled

    def __str__(self) -> str:
        where = f" at {self.mirror}" if self.mirror else ""
        which = f" (message {self.reference})" if self.reference else ""
        return f"{self.reason}{where}{which}"


class NotSent(UpstreamError):
    """The request certainly did not reach iSMS: safe to try another mirror."""


class OutcomeUnknown(UpstreamError):
    """The request may have reached iSMS: it must not be sent again."""
