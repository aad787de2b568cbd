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
        try:
            item: CommitteeModel | None = CommitteeModel.get(committee_id)
        except DoesNotExist:
            item = None
        return self.remember(committee_id, item)

    def stale(self, committee_id: str) -> bool:
        """Whether `get` would read the table: the webhook then reads the committee in its
        first request instead (see `DonationRepository.load_for_event`)."""
        cached = self._cache.get(committee_id)
        return not cached or cached[0] <= time.monotonic()

    def remember(self, committee_id: str, item: CommitteeModel | None) -> Committee:
        """Cache the committee read as `item` (None: never configured, so the defaults)."""
        committee = (default_committee(committee_id, self.defaults) if item is None else
                     Committee(item.committee_id, item.name, item.type,  # type: ignore[arg-type]
                               int(item.limit_cents), int(item.itemization_threshold_cents)))
        self._cache[committee_id] = (time.monotonic() + self.ttl_seconds, committee)
        return committee

    def save(self, committee: Committee, now: datetime) -> None:
        CommitteeModel(committee.committee_id, name=committee.name, type=committee.type,
                       limit_cents=committee.limit_cents,
                       itemization_threshold_cents=committee.itemization_threshold_cents,
                       updated_at=now).save()
        self.forget(committee.committee_id)

    def forget(self, committee_id: str) -> None:
        """Read the committee again next time (it changed, or a test wants it cold)."""
        self._cache.pop(committee_id, None)

    def list(self) -> list[Committee]:
        return [self.remember(item.committee_id, item) for item in CommitteeModel.scan()]
