"""What an export is made of, as plain data: the job, the ledger's movements, the donations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from chalicelib.giving.model import Conduit

ExportKind = Literal["contributions_csv", "fec_schedule_a", "ledger_csv"]
ExportStatus = Literal["queued", "running", "succeeded", "failed"]
KINDS: tuple[ExportKind, ...] = ("contributions_csv", "fec_schedule_a", "ledger_csv")
MovementKind = Literal["contribution", "refund", "dispute", "dispute_reversal"]


@dataclass(frozen=True)
class ExportJob:
    """One request for an export and, once run, where its files are."""

    export_id: str
    kind: ExportKind
    from_day: date
    to_day: date
    committee_id: str | None
    status: ExportStatus
    requested_by: str
    created_at: datetime
    row_count: int | None = None
    rows_done: int = 0
    # role ("download", "jsonl") -> object key
    files: dict[str, str] = field(default_factory=dict)
    summary: dict[str, int] | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class LedgerMovement:
    """One money movement of a donation, signed from the campaign's side (+ in, - out)."""

    movement_id: str
    kind: MovementKind
    amount_cents: int
    occurred_at: datetime
    donation_id: str
    donor_id: str
    committee_id: str
    election: str
    page_slug: str
    event_id: str
    # Stripe's fee, the net and the payout, once the movement is paid out (payouts reconciled).
    fee_cents: int | None = None
    net_cents: int | None = None
    payout_id: str | None = None
    # When its donation was given (orders movements of one event second).
    intake_at: datetime | None = None
    # The wallet the card was paid through (`apple_pay`, `google_pay`, `link`; None: a card).
    wallet: str | None = None


@dataclass(frozen=True)
class DonorFacts:
    """The donor as given on the donation (the FEC contributor fields)."""

    first_name: str
    last_name: str
    email: str
    address_line1: str
    city: str
    state: str
    zip: str
    employer: str | None
    occupation: str | None
    address_line2: str | None = None


@dataclass(frozen=True)
class DonationFacts:
    """What an export reports about a donation, read when the export runs (current status)."""

    donation_id: str
    donor: DonorFacts
    amount_cents: int
    refunded_cents: int
    status: str
    election: str
    page_slug: str
    payment_intent_id: str | None = None
    charge_id: str | None = None
    refcode: str | None = None
    paid_at: datetime | None = None
    recurring: bool = False
    excess_refund_reason: str | None = None
    # The local day the donor answered a best-efforts request (the donor's employer and
    # occupation above are then the answer): the contribution needs a memo entry or amendment.
    best_efforts_answered_on: date | None = None
    excess_refund_cents: int = 0
    # How it came in: `online`, or what finance entered (`check`, `cash`, `wire`, `conduit`
    # with who forwarded it, `in_kind`
    # with what was given); the filing's Schedule A row type follows it.
    method: str = "online"
    in_kind_description: str | None = None
    conduit: Conduit | None = None
    reference: str | None = None  # a check's number, a wire's reference (what finance noted)
    deposit_batch: str | None = None  # the bank deposit it went in (docs/reports.md)
    # A standing presumptive redesignation of part of the gift: the amount, the election it
    # counts for, and the committee's local day it was made (the report's memo entries).
    redesignated_cents: int = 0
    redesignated_to: str | None = None
    redesignated_on: date | None = None
    # A confirmed reattribution of part of the gift to another holder of the card account: the
    # amount, that person as they confirmed (and their donor id), and the committee's local day.
    reattributed_cents: int = 0
    reattributed_to: DonorFacts | None = None
    reattributed_donor_id: str | None = None
    reattributed_on: date | None = None


@dataclass(frozen=True)
class ExportEntry:
    """A movement in the export's range, with its donation and the donor's aggregate after it."""

    movement: LedgerMovement
    donation: DonationFacts
    aggregate_cents: int
    itemized: bool
    # The other person's aggregate at the movement, for a gift partly reattributed to them.
    their_aggregate_cents: int = 0
