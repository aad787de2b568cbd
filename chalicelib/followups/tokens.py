"""Signed, expiring tokens for links in messages, and personal share codes.

A token is `base64url(purpose|subject|expires)` `.` `base64url(HMAC-SHA256(secret, that)[:16])`.
The signature is checked before anything else is read from it, so a tampered token (including
a moved expiry) is refused as invalid (400); a genuine token past its time is expired (410).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from chalicelib.errors import DomainError, InvalidInput

RSVP = "rsvp"
UNSUBSCRIBE = "unsub"
CONFIRM = "confirm"
CANCEL_PLAN = "cancel"
EXPRESS = "express"
DONOR = "donor"  # a donor's personal page links (subject: donor id): their own ask ladder
EMPLOYMENT = "employment"
PURPOSES = frozenset({RSVP, UNSUBSCRIBE, CONFIRM, CANCEL_PLAN, EXPRESS, DONOR, EMPLOYMENT})
_MAC_BYTES = 16


class TokenExpired(DomainError):
    kind = "gone"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Tokens:
    def __init__(self, secret: str, clock: Callable[[], datetime] = _utcnow) -> None:
        if len(secret) < 16:
            raise ValueError("TOKEN_SECRET must be set to at least 16 characters")
        self._key = secret.encode()
        self.clock = clock

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, purpose: str, subject: str, ttl: timedelta, now: datetime | None = None) -> str:
        """A token for `subject` (an invitation or person id) valid for `ttl`."""
        if purpose not in PURPOSES or "|" in subject:
            raise ValueError("bad token purpose or subject")
        expires = int(((now or self.clock()) + ttl).timestamp())
        body = f"{purpose}|{subject}|{expires}".encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def read(self, token: str, purpose: str) -> str:
        """The subject of a genuine, unexpired token for `purpose`."""
        invalid = InvalidInput("bad_token", "This link is not valid. Check that it was copied whole.")
        body_part, _, mac_part = token.partition(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
        except (ValueError, TypeError):
            raise invalid from None
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            raise invalid
        try:
            kind, subject, expires = body.decode().split("|")
            expires_at = int(expires)
        except ValueError:
            raise invalid from None
        if kind != purpose:
            raise invalid
        if self.clock().timestamp() >= expires_at:
            raise TokenExpired("token_expired", "This link has expired.")
        return subject

    def share_code(self, person_id: str) -> str:
        """A person's share code: keyed, so nobody can derive it from an email address."""
        digest = hmac.new(self._key, f"share|{person_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()
