"""The contributions CSV: one row per money movement, safe to open in a spreadsheet.

docs/exports.md documents each column. Money is integer cents, times are UTC ISO 8601.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from chalicelib.exports.model import ExportEntry
from chalicelib.pages.model import isoformat_utc

CSV_COLUMNS: tuple[str, ...] = (
    "committee_id",
    "row_type",
    "occurred_at",
    "amount_cents",
    "donation_id",
    "payment_intent_id",
    "charge_id",
    "stripe_event_id",
    "donation_amount_cents",
    "refunded_cents",
    "status",
    "donor_id",
    "first_name",
    "last_name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "employer",
    "occupation",
    "election",
    "page_slug",
    "refcode",
    "recurring",
    "itemized",
    "aggregate_cents",
    "fec_transaction_id",
    "excess_refund_reason",
    "fee_cents",
    "net_cents",
    "payout_id",
    "method",
    "reference",
    "deposit_batch",
    "wallet",
)

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, as
# the start of one once trimmed): CSV injection. Such text cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

Cell = str | int | bool | None


def neutralize(value: str) -> str:
    """Text that a spreadsheet shows as text (`=1+1` → `'=1+1`); other text unchanged."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell(value: Cell) -> str | int:
    """How one value is written: numbers stay numbers (a refund's `-700` is not neutralized, so
    it sums), booleans are `true`/`false`, missing values are empty, text is neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    return neutralize(value)


def csv_values(entry: ExportEntry, fec_transaction_id: str | None = None) -> list[Cell]:
    """The row for one movement, in `CSV_COLUMNS` order."""
    m, d = entry.movement, entry.donation
    donor = d.donor
    return [
        m.committee_id, m.kind, isoformat_utc(m.occurred_at), m.amount_cents,
        m.donation_id, d.payment_intent_id, d.charge_id, m.event_id,
        d.amount_cents, d.refunded_cents, d.status, m.donor_id,
        donor.first_name, donor.last_name, donor.email,
        donor.address_line1, donor.address_line2, donor.city, donor.state, donor.zip,
        donor.employer, donor.occupation,
        d.election or m.election, d.page_slug or m.page_slug, d.refcode,
        d.recurring, entry.itemized if m.kind == "contribution" else None, entry.aggregate_cents,
        fec_transaction_id, d.excess_refund_reason,
        m.fee_cents, m.net_cents, m.payout_id,
        d.method, d.reference, d.deposit_batch, m.wallet,
    ]


class CsvEncoder:
    """Rows to UTF-8 CSV bytes (RFC 4180: quoted where needed, CRLF line ends), one at a time."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def encode(self, values: Sequence[Cell]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([cell(v) for v in values])
        return self._buffer.getvalue().encode("utf-8")

    def header(self) -> bytes:
        return self.encode(CSV_COLUMNS)
