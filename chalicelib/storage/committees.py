"""Committees in DynamoDB; a committee never configured gets the defaults."""

from __future__ import annotations

import time
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.storage.models import CommitteeModel


class CommitteeRepository:
    """Committees change rarely and are read on every intake and success, so each Lambda
    container keeps them for `ttl_seconds` (a lowered limit takes effect within that time)."""

    def __init__(self, defaults: CommitteeDefaults, ttl_seconds: float = 60.0) -> None:
        self.defaults = defaults
        self.ttl_seconds = ttl_seconds
        self._cache: dict[str, tuple[float, Committee]] = {}

    def get(self, committee_id: str) -> Committee:
        cached = self._cache.get(committee_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        committee = self._load(committee_id)
        self._cache[committee_id] = (time.monotonic() + self.ttl_seconds, committee)
        return committee

    def _load(self, committee_id: str) -> Committee:
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
        self._cache.pop(committee.committee_id, None)

    def list(self) -> list[Committee]:
        return [self.get(i.committee_id) for i in CommitteeModel.scan()]
