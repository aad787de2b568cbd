"""Browser sessions in DynamoDB (the `sessions` table): one item per session, keyed by a digest
of its cookie's id, expiring by TTL; and used single-use links, one conditional put each."""

from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.sessions.model import Session
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import WebSessionModel

USED_LINK = "used-link"


def used_link(use_key: str, used_at: datetime, expires_at: datetime) -> WebSessionModel:
    """The item that marks a single-use link's nonce used (`Claims.use_key`); written once, on
    condition it does not exist: by itself (staff sign-in) or in the transaction of the act the
    link allows (an express gift)."""
    return WebSessionModel(f"{USED_LINK}#{use_key}", kind=USED_LINK, created_at=used_at,
                           expires_at=expires_at)


def link_used(use_key: str) -> bool:
    """Whether a single-use link's nonce has been used."""
    try:
        WebSessionModel.get(f"{USED_LINK}#{use_key}", consistent_read=True,
                            attributes_to_get=["session_hash"])
    except DoesNotExist:
        return False
    return True
# Ending a subject's sessions reads its index a page at a time (a person has a handful).
_PAGE = 100


class WebSessionRepository:
    def put(self, session: Session) -> None:
        WebSessionModel(
            session.session_hash, kind=session.kind, subject=session.subject, role=session.role,
            name=session.name, csrf_token=session.csrf_token, created_at=session.created_at,
            expires_at=session.expires_at,
        ).save(condition=WebSessionModel.session_hash.does_not_exist())

    def get(self, session_hash: str) -> Session | None:
        try:
            item = WebSessionModel.get(session_hash, consistent_read=True)
        except DoesNotExist:
            return None
        if item.kind == USED_LINK or item.subject is None:
            return None
        return Session(item.session_hash, item.kind, item.subject, item.role or "", item.name or "",
                       item.csrf_token or "", item.created_at.astimezone(timezone.utc),
                       item.expires_at.astimezone(timezone.utc))

    def delete(self, session_hash: str) -> None:
        WebSessionModel(session_hash).delete()

    def delete_subject(self, subject: str) -> int:
        ended = 0
        for item in WebSessionModel.by_subject.query(subject, page_size=_PAGE):
            WebSessionModel(item.session_hash).delete()
            ended += 1
        return ended

    def consume_once(self, key: str, expires_at: datetime) -> bool:
        try:
            used_link(key, datetime.now(timezone.utc), expires_at).save(
                condition=WebSessionModel.session_hash.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
