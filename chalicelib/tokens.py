"""Signed, expiring tokens for the links in messages, and personal share codes.

Every purpose a link can have, and how long its link lives, is in `PURPOSES`: the one table.
A token is `base64url(purpose|issued|expires|nonce|subject…)` `.` `base64url(HMAC-SHA256)[:16]`.
The signature is checked before anything else is read from it, so a tampered token (including
a moved expiry) is refused as invalid (400); a genuine token past its time is expired (410).

A single-use purpose carries a random nonce: whoever acts on the link consumes the nonce in the
same DynamoDB transaction as the act (a conditional write), so the same link a second time is
refused (410 `link_used`). The issue time lets a person revoke every link issued before a moment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib.clock import utcnow
from chalicelib.errors import DomainError, InvalidInput


@dataclass(frozen=True)
class Purpose:
    """What a link lets its holder do, how long it lives, and whether it works only once."""

    code: str
    lifetime: timedelta
    single_use: bool = False


RSVP = "rsvp"  # an invitation's answer page (subject: invitation id)
UNSUBSCRIBE = "unsub"  # stop invitations (subject: person id)
CONFIRM = "confirm"  # a signup's double opt-in (subject: person id)
CANCEL_PLAN = "cancel"  # cancel a monthly gift (subject: subscription id)
EXPRESS = "express"  # one express gift from a saved card (subjects: donor id, committee id)
DONOR = "donor"  # a donor's own ask ladder on a page (subject: donor id)
EMPLOYMENT = "employment"  # a best-efforts answer (subject: donor id)
SIGNIN = "signin"  # a staff member's console sign-in link (subject: staff key digest)
PORTAL = "portal"  # a donor's sign-in link to their portal (subject: donor id)
# A failed monthly renewal's email: a sign-in link to the portal, to replace the card (subject:
# donor id). It opens /me like a `portal` link but lives long enough to be read.
CARD = "card"
HOST = "host"  # an action's host page: roster, check-in, walk-ins (subjects: action id, host ref)
FEEDBACK = "feedback"  # an attendee's "How was it?" and offer to host (subject: invitation id)
# Intake refused a gift for an attestation; the page sends it back with the next attempt, so a
# changed answer is a review signal (subject: the refused attestations, joined by "+").
REFUSAL = "refusal"
# An excessive gift's excess was presumed to be for the next election: the donor may ask for a
# refund of it instead (subject: donation id).
REDESIGNATION = "redesig"
# An excessive gift's held excess (compliance/reattribution.py): the donor names the other
# holder of the card account and the amount (subject: donation id); that person confirms with
# their own details through their own link (subject: donation id).
REATTRIBUTION = "reattr"
REATTRIBUTION_CONFIRM = "reattr_ok"
# A donor's link to start their own fundraising page under a campaign page (subjects: donor id,
# the campaign page's slug); offered on the thank-you page and email and on the portal.
SUPPORT = "support"

PURPOSES: Mapping[str, Purpose] = {p.code: p for p in (
    # Answering an invitation stays possible until well after most actions take place.
    Purpose(RSVP, timedelta(days=60)),
    # CAN-SPAM wants an unsubscribe link to work for at least 30 days after sending.
    Purpose(UNSUBSCRIBE, timedelta(days=365)),
    Purpose(CONFIRM, timedelta(days=7)),
    # Every receipt of a monthly gift carries a fresh one, so the newest always works.
    Purpose(CANCEL_PLAN, timedelta(days=400)),
    # A credential to charge a saved card: short-lived and good for one gift
    # (`EXPRESS_LINK_TTL_DAYS` sets the lifetime; every receipt carries a fresh link).
    Purpose(EXPRESS, timedelta(days=30), single_use=True),
    Purpose(DONOR, timedelta(days=60)),
    Purpose(EMPLOYMENT, timedelta(days=180)),
    Purpose(SIGNIN, timedelta(minutes=15), single_use=True),
    Purpose(PORTAL, timedelta(minutes=30), single_use=True),
    # Stripe retries a failed renewal over days (3, 5, 7): the link lasts until the last try.
    Purpose(CARD, timedelta(days=7), single_use=True),
    # Issued afresh each time an organizer opens the action; it must last through the event
    # and the days after it when a host records who came. Naming the host, it stops working
    # when an organizer hands the action to someone else.
    Purpose(HOST, timedelta(days=90)),
    # Asked an hour after the event; an answer a month later still tells us something.
    Purpose(FEEDBACK, timedelta(days=30)),
    # As long as a donor may plausibly still be on the page.
    Purpose(REFUSAL, timedelta(days=1)),
    # The donor has 60 days from receipt to choose the refund (11 CFR 110.1(b)(5)(ii)(B)).
    Purpose(REDESIGNATION, timedelta(days=60)),
    # Both reattribution links live to day 60 of the gift (issued the day it is received, or
    # later for the other person; the remedy's own day-60 check is the deadline either way).
    Purpose(REATTRIBUTION, timedelta(days=60)),
    Purpose(REATTRIBUTION_CONFIRM, timedelta(days=60)),
    # As long as a donor's ladder link: a thank-you read weeks later still works.
    Purpose(SUPPORT, timedelta(days=60)),
)}
_MAC_BYTES = 16


class TokenExpired(DomainError):
    kind = "gone"


@dataclass(frozen=True)
class Claims:
    """What a genuine, unexpired token says."""

    purpose: str
    subjects: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    nonce: str | None

    @property
    def subject(self) -> str:
        return self.subjects[0]

    @property
    def use_key(self) -> str:
        """The key a single-use token's use is recorded under (no subject, no PII)."""
        if self.nonce is None:
            raise ValueError(f"{self.purpose} tokens are not single-use")
        return f"{self.purpose}#{self.nonce}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))



