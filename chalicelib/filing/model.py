"""What a report is made of, as plain data: the committee as the FEC knows it, and its transactions.

Money is integer cents (dollars appear only in the records, where the FEC's formats want them);
every date is a local date in the committee's time zone (`FilingCommittee.local_date` turns a
UTC instant into one). Each transaction carries a stable `transaction_id` (at most 20
characters, see `ids.transaction_id`) that stays the same in every re-build, so an amendment
lines up row for row with the report it amends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

CommitteeType = Literal["candidate", "pac"]
FilingFrequency = Literal["quarterly", "monthly"]
Office = Literal["H", "S", "P"]
ReceiptMethod = Literal["online", "check", "cash", "wire", "in_kind", "conduit"]
ReturnReason = Literal["chargeback", "returned"]
FormName = Literal["F3", "F3X"]


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str | None = None


@dataclass(frozen=True)
class Name:
    """A person's name split as the FEC's forms split it."""

    first: str
    last: str
    middle: str | None = None
    prefix: str | None = None
    suffix: str | None = None

    @property
    def display(self) -> str:
        return " ".join(part for part in (self.first, self.middle, self.last) if part)


@dataclass(frozen=True)
class Contributor:
    """An individual as given on a contribution (the FEC's contributor fields)."""

    name: Name
    address: Address
    employer: str | None = None
    occupation: str | None = None


@dataclass(frozen=True)
class Organization:
    """A payee or conduit that is not a person."""

    name: str
    address: Address
    fec_id: str | None = None  # a conduit that is a registered committee has one (`C…`)


# Stripe is paid its processing fees out of each charge; the fees are its operating
# expenditures on the report (the address is Stripe, Inc.'s, as on its invoices).
STRIPE = Organization("Stripe, Inc.", Address("354 Oyster Point Blvd", "South San Francisco", "CA",
                                              "94080"))


@dataclass(frozen=True)
class Candidate:
    fec_id: str
    name: Name
    office: Office
    state: str
    district: str | None = None  # House only, two digits


@dataclass(frozen=True)
class Election:
    """One of the committee's elections: `P2026`, `G2026`, …, with its date. An election the
    candidate no longer takes part in (a lost primary, a withdrawal) is not `participating`:
    it gets no pre- or post-election report and no 48-hour notices."""

    code: str
    date: date
    state: str | None = None  # the election's state, when it is not the candidate's
    participating: bool = True

    @property
    def kind(self) -> str:
        """`P` primary, `R` runoff, `C` convention, `S` special, `G` general, `E`/`O` other."""
        return self.code[:1]


@dataclass(frozen=True)
class FilingCommittee:
    """The committee as its reports show it."""

    fec_id: str
    name: str
    address: Address
    treasurer: Name
    type: CommitteeType
    time_zone: str = "America/New_York"
    filing_frequency: FilingFrequency = "quarterly"
    candidate: Candidate | None = None  # candidate committees (Form 3)
    elections: tuple[Election, ...] = ()
    # The cycle of a candidate committee starts the day after the previous general election.
    previous_general_date: date | None = None
    itemization_threshold_cents: int = 20_000

    @property
    def form(self) -> FormName:
        """Form 3 for a candidate's committee, Form 3X for a PAC."""
        return "F3X" if self.type == "pac" else "F3"

    def local_date(self, instant: datetime) -> date:
        """The day `instant` (an aware UTC time) falls on in the committee's time zone."""
        return instant.astimezone(ZoneInfo(self.time_zone)).date()

    def aggregation_start(self, day: date) -> date:
        """The first day of the period that aggregates for itemization and for column B:
        the election cycle containing `day` (candidate), or its calendar year (PAC)."""
        if self.type == "pac":
            return date(day.year, 1, 1)
        generals = [e.date for e in self.elections if e.kind == "G" and e.date < day]
        if self.previous_general_date and self.previous_general_date < day:
            generals.append(self.previous_general_date)
        if generals:
            return max(generals) + timedelta(days=1)
        # Without a known previous general: the two-year cycle ending with an even year.
        return date(day.year - (1 if day.year % 2 == 0 else 0), 1, 1)


@dataclass(frozen=True)
class OpeningCash:
    """Cash on hand at the start of `as_of`: the day the committee's books here begin. Every
    receipt and disbursement on or after it is a transaction given to the report."""

    cents: int
    as_of: date


@dataclass(frozen=True)
class Receipt:
    """A contribution from an individual by any channel: online, check, cash, wire, in kind, or
    forwarded by a conduit (an earmarked gift). `aggregate_cents` is the donor's net total in
    the aggregation period up to and including this contribution."""

    transaction_id: str
    date: date
    amount_cents: int
    contributor: Contributor
    aggregate_cents: int
    election: str | None = None  # the designation (`P2026`); Form 3 reports it
    method: ReceiptMethod = "online"
    in_kind_description: str | None = None
    conduit: Organization | None = None


@dataclass(frozen=True)
class ReturnedContribution:
    """Money of a contribution that went back without a refund by the committee: a card
    chargeback, a bounced or returned check. `amount_cents` is positive; `aggregate_cents` is
    the donor's aggregate after it."""

    transaction_id: str
    date: date
    amount_cents: int
    contributor: Contributor
    aggregate_cents: int
    original_date: dt.date  # (`date` is a field name here)
    election: str | None = None
    reason: ReturnReason = "chargeback"


@dataclass(frozen=True)
class Refund:
    """A refund the committee made to an individual (all or part of a contribution, or the part
    over the limit: `excess`)."""

    transaction_id: str
    date: date
    amount_cents: int
    contributor: Contributor
    original_date: dt.date  # (`date` is a field name here)
    election: str | None = None
    excess: bool = False


@dataclass(frozen=True)
class ProcessingFee:
    """A fee a payment processor kept (Stripe's fee on a charge or dispute). Negative for a fee
    given back."""

    transaction_id: str
    date: date
    amount_cents: int
    payee: Organization = STRIPE


@dataclass(frozen=True)
class BestEffortsAnswer:
    """A donor's employer and occupation received after `original` was asked about. When the
    original was reported in an earlier report, this report carries a memo entry with the
    answer; when it is in this report, its row simply shows the answer."""

    transaction_id: str
    date: date
    original: Receipt
    employer: str
    occupation: str


@dataclass(frozen=True)
class Redesignation:
    """Part of `original` moved from one election to another (presumptively, or at the donor's
    request), recorded on `date`."""

    transaction_id: str
    date: date
    original: Receipt
    amount_cents: int
    from_election: str
    to_election: str


@dataclass(frozen=True)
class Reattribution:
    """Part of `original` attributed to another holder of the same account, `to`, once both
    confirmed on `date`. The aggregates are each person's after the move."""

    transaction_id: str
    date: date
    original: Receipt
    amount_cents: int
    to: Contributor
    from_aggregate_cents: int
    to_aggregate_cents: int


Memo = BestEffortsAnswer | Redesignation | Reattribution
Transaction = Receipt | ReturnedContribution | Refund | ProcessingFee | Memo
