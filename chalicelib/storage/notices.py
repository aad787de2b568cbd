"""48-hour notices in DynamoDB: one item each, contributions added to it as a set."""

from __future__ import annotations

from datetime import date, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.fec_reports.notices import StoredNotice, sorted_notices
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import NoticeModel

MAX_LISTED = 500


class NoticeRepository:
    def add(self, notice: StoredNotice, donation_id: str) -> StoredNotice:
        m = NoticeModel
        item = NoticeModel(notice.notice_id)
        item.update(actions=[
            m.contributions.add({donation_id}), m.listing.set("notices"),
            m.committee_id.set(notice.committee_id), m.election.set(notice.election),
            m.received_on.set(notice.received_on.isoformat()),
            m.created_at.set(m.created_at | notice.created_at),
            m.due_at.set(m.due_at | notice.due_at),
        ])
        try:  # the notice is due 48 hours after its earliest contribution
            item.update(actions=[m.due_at.set(notice.due_at)], condition=m.due_at > notice.due_at)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        found = self.get(notice.notice_id)
        assert found is not None
        return found

    def get(self, notice_id: str) -> StoredNotice | None:
        try:
            return _notice(NoticeModel.get(notice_id, consistent_read=True))
        except DoesNotExist:
            return None

    def recent(self, committee_id: str | None) -> list[StoredNotice]:
        items = NoticeModel.by_creation.query("notices", scan_index_forward=False, limit=MAX_LISTED)
        return sorted_notices(n for n in map(_notice, items)
                              if committee_id is None or n.committee_id == committee_id)

    def filed(self, notice_id: str, now: datetime) -> StoredNotice | None:
        m = NoticeModel
        try:
            NoticeModel(notice_id).update(actions=[m.filed_at.set(now)],
                                          condition=m.notice_id.exists() & m.filed_at.does_not_exist())
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return self.get(notice_id)


def _notice(item: NoticeModel) -> StoredNotice:
    return StoredNotice(item.notice_id, item.committee_id, item.election,
                        date.fromisoformat(item.received_on), tuple(sorted(item.contributions or ())),
                        item.due_at, item.created_at, item.filed_at)
