"""What the refcode report reads: contribution movements by committee and day (the movements'
`by-month` index), joined with their donations and donors by BatchGetItem."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from chalicelib.giving.ledger import PaymentState
from chalicelib.reports.refcodes import ContributionFact
from chalicelib.storage.donations import ledger_key, ledger_months
from chalicelib.storage.models import (
    DonationModel,
    DonorModel,
    MovementModel,
    PageModel,
)

_DONATION_FIELDS = ["donation_id", "refcode", "page_slug", "donor_id", "created_at", "amount_cents",
                    "refunded_cents", "paid", "failed", "dispute"]


class RefcodeReportStore:
    def __init__(self, ledger_shards: int) -> None:
        self.ledger_shards = ledger_shards

    def contributions(self, page_slug: str | None, committee_id: str | None, start: datetime,
                      end: datetime) -> list[ContributionFact]:
        committees = {committee_id} if committee_id else self._committee_of(page_slug)
        movements = [m for m in self._contribution_movements(committees, start, end)
                     if page_slug is None or m.page_slug == page_slug]
        if not movements:
            return []
        donations = {d.donation_id: d for d in
                     DonationModel.batch_get({m.donation_id for m in movements},
                                             attributes_to_get=_DONATION_FIELDS)}
        firsts = {d.donor_id: d.first_contribution_at for d in
                  DonorModel.batch_get({d.donor_id for d in donations.values()},
                                       attributes_to_get=["donor_id", "first_contribution_at"])}
        facts = []
        for m in movements:
            d = donations.get(m.donation_id)
            if d is None:
                continue
            state = PaymentState(int(d.amount_cents), bool(d.paid), bool(d.failed),
                                 int(d.refunded_cents or 0), d.dispute or "none")  # type: ignore[arg-type]
            first = firsts.get(d.donor_id)
            facts.append(ContributionFact(
                donation_id=d.donation_id, donor_id=d.donor_id, page_slug=d.page_slug,
                refcode=d.refcode, paid_at=m.occurred_at.astimezone(timezone.utc),
                gross_cents=int(m.amount_cents), counted_cents=state.counted_cents,
                returning=first is not None and first < d.created_at,
            ))
        return facts

    def _committee_of(self, page_slug: str | None) -> set[str]:
        if page_slug is None:
            return set()
        try:
            return {PageModel.get(page_slug, attributes_to_get=["committee_id"]).committee_id}
        except PageModel.DoesNotExist:
            return set()

    def _contribution_movements(self, committees: set[str], start: datetime,
                                end: datetime) -> list[MovementModel]:
        """Every committee, UTC month and shard in the range, queried ten at a time."""
        queries = [(ledger_key(c, month, n), low, high)
                   for month, low, high in ledger_months(start, end)
                   for c in sorted(committees) for n in range(self.ledger_shards)]

        def query(key_and_bounds: tuple[str, datetime, datetime]) -> list[MovementModel]:
            key, low, high = key_and_bounds
            return list(MovementModel.by_month.query(
                key, MovementModel.occurred_at.between(low, high),
                filter_condition=MovementModel.kind == "contribution"))

        MovementModel._get_connection().connection.client  # noqa: B018 - build it on this thread
        with ThreadPoolExecutor(max_workers=10) as pool:
            return [m for found in pool.map(query, queries) for m in found]
