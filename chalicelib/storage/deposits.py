"""Deposits finance declared (`deposits` table) and their entries (the donations' sparse
`by-deposit` index)."""

from __future__ import annotations

from datetime import date, timezone

from pynamodb.exceptions import DoesNotExist

from chalicelib.giving.deposits import Deposit
from chalicelib.giving.model import Donation
from chalicelib.paging import Slice
from chalicelib.storage import paging
from chalicelib.storage.donations import DonationRepository
from chalicelib.storage.models import DepositModel


class DepositRepository:
    def __init__(self, donations: DonationRepository) -> None:
        self.donations = donations

    def put_deposit(self, deposit: Deposit) -> None:
        DepositModel(deposit.batch, committee_id=deposit.committee_id,
                     expected_total_cents=deposit.expected_total_cents,
                     deposited_on=deposit.deposited_on.isoformat() if deposit.deposited_on else None,
                     declared_by=deposit.declared_by, declared_at=deposit.declared_at).save()

    def get_deposit(self, batch: str) -> Deposit | None:
        try:
            item = DepositModel.get(batch, consistent_read=True)
        except DoesNotExist:
            return None
        return _deposit(item)

    def recent_deposits(self, limit: int, after: str | None) -> Slice[Deposit]:
        """Declared deposits, latest declared first (the `by-declaration` index, not a scan)."""
        start = paging.decode(after, ["batch", "listing", "declared_at"])
        found = DepositModel.by_declaration.query("deposits", limit=limit, last_evaluated_key=start,
                                                  scan_index_forward=False)
        items = [_deposit(i) for i in found]
        return Slice(items, paging.encode(found.last_evaluated_key))

    def deposit_entries(self, batch: str, limit: int) -> list[Donation]:
        return self.donations.deposit_entries(batch, limit)


def _deposit(item: DepositModel) -> Deposit:
    return Deposit(item.batch, item.committee_id, int(item.expected_total_cents),
                   item.declared_by, item.declared_at.astimezone(timezone.utc),
                   date.fromisoformat(item.deposited_on) if item.deposited_on else None)
