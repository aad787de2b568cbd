"""Committees in DynamoDB; a committee never configured gets the defaults."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.storage.models import CommitteeModel


class CommitteeRepository:
    def __init__(self, defaults: CommitteeDefaults) -> None:
        self.defaults = defaults

    def get(self, committee_id: str) -> Committee:
        try:
            item = CommitteeModel.get(committee_id)
        except DoesNotExist:
            return default_committee(committee_id, self.defaults)
        return Committee(item.committee_id, item.name, item.type,  # type: ignore[arg-type]
                         int(item.limit_cents), int(item.itemization_threshold_cents))

    def save(self, committee: Committee, now: datetime) -> None:
        CommitteeModel(committee.committee_id, name=committee.name, type=committee.type,
                       limit_cents=committee.limit_cents,
                       itemization_threshold_cents=committee.itemization_threshold_cents,
                       updated_at=now).save()

    def list(self) -> list[Committee]:
        return [self.get(i.committee_id) for i in CommitteeModel.scan()]
