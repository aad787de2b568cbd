"""Start, read and end browser sessions; check the CSRF token of a form.

A session is valid while its item exists and has not expired: DynamoDB's TTL deletes expired
items only eventually, so the expiry is checked on every read as well. Ending a session deletes
its item; `end_all` ends every session of one subject (a revoked staff key).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.clock import utcnow
from chalicelib.sessions.model import (
    Session,
    SessionKind,
    new_csrf_token,
    new_session_id,
    session_hash,
)
from chalicelib.tokens import Claims, LinkUsed

LINK_USE_KEPT = timedelta(hours=1)


class SessionStore(Protocol):
    def put(self, session: Session) -> None: ...
    def get(self, session_hash: str) -> Session | None: ...
    def delete(self, session_hash: str) -> None: ...
    def delete_subject(self, subject: str) -> int: ...
    def consume_once(self, key: str, expires_at: datetime) -> bool:
        """Record that `key` (a single-use link's nonce) was used; False if it already was."""
        ...


@dataclass(frozen=True)
class Started:
    """A new session and the cookie id to hand the browser (shown once, never stored)."""

    session: Session
    session_id: str



class SessionService:
    def __init__(self, store: SessionStore, kind: SessionKind,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.kind = kind
        self.clock = clock

    def start(self, subject: str, role: str, name: str) -> Started:
        now = self.clock()
        session_id = new_session_id()
        session = Session(session_hash(session_id), self.kind.name, subject, role, name,
                          new_csrf_token(), now, now + self.kind.lifetime)
        self.store.put(session)
        return Started(session, session_id)

    def read(self, session_id: str | None) -> Session | None:
        """The live session of this kind that the cookie names, else None."""
        if not session_id or len(session_id) > 128:
            return None
        found = self.store.get(session_hash(session_id))
        if found is None or found.kind != self.kind.name or not found.live(self.clock()):
            return None
        return found

    def end(self, session: Session) -> None:
        self.store.delete(session.session_hash)

    def end_all(self, subject: str) -> int:
        """End every session of `subject`; how many there were."""
        return self.store.delete_subject(subject)

    def start_with_link(self, claims: Claims, subject: str, role: str, name: str, used: str) -> Started:
        """Use a single-use link up and start a session for it; `LinkUsed` (410, with the `used`
        message) if it was used before. The use is kept (with a TTL) a little past the link's end."""
        if not self.store.consume_once(claims.use_key, claims.expires_at + LINK_USE_KEPT):
            raise LinkUsed(used)
        return self.start(subject, role, name)


def csrf_ok(session_token: str, submitted: str | None) -> bool:
    """A form's token matches its session's (constant time)."""
    return bool(submitted) and hmac.compare_digest(session_token.encode(), (submitted or "").encode())
