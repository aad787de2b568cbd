"""Browser sessions as plain data: what a kind of session is, and one session.

The cookie holds only an opaque random id; the store keys the session by a digest of it, so a
copy of the table gives nobody a way in. Each kind (`console`, later `portal`) has its own
cookie name, path and lifetime, so one kind's cookie is never sent to the other's routes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionKind:
    """One family of sessions: `name` is stored on each session (a console session never opens
    the portal), `cookie` and `path` scope the cookie, `lifetime` bounds the session."""

    name: str
    cookie: str
    path: str
    lifetime: timedelta

    def set_cookie(self, session_id: str, secure: bool) -> str:
        """The Set-Cookie value: HttpOnly, SameSite=Strict, scoped to the kind's path."""
        seconds = int(self.lifetime.total_seconds())
        value = (f"{self.cookie}={session_id}; Path={self.path}; Max-Age={seconds}; HttpOnly; "
                 "SameSite=Strict")
        return value + ("; Secure" if secure else "")

    def clear_cookie(self, secure: bool) -> str:
        value = f"{self.cookie}=; Path={self.path}; Max-Age=0; HttpOnly; SameSite=Strict"
        return value + ("; Secure" if secure else "")


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who (`subject`, e.g. a staff key's digest), as what (`role`, `name`
    for display), and the CSRF token its forms carry."""

    session_hash: str
    kind: str
    subject: str
    role: str
    name: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return now < self.expires_at


def new_session_id() -> str:
    """The cookie's value: 256 random bits."""
    return secrets.token_urlsafe(32)


def session_hash(session_id: str) -> str:
    """How the store keys a session: a digest of the cookie's value, never the value."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
