"""Donations and donors as the campaign knows them (plain data, no storage concerns)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.giving.ledger import PaymentState


def normalize_email(email: str) -> str:
    """The form of an address that identifies one donor: trimmed and lower-cased."""
    return email.strip().lower()


def donor_id_for(email: str) -> str:
    """Donors are keyed by normalized email; the id is a digest so keys carry no PII."""
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()
    return f"dnr_{digest[:24]}"


@dataclass(frozen=True)
class DonorSnapshot:
    """The donor as they described themselves on one donation (FEC contributor fields)."""

    first_name: str
    last_name: str
    email: str
    address_line1: str
    city: str
    state: str
    zip: str
    employer: str
    occupation: str
    address_line2: str | None = None
    phone: str | None = None

    @property
    def donor_id(self) -> str:
        return donor_id_for(self.email)


@dataclass
class Donation:
    """One attempt to give, from intake to its final payment state."""

    donation_id: str
    page_slug: str
    committee_id: str
    election: str
    donor: DonorSnapshot
    created_at: datetime
    fingerprint: str
    state: PaymentState
    refcode: str | None = None
    email_opt_in: bool = False
    idempotency_key: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    paid_at: datetime | None = None
    version: int = 0
    attestations: dict[str, bool] = field(default_factory=dict)

    @property
    def amount_cents(self) -> int:
        return self.state.amount_cents

    @property
    def status(self) -> str:
        return self.state.status
