"""Bank deposits of the gifts finance entered (docs/reports.md, "Deposits"), reconciled like
payouts: a deposit is `reconciled` only when its entries add up, to the cent, to the total
finance declared from the deposit slip. Plain data and the one rule; storage is passed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from chalicelib.errors import NotFound
from chalicelib.giving.model import Donation
from chalicelib.paging import Slice

MAX_ENTRIES = 1_000  # a deposit's entries read at most (a bank deposit holds far fewer)


@dataclass(frozen=True)
class Deposit:
    """What finance declared: the batch (as its entries name it), its committee, the slip's
    total and the day it was banked."""

    batch: str
    committee_id: str
    expected_total_cents: int
    declared_by: str
    declared_at: datetime
    deposited_on: date | None = None


@dataclass(frozen=True)
class DepositView:
    batch: str
    deposit: Deposit | None
    entries: Sequence[Donation]

    @property
    def total_cents(self) -> int:
        """What the deposit's entries brought in (refunds and returns later are the ledger's,
        not the deposit's: the bank took in the full amounts)."""
        return sum(d.amount_cents for d in self.entries)

    @property
    def difference_cents(self) -> int | None:
        return None if self.deposit is None else self.total_cents - self.deposit.expected_total_cents

    @property
    def reconciled(self) -> bool:
        """Declared, and its entries (all of the declared committee) add up to the declared
        total to the cent."""
        return self.difference_cents == 0 and not self.unmatched

    @property
    def unmatched(self) -> list[str]:
        """Entries of another committee than the one declared (a batch name reused)."""
        if self.deposit is None:
            return []
        return [d.donation_id for d in self.entries if d.committee_id != self.deposit.committee_id]


class DepositStore(Protocol):
    def put_deposit(self, deposit: Deposit) -> None: ...
    def get_deposit(self, batch: str) -> Deposit | None: ...
    def recent_deposits(self, limit: int, after: str | None) -> Slice[Deposit]: ...
    def deposit_entries(self, batch: str, limit: int) -> list[Donation]: ...


class Deposits:
    def __init__(self, store: DepositStore) -> None:
        self.store = store

    def declare(self, deposit: Deposit) -> DepositView:
        """Record (or correct) the slip's total; the view shows at once whether it adds up."""
        self.store.put_deposit(deposit)
        return self.view(deposit.batch)

    def recent(self, limit: int, after: str | None = None) -> Slice[Deposit]:
        """The latest declared deposits first, a page at a time (each one's total is on its view)."""
        return self.store.recent_deposits(limit, after)

    def view(self, batch: str) -> DepositView:
        deposit = self.store.get_deposit(batch)
        entries = self.store.deposit_entries(batch, MAX_ENTRIES)
        if deposit is None and not entries:
            raise NotFound("deposit_not_found", f"No deposit '{batch}': no entry names it and "
                           "none was declared.")
        return DepositView(batch, deposit, sorted(entries, key=lambda d: (d.created_at, d.donation_id)))