class Tokens:
    def __init__(self, secret: str, clock: Callable[[], datetime] = utcnow,
                 lifetimes: Mapping[str, timedelta] | None = None) -> None:
        if len(secret) < 16:
            raise ValueError("TOKEN_SECRET must be set to at least 16 characters")
        self._key = secret.encode()
        self.clock = clock
        unknown = set(lifetimes or {}) - set(PURPOSES)
        if unknown:
            raise ValueError(f"unknown token purposes: {sorted(unknown)}")
        self._lifetimes = {code: (lifetimes or {}).get(code, p.lifetime) for code, p in PURPOSES.items()}

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def lifetime(self, purpose: str) -> timedelta:
        return self._lifetimes[purpose]

    def issue(self, purpose: str, *subjects: str, now: datetime | None = None) -> str:
        """A token for `subjects` (ids, never PII), valid for its purpose's lifetime."""
        if purpose not in PURPOSES or not subjects or any("|" in s or not s for s in subjects):
            raise ValueError("bad token purpose or subject")
        issued = now or self.clock()
        expires = issued + self._lifetimes[purpose]
        nonce = secrets.token_urlsafe(12) if PURPOSES[purpose].single_use else ""
        body = "|".join((purpose, str(int(issued.timestamp())), str(int(expires.timestamp())),
                         nonce, *subjects)).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def claims(self, token: str, purpose: str) -> Claims:
        """Everything a genuine, unexpired token for `purpose` says."""
        invalid = InvalidInput("bad_token", "This link is not valid. Check that it was copied whole.")
        body_part, _, mac_part = token.partition(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
        except (ValueError, TypeError):
            raise invalid from None
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            raise invalid
        try:
            kind, issued, expires, nonce, *subjects = body.decode().split("|")
            issued_at = datetime.fromtimestamp(int(issued), timezone.utc)
            expires_at = datetime.fromtimestamp(int(expires), timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise invalid from None
        if kind != purpose or not subjects:
            raise invalid
        if self.clock() >= expires_at:
            raise TokenExpired("token_expired", "This link has expired.")
        return Claims(kind, tuple(subjects), issued_at, expires_at, nonce or None)

    def read(self, token: str, purpose: str) -> str:
        """The (first) subject of a genuine, unexpired token for `purpose`."""
        return self.claims(token, purpose).subject

    def share_code(self, person_id: str) -> str:
        """A person's share code: keyed, so nobody can derive it from an email address."""
        digest = hmac.new(self._key, f"share|{person_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()


class LinkUsed(DomainError):
    """A single-use link that was used already (or revoked)."""

    kind = "gone"

    def __init__(self, message: str = "This link has been used already.") -> None:
        super().__init__("link_used", message)
