"""The accounting ledger (`ledger_csv`): every money movement and payout in time order, with
Stripe's fee, the net and a running balance, so a treasurer can tie each deposit to its rows.

docs/exports.md documents the columns. Money is integer cents, times are UTC ISO 8601.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.exports.model import DonationFacts, LedgerMovement
from chalicelib.exports.rows import Cell
from chalicelib.pages.model import isoformat_utc
from chalicelib.payouts.model import PayoutRecord

LEDGER_COLUMNS: tuple[str, ...] = (
    "type",
    "occurred_at",
    "committee_id",
    "donation_id",
    "donor_name",
    "gross_cents",
    "fee_cents",
    "net_cents",
    "payout_id",
    "balance_cents",
    "reference",
)
# Within one instant: money in before money out, payouts last.
_TYPE_ORDER = {"contribution": 0, "dispute_reversal": 1, "payout_failure": 2, "refund": 3,
               "dispute": 4, "payout": 5}


@dataclass(frozen=True)
class LedgerRow:
    type: str
    occurred_at: datetime
    gross_cents: int
    reference: str  # the movement's id, or the payout's
    fee_cents: int | None = None  # None until Stripe pays the movement out
    net_cents: int | None = None
    payout_id: str | None = None
    committee_id: str | None = None
    donation_id: str | None = None
    donor_name: str | None = None

    @property
    def balance_change(self) -> int:
        """What the row does to the balance: its net once known, its gross until then."""
        return self.net_cents if self.net_cents is not None else self.gross_cents

    @property
    def order(self) -> tuple[datetime, int, str]:
        return self.occurred_at, _TYPE_ORDER.get(self.type, 9), self.reference


def movement_row(movement: LedgerMovement, donation: DonationFacts | None) -> LedgerRow:
    name = f"{donation.donor.first_name} {donation.donor.last_name}" if donation else None
    return LedgerRow(movement.kind, movement.occurred_at, movement.amount_cents,
                     movement.movement_id, movement.fee_cents, movement.net_cents,
                     movement.payout_id, movement.committee_id, movement.donation_id, name)


def payout_rows(record: PayoutRecord, start: datetime, end: datetime) -> list[LedgerRow]:
    """A payout leaves the balance when created; a failed one comes back when it fails (and
    leaves again in the payout that swept it back, `returned_in`)."""
    facts, rows = record.facts, []
    if start <= facts.created_at < end:
        rows.append(LedgerRow("payout", facts.created_at, -facts.amount_cents, facts.payout_id,
                              0, -facts.amount_cents, facts.payout_id))
    if facts.status == "failed" and record.failed_at and start <= record.failed_at < end:
        rows.append(LedgerRow("payout_failure", record.failed_at, facts.amount_cents,
                              facts.payout_id, 0, facts.amount_cents, record.returned_in))
    return rows


def ledger_values(row: LedgerRow, balance_cents: int) -> list[Cell]:
    """The CSV row, in `LEDGER_COLUMNS` order."""
    return [row.type, isoformat_utc(row.occurred_at), row.committee_id, row.donation_id,
            row.donor_name, row.gross_cents, row.fee_cents, row.net_cents, row.payout_id,
            balance_cents, row.reference]
