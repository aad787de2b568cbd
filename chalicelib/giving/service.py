"""The giving loop's two operations: take a donation, and apply a payment event exactly once.

Storage and the payment provider are passed in (see `deps.py`); nothing here knows HTTP,
Chalice, boto3 or the stripe SDK.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

from chalicelib.errors import Conflict, NotFound
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import PaymentState, TotalsDelta, merge, totals_delta
from chalicelib.giving.model import Donation
from chalicelib.outbox.model import OutboxMessage
from chalicelib.pages.model import Page

if TYPE_CHECKING:
    from chalicelib.giving.intake import DonationRequest


class EventOutcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"


class StaleRead(Exception):
    """The donation changed between read and commit (or the write conflicted); read again."""


class DonationStore(Protocol):
    def create_pending(self, donation: Donation) -> Donation | None: ...
    def attach_payment_intent(self, donation_id: str, payment_intent_id: str) -> None: ...
    def get(self, donation_id: str) -> Donation | None: ...
    def load_for_event(self, event: PaymentEvent) -> tuple[Donation | None, bool]: ...
    def commit_event(self, event: PaymentEvent, donation: Donation, new_state: PaymentState,
                     delta: TotalsDelta, now: datetime,
                     messages: Sequence[OutboxMessage]) -> EventOutcome: ...


# Decides what must happen after a state change (a thank-you, an excess refund); what it returns
# is written to the outbox in the same transaction as the change itself.
Planner = Callable[[Donation, PaymentState, datetime], Sequence[OutboxMessage]]


class PageSource(Protocol):
    def get(self, slug: str) -> Page | None: ...


@dataclass(frozen=True)
class PaymentIntentRef:
    id: str
    client_secret: str


class PaymentProvider(Protocol):
    def create_payment_intent(self, *, amount_cents: int, donation_id: str, page_slug: str,
                              receipt_email: str, description: str,
                              idempotency_key: str) -> PaymentIntentRef: ...
    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef: ...


@dataclass(frozen=True)
class StartedDonation:
    donation: Donation
    client_secret: str


# A few attempts absorb a concurrent event on the same donation; past that, the webhook
# answers 5xx and Stripe's own retry takes over.
MAX_EVENT_ATTEMPTS = 5


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class GivingService:
    def __init__(self, store: DonationStore, pages: PageSource, payments: PaymentProvider,
                 clock: Callable[[], datetime] = _utcnow, planners: Sequence[Planner] = ()) -> None:
        self.store = store
        self.pages = pages
        self.payments = payments
        self.clock = clock
        self.planners = list(planners)

    def start_donation(self, slug: str, request: DonationRequest) -> StartedDonation:
        """Record a pending donation and its PaymentIntent; a repeated idempotency key gets the
        first donation back and creates no second PaymentIntent."""
        page = self.pages.get(slug)
        if page is None:
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        now = self.clock()
        if not page.is_open(now):
            raise Conflict("page_closed", "This page's deadline has passed; it no longer takes donations.")
        fingerprint = request.fingerprint(slug)
        donation = Donation(
            donation_id=_donation_id(slug, request.idempotency_key),
            page_slug=slug, committee_id=page.committee_id,
            election=request.election or page.election, donor=request.donor_snapshot(),
            created_at=now, fingerprint=fingerprint,
            state=PaymentState(amount_cents=request.amount_cents), refcode=request.refcode,
            email_opt_in=request.email_opt_in, idempotency_key=request.idempotency_key,
            attestations=request.attestations.model_dump(),
        )
        existing = self.store.create_pending(donation)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise Conflict("idempotency_key_reused",
                               "This idempotency_key was used for a different donation.",
                               fields={"idempotency_key": "already used with other details"})
            donation = existing
        if donation.payment_intent_id:
            intent = self.payments.retrieve_payment_intent(donation.payment_intent_id)
        else:
            intent = self.payments.create_payment_intent(
                amount_cents=donation.amount_cents, donation_id=donation.donation_id,
                page_slug=slug, receipt_email=donation.donor.email,
                description=f"Contribution to {page.title}",
                idempotency_key=f"groundswell-donation-{donation.donation_id}",
            )
            self.store.attach_payment_intent(donation.donation_id, intent.id)
            donation.payment_intent_id = intent.id
        return StartedDonation(donation, intent.client_secret)

    def apply_event(self, event: PaymentEvent) -> EventOutcome:
        """Apply a verified Stripe event once: marker and effects commit together."""
        donation, duplicate = self.store.load_for_event(event)
        for _ in range(MAX_EVENT_ATTEMPTS):
            if duplicate:
                return EventOutcome.DUPLICATE
            if donation is None:
                return EventOutcome.UNMATCHED
            new_state = merge(donation.state, event.fact)
            delta = totals_delta(donation.state, new_state)
            now = self.clock()
            messages = [m for plan in self.planners for m in plan(donation, new_state, now)]
            try:
                return self.store.commit_event(event, donation, new_state, delta, now, messages)
            except StaleRead:
                donation, duplicate = self.store.get(donation.donation_id), False
        raise StaleRead(f"event {event.event_id} kept conflicting")

    def donation(self, donation_id: str) -> Donation:
        found = self.store.get(donation_id)
        if found is None:
            raise NotFound("donation_not_found", f"No donation '{donation_id}'.")
        return found


def _donation_id(slug: str, idempotency_key: str | None) -> str:
    """Deterministic for a given page and idempotency key, so a double-click finds the first."""
    if idempotency_key:
        return "don_" + uuid.uuid5(uuid.NAMESPACE_URL, f"groundswell:{slug}:{idempotency_key}").hex
    return "don_" + uuid.uuid4().hex
