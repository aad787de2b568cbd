"""Follow-up failures that are not a client's fault (clients get `chalicelib.errors` kinds)."""

from __future__ import annotations


class SendRefused(Exception):
    """The mail service answered and did not send: trying again cannot send twice."""


class AddressRefused(SendRefused):
    """The mail service will never take this message (e.g. a malformed address)."""


class StaleInvitation(Exception):
    """The invitation changed between read and write (a concurrent answer); read again."""
