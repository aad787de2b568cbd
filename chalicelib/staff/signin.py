"""Signing staff in to the console: by pasting a staff key, or by a link emailed to the address
registered with the key (15 minutes, single use, completed by a POST on the linked page).

Either way the browser gets a server-side console session for the key's role. A session lives
only while its key does: every request checks the key (`current`), and revoking a key ends its
sessions. Asking for a link answers the same whether or not the address is known, and queues
at most one email a minute per key, through the outbox and the one mail delivery path (the
token, purpose `signin` of chalicelib/tokens.py with its nonce, is made when the email is
composed, so no link is ever stored).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.clock import utcnow
from chalicelib.errors import InvalidInput, Unauthenticated
from chalicelib.followups.model import OutgoingEmail
from chalicelib.outbox.model import Delivered, OutboxMessage, PermanentFailure
from chalicelib.sessions.model import Session
from chalicelib.sessions.service import SessionService, Started
from chalicelib.staff.auth import StaffKey, email_key, hash_key, live_key
from chalicelib.tokens import PURPOSES, SIGNIN, Claims

SIGNIN_MESSAGE = "staff_signin"  # the outbox kind
LINK_TTL = PURPOSES[SIGNIN].lifetime  # 15 minutes, single use
REQUEST_GAP = timedelta(minutes=1)


class StaffDirectory(Protocol):
    def find(self, key_hash: str) -> StaffKey | None: ...
    def find_by_email(self, email_key: str) -> StaffKey | None: ...
    def request_signin(self, key_hash: str, now: datetime, gap: timedelta,
                       message: OutboxMessage) -> bool: ...


class LinkTokens(Protocol):
    def issue(self, purpose: str, *subjects: str, now: datetime | None = None) -> str: ...
    def claims(self, token: str, purpose: str) -> Claims: ...


# Hands a composed email to the one delivery path (the send ledger, then SES).
SendOnce = Callable[[OutboxMessage, str, OutgoingEmail], Delivered]


@dataclass(frozen=True)
class SignedIn:
    session: Session
    staff: StaffKey



class SigninService:
    def __init__(self, staff: StaffDirectory, tokens: Callable[[], LinkTokens], sessions: SessionService,
                 email_secret: Callable[[], str], base_url: str, send: Callable[[], SendOnce],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.staff = staff
        self._tokens = tokens
        self.sessions = sessions
        self._email_secret = email_secret
        self.base_url = base_url.rstrip("/")
        self._send = send
        self.clock = clock

    # --- with a key -----------------------------------------------------------------------
    def with_key(self, key: str) -> Started:
        """A session for a live staff key (401 `unauthenticated` otherwise)."""
        found = live_key(self.staff, key)
        return self.sessions.start(found.key_hash, found.role, found.name)

    # --- with an emailed link -------------------------------------------------------------
    def request_link(self, email: str) -> bool:
        """Queue a sign-in email if `email` belongs to a live key and none was asked for in the
        last minute. Callers answer the same either way."""
        address = email.strip()
        if not address or "@" not in address or len(address) > 254:
            raise InvalidInput("invalid_request", "Enter the email address registered with your key.",
                               fields={"email": "an email address"})
        found = self.staff.find_by_email(email_key(address, self._email_secret()))
        if found is None:
            return False
        now = self.clock()
        message = OutboxMessage(f"{SIGNIN_MESSAGE}#{secrets.token_hex(16)}", SIGNIN_MESSAGE, now, {
            "key_hash": found.key_hash, "requested_at": now.isoformat()})
        return self.staff.request_signin(found.key_hash, now, REQUEST_GAP, message)

    def deliver_link(self, message: OutboxMessage) -> Delivered:
        """The outbox handler: compose the link's email and send it once. The link expires 15
        minutes after it was asked for, however late the message is delivered."""
        p = message.payload
        requested = datetime.fromisoformat(str(p["requested_at"]))
        if self.clock() >= requested + LINK_TTL:
            return Delivered("skipped: the link would have expired")
        found = self.staff.find(str(p["key_hash"]))
        if found is None or found.revoked or not found.email:
            raise PermanentFailure("no live staff key with an email")
        token = self._tokens().issue(SIGNIN, found.key_hash, now=requested)
        email = _compose(found, f"{self.base_url}/admin/login/link?t={token}", message.message_id)
        return self._send()(message, f"staff#{found.key_hash[:16]}", email)

    def link_holder(self, token: str) -> StaffKey:
        """Who a genuine, unexpired link is for (nothing is used up: a GET only shows it)."""
        return self._holder(self._tokens().claims(token, SIGNIN))

    def with_link(self, token: str) -> Started:
        """A session for the link's key; the link is used up (a second use is 410 `link_used`)."""
        claims = self._tokens().claims(token, SIGNIN)
        found = self._holder(claims)
        return self.sessions.start_with_link(claims, found.key_hash, found.role, found.name,
                                             "This sign-in link was used already; ask for a new one.")

    def _holder(self, claims: Claims) -> StaffKey:
        found = self.staff.find(claims.subject)
        if found is None or found.revoked:
            raise Unauthenticated("unauthenticated", "This staff key is unknown or revoked.")
        return found

    # --- every request --------------------------------------------------------------------
    def current(self, session_id: str | None) -> SignedIn | None:
        """The live session and the live key behind it; None when either has ended."""
        session = self.sessions.read(session_id)
        if session is None:
            return None
        found = self.staff.find(session.subject)
        if found is None or found.revoked:
            # Refused, not deleted: a GET writes nothing (revoke-key deletes them; TTL the rest).
            return None
        return SignedIn(session, found)

    def sign_out(self, session: Session) -> None:
        self.sessions.end(session)

    def revoke(self, key: str | None = None, key_hash: str | None = None) -> int:
        """End every console session of a key (called when the key is revoked)."""
        return self.sessions.end_all(key_hash or hash_key(key or ""))


def _compose(staff: StaffKey, url: str, message_id: str) -> OutgoingEmail:
    from chalicelib.followups.compose import render_email

    subject = "Your Groundswell console sign-in link"
    html, text = render_email("signin", name=staff.name, url=url, minutes=int(LINK_TTL.total_seconds() // 60))
    return OutgoingEmail(to=staff.email or "", subject=subject, html=html, text=text,
                         unsubscribe_url="", message_id=message_id)
