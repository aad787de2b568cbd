"""Follow-up failures that are not a client's fault (clients get `chalicelib.errors` kinds)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.outbox.model import Deferred


class SendRefused(Exception):
    """The mail service answered and did not send: trying again cannot send twice."""


class SendThrottled(SendRefused, Deferred):
    """Not sent because of the send rate (our budget of SES's `MaxSendRate` used up, or SES
    throttling): the outbox tries again shortly and counts no attempt."""

    def __init__(self, reason: str, after: timedelta = timedelta(seconds=1)) -> None:
        Deferred.__init__(self, reason, after)


class AddressRefused(SendRefused):
    """The mail service will never take this message (e.g. a malformed address)."""


class StaleInvitation(Exception):
    """The invitation changed between read and write (a concurrent answer); read again."""
