"""Staff keys in DynamoDB, stored only as digests (and, for the console's email sign-in, the
address with a keyed digest of it as its index key)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.config import settings
from chalicelib.outbox.model import OutboxMessage
from chalicelib.staff.auth import StaffKey
from chalicelib.storage.models import StaffKeyModel
from chalicelib.storage.outbox import OutboxRepository


class StaffKeyRepository:
    def find(self, key_hash: str) -> StaffKey | None:
        try:
            item = StaffKeyModel.get(key_hash)
        except DoesNotExist:
            return None
        return _key(item)

    def save(self, key_hash: str, role: str, name: str, created_at: datetime,
             email: str | None = None, email_key: str | None = None) -> None:
        StaffKeyModel(key_hash, role=role, name=name, created_at=created_at, email=email or None,
                      email_key=email_key or None).save()

    def revoke(self, key_hash: str, revoked_at: datetime) -> bool:
        try:
            item = StaffKeyModel.get(key_hash)
        except DoesNotExist:
            return False
        item.update(actions=[StaffKeyModel.revoked_at.set(revoked_at)])
        return True

    def find_by_email(self, email_key: str) -> StaffKey | None:
        """The live key registered with this email's keyed digest, if any (one Query, one Get)."""
        for item in StaffKeyModel.by_email.query(email_key, limit=5):
            found = self.find(item.key_hash)
            if found is not None and not found.revoked:
                return found
        return None

    def request_signin(self, key_hash: str, now: datetime, gap: timedelta,
                       message: OutboxMessage) -> bool:
        """Take the key's sign-in slot (at most one emailed link per `gap`) and queue the link's
        email in the same transaction; False (nothing written) when the slot is taken."""
        m = StaffKeyModel
        return OutboxRepository(settings().outbox_shards).queue_with_update(
            settings().region, message, now, StaffKeyModel(key_hash), [m.signin_requested_at.set(now)],
            m.key_hash.exists() & m.revoked_at.does_not_exist()
            & (m.signin_requested_at.does_not_exist() | (m.signin_requested_at <= now - gap)))

    def all(self) -> list[StaffKey]:
        # The CLI's listing: a campaign has a handful of staff keys.
        return [_key(i) for i in StaffKeyModel.scan()]


def _key(item: StaffKeyModel) -> StaffKey:
    return StaffKey(key_hash=item.key_hash, role=item.role, name=item.name,
                    revoked=item.revoked_at is not None, email=item.email or None)
