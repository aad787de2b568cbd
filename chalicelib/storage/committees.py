"""Committees in DynamoDB; a committee never configured gets the defaults."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.compliance.elections import Election
from chalicelib.filing.model import Address, Candidate, Name
from chalicelib.outbox.model import OutboxMessage
from chalicelib.storage.cache import ReadCache
from chalicelib.storage.models import CommitteeModel
from chalicelib.storage.outbox import OutboxRepository


class CommitteeRepository:
    """Committees change rarely and are read on every intake and success, so each Lambda
    container keeps them for `ttl_seconds` (a lowered limit takes effect within that time)."""

    def __init__(self, defaults: CommitteeDefaults, ttl_seconds: float = 60.0,
                 outbox: OutboxRepository | None = None, region: str | None = None) -> None:
        self.defaults = defaults
        self.outbox = outbox
        self.region = region
        self._cache: ReadCache[Committee] = ReadCache(ttl_seconds)

    def get(self, committee_id: str) -> Committee:
        cached = self._cache.get(committee_id)
        if cached is not None:
            return cached
        return self.remember(committee_id, self._read(committee_id))

    def find(self, committee_id: str) -> Committee | None:
        """The committee as stored (read now), or None if it was never configured."""
        item = self._read(committee_id)
        return None if item is None else self.remember(committee_id, item)

    @staticmethod
    def _read(committee_id: str) -> CommitteeModel | None:
        try:
            return CommitteeModel.get(committee_id, consistent_read=True)
        except DoesNotExist:
            return None

    def stale(self, committee_id: str) -> bool:
        """Whether `get` would read the table: the webhook then reads the committee in its
        first request instead (see `DonationRepository.load_for_event`)."""
        return not self._cache.fresh(committee_id)

    def remember(self, committee_id: str, item: CommitteeModel | None) -> Committee:
        """Cache the committee read as `item` (None: never configured, so the defaults)."""
        committee = default_committee(committee_id, self.defaults) if item is None else _from_item(item)
        return self._cache.put(committee_id, committee)

    def save(self, committee: Committee, now: datetime, queued: OutboxMessage | None = None) -> None:
        """Write the committee, and with it, in one transaction, the message its change queues
        (a lost primary's refunds): both or neither."""
        item = CommitteeModel(committee.committee_id, name=committee.name, type=committee.type,
                       limit_cents=committee.limit_cents,
                       itemization_threshold_cents=committee.itemization_threshold_cents,
                       time_zone=committee.time_zone, calendar=_calendar(committee),
                       filing_frequency=committee.filing_frequency,
                       opening_cash_on_hand_cents=committee.opening_cash_on_hand_cents,
                       opening_cash_as_of=_iso(committee.opening_cash_as_of),
                       updated_at=now)
        if queued is None:
            item.save()
        else:
            assert self.outbox is not None and self.region is not None, "configured without an outbox"
            with TransactWrite(connection=Connection(region=self.region)) as tx:
                tx.save(item)
                tx.save(self.outbox.item(queued, now))
        self.forget(committee.committee_id)

    def forget(self, committee_id: str) -> None:
        """Read the committee again next time (it changed, or a test wants it cold)."""
        self._cache.forget(committee_id)

    def list(self) -> list[Committee]:
        return [self.remember(item.committee_id, item) for item in CommitteeModel.scan()]


def _name(n: Name | None) -> dict[str, Any] | None:
    return None if n is None else {"first": n.first, "last": n.last, "middle": n.middle}


def _calendar(c: Committee) -> dict[str, Any]:
    a, cand = c.address, c.candidate
    return {
        "address": None if a is None else {"line1": a.line1, "line2": a.line2, "city": a.city,
                                           "state": a.state, "zip": a.zip},
        "treasurer": _name(c.treasurer),
        "candidate": None if cand is None else {
            "fec_id": cand.fec_id, "name": _name(cand.name), "office": cand.office,
            "state": cand.state, "district": cand.district},
        "previous_general_date": _iso(c.previous_general_date),
        "elections": [{"code": e.code, "date": e.date.isoformat(), "net_debt_cents": e.net_debt_cents}
                      for e in c.elections],
        "status": c.status, "status_date": _iso(c.status_date),
        "recurring_ends_at": _iso(c.recurring_ends_at),
        "presumptive_redesignation": c.presumptive_redesignation_setting,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _from_item(item: CommitteeModel) -> Committee:
    cal: dict[str, Any] = item.calendar or {}
    a, t, cand = cal.get("address"), cal.get("treasurer"), cal.get("candidate")
    return Committee(
        item.committee_id, item.name, item.type,  # type: ignore[arg-type]
        int(item.limit_cents), int(item.itemization_threshold_cents),
        address=Address(a["line1"], a["city"], a["state"], a["zip"], a.get("line2")) if a else None,
        treasurer=Name(t["first"], t["last"], t.get("middle")) if t else None,
        time_zone=item.time_zone,
        candidate=(Candidate(cand["fec_id"], Name(**cand["name"]), cand["office"], cand["state"],
                             cand.get("district")) if cand else None),
        previous_general_date=_day(cal.get("previous_general_date")),
        elections=tuple(Election(e["code"], date.fromisoformat(e["date"]), int(e.get("net_debt_cents", 0)))
                        for e in cal.get("elections", [])),
        status=cal.get("status", "active"), status_date=_day(cal.get("status_date")),
        filing_frequency=item.filing_frequency or "quarterly",  # type: ignore[arg-type]
        opening_cash_on_hand_cents=int(item.opening_cash_on_hand_cents or 0),
        opening_cash_as_of=_day(item.opening_cash_as_of),
        recurring_ends_at=_day(cal.get("recurring_ends_at")),
        presumptive_redesignation_setting=cal.get("presumptive_redesignation"),
    )
