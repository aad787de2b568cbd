"""The donor portal's writes and lookups: which donor record an address opens, the donor's
link slot with its outbox message in one transaction, and a receipt queued again."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.config import settings
from chalicelib.outbox.model import OutboxMessage
from chalicelib.storage.models import DonorIdentityModel, DonorModel
from chalicelib.storage.outbox import OutboxRepository


class PortalRepository:
    def person(self, email_donor_id: str) -> str | None:
        """The donor an address's identity item links it to, else its own record; None when
        neither exists (two GetItems at most)."""
        try:
            donor_id = DonorIdentityModel.get(f"email#{email_donor_id}").donor_id
        except DoesNotExist:
            donor_id = email_donor_id
        try:
            DonorModel.get(donor_id, attributes_to_get=["donor_id"])
        except DoesNotExist:
            return None
        return donor_id

    def request_link(self, donor_id: str, now: datetime, gap: timedelta, message: OutboxMessage) -> bool:
        m = DonorModel
        return OutboxRepository(settings().outbox_shards).queue_with_update(
            settings().region, message, now, DonorModel(donor_id), [m.portal_link_requested_at.set(now)],
            m.donor_id.exists() & (m.portal_link_requested_at.does_not_exist()
                                   | (m.portal_link_requested_at <= now - gap)))

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        OutboxRepository(settings().outbox_shards).enqueue(message, now)
