"""Staff keys in DynamoDB, stored only as digests."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.staff.auth import StaffKey
from chalicelib.storage.models import StaffKeyModel


class StaffKeyRepository:
    def find(self, key_hash: str) -> StaffKey | None:
        try:
            item = StaffKeyModel.get(key_hash)
        except DoesNotExist:
            return None
        return StaffKey(key_hash=item.key_hash, role=item.role, name=item.name,
                        revoked=item.revoked_at is not None)

    def save(self, key_hash: str, role: str, name: str, created_at: datetime) -> None:
        StaffKeyModel(key_hash, role=role, name=name, created_at=created_at).save()

    def revoke(self, key_hash: str, revoked_at: datetime) -> bool:
        try:
            item = StaffKeyModel.get(key_hash)
        except DoesNotExist:
            return False
        item.update(actions=[StaffKeyModel.revoked_at.set(revoked_at)])
        return True

    def all(self) -> list[StaffKey]:
        return [StaffKey(key_hash=i.key_hash, role=i.role, name=i.name, revoked=i.revoked_at is not None)
                for i in StaffKeyModel.scan()]
