"""A bank deposit of entered gifts (giving/deposits.py) reconciles only when its entries add up
to the declared total to the cent; undeclared it is never reconciled; an unknown batch is 404."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from chalicelib.errors import NotFound
from chalicelib.giving.deposits import Deposit, Deposits
from chalicelib.giving.model import Donation
from chalicelib.giving.offline import OfflineContribution
from chalicelib.paging import Slice
from tests.giving_twins import GivingWorld, donor_fields

NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)


class MemoryDeposits:
    def __init__(self, world: GivingWorld) -> None:
        self.world = world
        self.declared: dict[str, Deposit] = {}

    def put_deposit(self, deposit: Deposit) -> None:
        self.declared[deposit.batch] = deposit

    def get_deposit(self, batch: str) -> Deposit | None:
        return self.declared.get(batch)

    def recent_deposits(self, limit: int, after: str | None) -> Slice[Deposit]:
        ordered = sorted(self.declared.values(), key=lambda d: d.declared_at, reverse=True)
        start = int(after or 0)
        more = start + limit < len(ordered)
        return Slice(ordered[start:start + limit], str(start + limit) if more else None)

    def deposit_entries(self, batch: str, limit: int) -> list[Donation]:
        return [d for d in self.world.store.donations.values() if d.deposit_batch == batch][:limit]


def check(world: GivingWorld, cents: int, key: str, email: str) -> None:
    world.giving.record_offline(OfflineContribution.model_validate({
        "committee_id": "C00000001", "method": "check", "amount_cents": cents,
        "received_on": "2026-03-02", "election": "P2026", "idempotency_key": key,
        "deposit_batch": "dep-7", "donor": donor_fields(email)}))


def test_a_deposit_is_reconciled_only_at_its_declared_total_to_the_cent() -> None:
    world = GivingWorld()
    check(world, 25_000, "check-key-001", "ana@example.org")
    check(world, 4_999, "check-key-002", "bo@example.org")
    deposits = Deposits(MemoryDeposits(world))
    undeclared = deposits.view("dep-7")
    assert (undeclared.total_cents, undeclared.reconciled, undeclared.difference_cents) == (
        29_999, False, None)
    short = deposits.declare(Deposit("dep-7", "C00000001", 30_000, "Dana", NOW, date(2026, 3, 3)))
    assert (short.reconciled, short.difference_cents) == (False, -1)
    exact = deposits.declare(Deposit("dep-7", "C00000001", 29_999, "Dana", NOW))
    assert exact.reconciled and exact.unmatched == []
    other = deposits.declare(Deposit("dep-7", "C00000002", 29_999, "Dana", NOW))
    # The batch name belongs to another committee's entries: nothing of it matches.
    assert len(other.unmatched) == 2 and not other.reconciled
    with pytest.raises(NotFound):
        deposits.view("dep-none")
