"""The giving loop's two operations: take a donation, and apply a payment event exactly once.

Storage and the payment provider are passed in (see `deps.py`); nothing here knows HTTP,
Chalice, boto3 or the stripe SDK.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib import logs, metrics
from chalicelib.clock import utcnow
from chalicelib.compliance.best_efforts import needs_best_efforts
from chalicelib.compliance.committees import Committee
from chalicelib.compliance.elections import local_date
from chalicelib.compliance.limits import Ceiling, OverLimit, ceiling, excess_cents
from chalicelib.compliance.offline import (
    CASH_LIMIT_CENTS,
    cash_scope,
    check_anonymous,
    received_at,
)
from chalicelib.compliance.remedies import (
    ExcessRemedy,
    excess_notice,
    excess_remedy,
    redesignation_notice,
    redesignation_target,
)
from chalicelib.compliance.withdrawal import PAGE_FORGONE, PAGE_FORGONE_NOTICE, forgone_refund_planned
from chalicelib.errors import Conflict, InvalidInput, NotFound, ProviderBusy
from chalicelib.giving.events import PaymentEvent, awaits_its_payment, not_its_payment
from chalicelib.giving.ledger import Fact, PaymentState, TotalsDelta, merge, totals_delta
from chalicelib.giving.model import (
    Donation,
    DonorSnapshot,
    RecordedMovement,
    RecurringPlan,
    donor_id_for,
    invoice_donation_id,
    name_splits,
)
from chalicelib.giving.velocity import (
    CARD_TESTING,
    DECLINE_EVENT,
    CounterAdd,
    VelocityLimits,
    cancel_message,
    card_declines,
    check_intake,
    decline_keys,
    intake_counter_keys,
    is_card_testing,
    lookup_keys,
    pending_key,
    window,
)
from chalicelib.outbox.model import OutboxMessage
from chalicelib.pages.model import Page
from chalicelib.paging import Slice

if TYPE_CHECKING:
    from chalicelib.giving.intake import DonationRequest
    from chalicelib.giving.offline import OfflineContribution


DONATION_ID = re.compile(r"don_[0-9a-f]{32}")


@dataclass(frozen=True)
class Lookup:
    """What finance's search found: donations (by id or email) or donors (by name)."""

    by: str
    query: str
    donations: list[Donation] = field(default_factory=list)
    donors: list[tuple[str, DonorSnapshot]] = field(default_factory=list)
    after: str | None = None


class EventOutcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"


class StaleRead(Exception):
    """The donation changed between read and commit (or the write conflicted); read again."""


class SuccessOverLimit(Exception):
    """Committing this success would take the donor's net giving over the limit."""


@dataclass(frozen=True)
class Reservation:
    """What intake holds against the legal limit while a payment is pending.

    The amount is reserved on the aggregate of the email that made the donation (`holder`):
    a pending gift counts only against its own email, so nobody can use a person's name and ZIP
    to reserve (and lock) that person's limit. The person the gift counts for (`person`, by
    email or linked by name and ZIP) contributes their net giving: when the two differ, the
    commit requires that net to be no more than `person_net_cents` as read, and the holder's
    own exposure to leave room for it."""

    holder: str
    person: str
    scope: str
    cents: int
    limit_cents: int
    person_net_cents: int = 0
    # A gift toward a held election's debts also reserves on the election's debt counter
    # (`debt_key`: holder and scope), which may reach `debt_limit_cents` in all.
    debt_key: tuple[str, str] | None = None
    debt_limit_cents: int = 0

    @property
    def linked(self) -> bool:
        """The gift counts for a person other than its email's own donor record."""
        return self.holder != self.person

    @property
    def exposure_ceiling(self) -> Ceiling:
        """The most the holder's exposure (net + reserved) may be for this reservation to fit."""
        return ceiling(self.limit_cents, self.cents, self.person_net_cents)

    @property
    def debt_ceiling(self) -> Ceiling:
        """The most the election's debt counter may hold for this gift to fit in its debts."""
        return ceiling(self.debt_limit_cents, self.cents)

    @property
    def person_unchanged(self) -> Ceiling:
        """The linked person's net giving may not have grown since it was read."""
        return Ceiling(self.person_net_cents)


@dataclass(frozen=True)
class ExpressUse:
    """What an express gift writes besides its donation, in the same transaction: its link's
    nonce (once only), and the donor's recent express charges with this one added (guarded by
    the version they were read at)."""

    customer_id: str
    use_key: str
    use_expires_at: datetime
    donor_id: str
    charges: tuple[datetime, ...]
    charges_version: int
    # The express request's own digest (the link's nonce included): a retried request matches.
    fingerprint: str


@dataclass(frozen=True)
class AggregateChange:
    """What one event does to the donor's aggregate for the donation's limit period."""

    scope: str
    net_cents: int
    contributions: int
    reserved_cents: int
    # When set, the commit fails with SuccessOverLimit if net giving would pass this limit.
    net_limit_cents: int | None = None
    # When set, the commit requires the aggregate's net to still be this (excess refunds).
    expected_net_cents: int | None = None
    # The donor id holding the reservation, when not the donation's donor (see Reservation).
    reservation_holder: str | None = None
    # The held election's debt counter, moved like the aggregate (gifts toward its debts).
    debt_key: tuple[str, str] | None = None
    # The part of the change that counts toward another election of the donor's (a presumptive
    # redesignation's, compliance/remedies.py): that limit period, the cents, and the most the
    # donor's net there may be before it (when it adds).
    moved_scope: str | None = None
    moved_cents: int = 0
    moved_ceiling: Ceiling | None = None
    # The part of the change that is another person's (a confirmed reattribution's,
    # compliance/reattribution.py): their donor id and the cents, in the same limit period.
    other_donor_id: str | None = None
    other_cents: int = 0

    @property
    def is_zero(self) -> bool:
        return not (self.net_cents or self.contributions or self.reserved_cents)

    @property
    def net_ceiling(self) -> Ceiling | None:
        """The most the donor's net may be before this change, to stay within the limit."""
        return None if self.net_limit_cents is None else ceiling(self.net_limit_cents, self.net_cents)


@dataclass(frozen=True)
class Decline:
    """What a declined confirmation writes on its donation: the donation's declines so far
    (this one included), and `card_testing` when this one ends the donation."""

    count: int
    reason: str | None = None


@dataclass(frozen=True)
class ExcessRefund:
    """What an excessive success writes on its donation: the part refunded at once (`cents`),
    and the remedy decided for the whole excess (`compliance.remedies`), whose redesignated
    part counts toward the next election in the same transaction."""

    cents: int
    reason: str
    remedy: ExcessRemedy | None = None


@dataclass(frozen=True)
class CommitCounters:
    """The counters an event moves besides the donor's aggregate and the page's thermometer,
    as the service decides them: the A/B arm whose conversion it is, the card-testing
    counters a decline counts on, and the address's pending donations."""

    variant_id: str | None = None
    decline_keys: tuple[str, ...] = ()
    # The address's pending counter, when this event ends the donation's `pending` (one fewer).
    pending_key: str | None = None


NO_COUNTERS = CommitCounters()


@dataclass(frozen=True)
class IntakeRead:
    """What intake reads before it writes, in one request: the donor this person already is
    (by email, then by name and ZIP5; else a new id from their email) and the velocity
    counters asked for (missing ones absent)."""

    donor_id: str
    counts: dict[str, int] = field(default_factory=dict)
    # The Stripe customer this email's earlier gifts recorded (monthly or saved card), reused
    # by its later ones so a new card reaches all of them (one customer per donor's address).
    customer_id: str | None = None


class DonationStore(Protocol):
    def read_intake(self, snapshot: DonorSnapshot, counter_keys: Sequence[str]) -> IntakeRead: ...
    def create_pending(self, donation: Donation, reservation: Reservation,
                       express: ExpressUse | None = None,
                       counters: Sequence[CounterAdd] = ()) -> Donation | None: ...
    def withdraw_pending(self, donation: Donation, express: ExpressUse | None = None,
                         counters: Sequence[str] = ()) -> None: ...
    def resolve_donor(self, snapshot: DonorSnapshot) -> str: ...
    def attach_payment_intent(self, donation_id: str, payment_intent_id: str,
                              subscription_id: str | None = None,
                              customer_id: str | None = None) -> None: ...
    def get(self, donation_id: str) -> Donation | None: ...
    def load_for_event(self, event: PaymentEvent) -> tuple[Donation | None, bool]: ...
    def commit_event(self, event: PaymentEvent, donation: Donation, new_state: PaymentState,
                     delta: TotalsDelta, aggregate: AggregateChange, now: datetime,
                     messages: Sequence[OutboxMessage],
                     excess: ExcessRefund | None = None,
                     decline: Decline | None = None,
                     counters: CommitCounters = NO_COUNTERS,
                     cash: AggregateChange | None = None) -> EventOutcome: ...
    def aggregate_net(self, donor_id: str, scope: str) -> int: ...
    def aggregate_nets(self, donor_id: str, scopes: Sequence[str]) -> dict[str, int]: ...
    def plan(self, subscription_id: str) -> RecurringPlan | None: ...
    def save_plan(self, plan: RecurringPlan) -> None: ...
    def end_plan(self, subscription_id: str, when: datetime,
                 notice: OutboxMessage | None = None) -> EventOutcome: ...
    def link_invoice_payment(self, donation_id: str, payment_intent_id: str) -> bool: ...
    def sync_plan(self, subscription_id: str, amount_cents: int | None, status: str | None,
                  ends_on: date | None, clear_end: bool, at: datetime) -> EventOutcome: ...
    def queue_plan_notice(self, subscription_id: str, message: OutboxMessage,
                          now: datetime) -> EventOutcome: ...
    # finance's lookup
    def donor_ids_for_email(self, email_donor_id: str) -> list[str]: ...
    def donations_page(self, donor_id: str, limit: int, after: str | None) -> Slice[Donation]: ...
    def donors_named(self, last: str, first: str | None, limit: int) -> list[tuple[str, DonorSnapshot]]: ...
    def movements_of_donation(self, donation_id: str) -> list[RecordedMovement]: ...


# Decides what must happen after a state change (a thank-you, an excess refund); what it returns
# is written to the outbox in the same transaction as the change itself.
Planner = Callable[[Donation, PaymentState, datetime], Sequence[OutboxMessage]]


class VelocityGuard(Protocol):
    """The card-testing limits, and the card counters a decline reads. What intake reads and
    adds goes with its own read and transaction (`DonationStore.read_intake`, `create_pending`)."""

    limits: VelocityLimits

    def card_counts(self, fingerprint: str, now: datetime) -> dict[str, int]: ...


class PageSource(Protocol):
    def get(self, slug: str) -> Page | None: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


@dataclass(frozen=True)
class PaymentIntentRef:
    id: str
    client_secret: str
    subscription_id: str | None = None


class PaymentProvider(Protocol):
    def create_payment_intent(self, *, amount_cents: int, donation_id: str, page_slug: str,
                              committee_id: str, receipt_email: str, description: str,
                              idempotency_key: str, customer_id: str | None = None
                              ) -> PaymentIntentRef: ...
    def create_customer(self, *, email: str, name: str, donor_id: str,
                        idempotency_key: str) -> str: ...
    def create_monthly_subscription(self, *, amount_cents: int, donation_id: str, page_slug: str,
                                    committee_id: str, customer_id: str, description: str,
                                    idempotency_key: str,
                                    cancel_at: datetime | None = None) -> PaymentIntentRef: ...
    def saved_card(self, customer_id: str) -> SavedCard | None: ...
    def charge_saved_card(self, *, customer_id: str, payment_method_id: str, amount_cents: int,
                          donation_id: str, page_slug: str, committee_id: str, receipt_email: str,
                          description: str, idempotency_key: str) -> PaymentIntentRef: ...
    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef: ...


@dataclass(frozen=True)
class SavedCard:
    payment_method_id: str
    brand: str
    last4: str


@dataclass(frozen=True)
class StartedDonation:
    donation: Donation
    client_secret: str


# A few attempts absorb a concurrent event on the same donation; past that, the webhook
# answers 5xx and Stripe's own retry takes over.
MAX_EVENT_ATTEMPTS = 5



@dataclass(frozen=True)
class OfflinePlan:
    """An offline entry read but not written (`GivingService.plan_offline`): the donation it
    would record, or `existing`, the one its idempotency key recorded before."""

    committee: Committee
    donation: Donation
    existing: Donation | None = None


class GivingService:
    def __init__(self, store: DonationStore, pages: PageSource, payments: PaymentProvider,
                 committees: CommitteeSource, clock: Callable[[], datetime] = utcnow,
                 planners: Sequence[Planner] = (), velocity: VelocityGuard | None = None) -> None:
        self.store = store
        self.velocity = velocity
        self.pages = pages
        self.payments = payments
        self.committees = committees
        self.clock = clock
        self.planners = list(planners)

    def start_donation(self, slug: str, request: DonationRequest, client_ip: str | None = None,
                       express: ExpressUse | None = None,
                       review_signals: Sequence[dict[str, str]] = ()) -> StartedDonation:
        """Record a pending donation and its PaymentIntent; a repeated idempotency key gets the
        first donation back and creates no second PaymentIntent. An express gift (`express`)
        charges the saved card and uses up its link in the donation's own transaction."""
        page = self._open_page(slug)
        now = self.clock()
        fingerprint = express.fingerprint if express else request.fingerprint(slug)
        committee = self.committees.get(page.committee_id)
        election = committee.designate(now, request.election, page.election, page.offered,
                                       request.amount_cents)
        snapshot = request.donor_snapshot()
        limits = self.velocity.limits if self.velocity and client_ip else None
        keys = lookup_keys(client_ip, snapshot.email, now, limits) if client_ip and limits else []
        read = self.store.read_intake(snapshot, keys)  # who the donor is, and the counters
        counters: tuple[CounterAdd, ...] = ()
        if client_ip and limits:  # card testing: 429 before anything is written
            counters = check_intake(read.counts, client_ip, snapshot.email, now, limits)
        person = read.donor_id
        scope = committee.limit_scope(election, now)
        donation = Donation(
            donation_id=_donation_id(slug, request.idempotency_key),
            page_slug=slug, committee_id=page.committee_id,
            election=election, donor=snapshot, donor_id=person,
            created_at=now, fingerprint=fingerprint,
            state=PaymentState(amount_cents=request.amount_cents),
            # Every gift on a supporter's page is credited to them, whatever link brought it.
            refcode=page.supporter.refcode if page.supporter else request.refcode,
            email_opt_in=request.email_opt_in, sms_opt_in=request.sms_opt_in,
            idempotency_key=request.idempotency_key, locale=request.locale,
            interests=sorted(set(request.interests or [])),
            # A monthly gift or a saved card goes on the customer this address has already.
            customer_id=(read.customer_id if express is None
                         and (request.recurring or request.save_payment_method) else None),
            attestations=request.attestations.model_dump(),
            limit_scope=scope, reserved_cents=request.amount_cents,
            reserved_by=snapshot.donor_id if snapshot.donor_id != person else None,
            client_ip=client_ip, variant_id=request.variant_id,
            best_efforts_flag=needs_best_efforts(snapshot),
            # A signal at intake (compliance/reviews.py) creates the donation in review.
            review_signals=list(review_signals), review_status="open" if review_signals else None,
        )
        debt_limit = committee.debt_limit(election, now)
        donation.toward_debt = debt_limit is not None
        existing = self._create_pending(donation, committee.limit_cents, express, debt_limit or 0,
                                        counters)
        if existing is not None:
            return self._continue(existing, fingerprint, page, request, express)
        try:
            intent = self._start_payment(donation, page, request, express)
        except ProviderBusy:
            # Stripe's rate limit turned the payment away: take the pending donation, its
            # reservation, its counts and an express link's use back, so the busy answer leaves
            # nothing and the page's retry starts afresh (the same idempotency keys, here and at
            # Stripe).
            self.store.withdraw_pending(donation, express, self._counted(donation))
            raise
        return StartedDonation(donation, intent.client_secret)

    def _counted(self, donation: Donation) -> tuple[str, ...]:
        """The velocity counters the donation's intake added to (none without an address)."""
        if self.velocity is None or not donation.client_ip:
            return ()
        return intake_counter_keys(donation.client_ip, donation.created_at, self.velocity.limits)

    def resume(self, slug: str, request: DonationRequest, fingerprint: str,
               express: ExpressUse | None = None) -> StartedDonation | None:
        """The donation this request's idempotency key started already, carried on (the same
        request retried after its answer was lost); None if there is none."""
        if not request.idempotency_key:
            return None
        existing = self.store.get(_donation_id(slug, request.idempotency_key))
        if existing is None:
            return None
        return self._continue(existing, fingerprint, self._open_page(slug), request, express)

    def _open_page(self, slug: str) -> Page:
        page = self.pages.get(slug)
        if page is None or not page.listed:  # a supporter's page waiting for approval
            raise NotFound("page_not_found", f"No donation page '{slug}'.")
        if page.closed_reason == PAGE_FORGONE:
            raise Conflict("page_closed", PAGE_FORGONE_NOTICE)
        if not page.is_open(self.clock()):
            raise Conflict("page_closed", "This page's deadline has passed; it no longer takes donations.")
        return page

    def _create_pending(self, donation: Donation, limit_cents: int,
                        express: ExpressUse | None, debt_limit_cents: int = 0,
                        counters: Sequence[CounterAdd] = ()) -> Donation | None:
        """Store the pending donation with its reservation (422 over_limit past the limit) and
        its velocity counts (429 past a cap); the stored donation if its id exists already. A
        linked person's net giving is read first and the commit requires it unchanged, so a
        concurrent success means reading again."""
        for _ in range(MAX_EVENT_ATTEMPTS):
            holder = donation.reserved_by or donation.donor_id
            reservation = Reservation(
                holder=holder, person=donation.donor_id, scope=donation.limit_scope,
                cents=donation.reserved_cents, limit_cents=limit_cents,
                person_net_cents=(self.store.aggregate_net(donation.donor_id, donation.limit_scope)
                                  if holder != donation.donor_id else 0),
                debt_key=debt_key(donation), debt_limit_cents=debt_limit_cents)
            try:
                return self.store.create_pending(donation, reservation, express, counters)
            except StaleRead:
                if express is not None:
                    raise  # the express service reads the donor again
        raise StaleRead("intake kept conflicting")

    def _continue(self, existing: Donation, fingerprint: str, page: Page, request: DonationRequest,
                  express: ExpressUse | None) -> StartedDonation:
        """A donation started before by the same idempotency key: the same request gets it
        back (its payment started now if the first attempt stopped short); other details 409."""
        if existing.fingerprint != fingerprint:
            raise Conflict("idempotency_key_reused",
                           "This idempotency_key was used for a different donation.",
                           fields={"idempotency_key": "already used with other details"})
        if existing.payment_intent_id:
            intent = self.payments.retrieve_payment_intent(existing.payment_intent_id)
        else:
            try:
                intent = self._start_payment(existing, page, request, express)
            except ProviderBusy:
                if express is None:  # an express retry's charges were counted by its first try
                    self.store.withdraw_pending(existing, None, self._counted(existing))
                raise
        return StartedDonation(existing, intent.client_secret)

    def _start_payment(self, donation: Donation, page: Page, request: DonationRequest,
                       express: ExpressUse | None) -> PaymentIntentRef:
        """The PaymentIntent the donor confirms: a one-time gift's, or a monthly plan's first
        invoice's; or, for express giving, the saved card charged at once. Every call carries
        an idempotency key derived from the donation id."""
        key = f"groundswell-donation-{donation.donation_id}"
        description = f"Contribution to {page.title}"
        if express is not None:
            express_customer = express.customer_id
            card = self.payments.saved_card(express_customer)
            if card is None:
                raise Conflict("no_saved_card", "There is no saved card to charge any more.")
            intent = self.payments.charge_saved_card(
                customer_id=express_customer, payment_method_id=card.payment_method_id,
                amount_cents=donation.amount_cents, donation_id=donation.donation_id,
                page_slug=page.slug, committee_id=donation.committee_id,
                receipt_email=donation.donor.email, description=description, idempotency_key=key)
            self.store.attach_payment_intent(donation.donation_id, intent.id, None, express_customer)
            donation.payment_intent_id, donation.customer_id = intent.id, express_customer
            return intent
        customer_id = None
        if request.recurring or request.save_payment_method:
            d = donation.donor
            # The address's customer when it has one (read with the donor at intake), else a new
            # one; its idempotency key is the donation's, so a retried start makes one only.
            customer_id = donation.customer_id or self.payments.create_customer(
                email=d.email, name=f"{d.first_name} {d.last_name}", donor_id=donation.donor_id,
                idempotency_key=f"{key}-customer")
        if request.recurring and customer_id:
            # Monthly gifts end with the election (the committee's `recurring_ends_at`).
            committee = self.committees.get(donation.committee_id)
            ends_at = committee.monthly_gifts_end(donation.created_at)
            ends_on = committee.recurring_end_day(donation.created_at) if ends_at else None
            intent = self.payments.create_monthly_subscription(
                amount_cents=donation.amount_cents, donation_id=donation.donation_id,
                page_slug=page.slug, committee_id=donation.committee_id, customer_id=customer_id,
                description=f"Monthly contribution to {page.title}", idempotency_key=key,
                cancel_at=ends_at)
            self.store.save_plan(RecurringPlan(
                subscription_id=intent.subscription_id or "", first_donation_id=donation.donation_id,
                donor_id=donation.donor_id, donor=donation.donor, page_slug=page.slug,
                committee_id=donation.committee_id, election=donation.election,
                amount_cents=donation.amount_cents, customer_id=customer_id, status="active",
                created_at=self.clock(), ends_on=ends_on))
        else:
            intent = self.payments.create_payment_intent(
                amount_cents=donation.amount_cents, donation_id=donation.donation_id,
                page_slug=page.slug, committee_id=donation.committee_id,
                receipt_email=donation.donor.email, description=description,
                idempotency_key=key, customer_id=customer_id)
        self.store.attach_payment_intent(donation.donation_id, intent.id, intent.subscription_id,
                                         customer_id)
        donation.payment_intent_id = intent.id
        donation.subscription_id, donation.customer_id = intent.subscription_id, customer_id
        return intent

    def apply_event(self, event: PaymentEvent) -> EventOutcome:
        """Apply a verified Stripe event once: marker and effects commit together."""
        if event.type == "invoice.payment_failed" and not event.first_invoice:
            return self._renewal_failed(event)
        if event.type == "customer.subscription.updated":
            return self._plan_updated(event)
        donation, duplicate = self.store.load_for_event(event)
        card: float | None = None
        for _ in range(MAX_EVENT_ATTEMPTS):
            if duplicate:
                return EventOutcome.DUPLICATE
            if event.type == "customer.subscription.deleted":
                from chalicelib.giving.recurring import ENDED, plan_ended_notice

                subscription_id = event.subscription_id or ""
                return self.store.end_plan(subscription_id, event.occurred_at,
                                           plan_ended_notice(subscription_id, ENDED, self.clock()))
            if event.type == "invoice_payment.paid":
                return self._link_invoice_payment(event)
            if donation is None and event.type == "invoice.paid" and not event.first_invoice:
                donation = self._renewal(event)
            if donation is None:
                return EventOutcome.UNMATCHED
            if awaits_its_payment(event, donation):
                raise StaleRead("the donation's payment is not recorded yet")
            mismatch = not_its_payment(event, donation)
            if mismatch is not None:  # ids and the reason only: no donor data in logs
                logs.warning("event does not match its donation's payment", event_id=event.event_id,
                             type=event.type, donation_id=donation.donation_id, mismatch=mismatch)
                return EventOutcome.UNMATCHED
            new_state = merge(donation.state, event.fact)
            delta = totals_delta(donation.state, new_state)
            now = self.clock()
            if event.period_end is not None and new_state.paid and not donation.state.paid:
                zone = self.committees.get(donation.committee_id).zone
                donation = replace(donation, next_charge_on=local_date(event.period_end, zone))
            messages = [m for plan in self.planners for m in plan(donation, new_state, now)]
            aggregate = self._aggregate_change(donation, new_state, delta)
            counters = self._counters(event, donation, new_state, delta)
            decline = None
            if event.type == DECLINE_EVENT:
                if card is None:  # read once, not again on a retry
                    card = self._card_declines(event)
                decline = self._decline(donation, new_state, card)
                if decline.reason and donation.payment_intent_id:
                    messages.append(cancel_message(donation.donation_id, donation.payment_intent_id,
                                                   donation.amount_cents, now))
            try:
                try:
                    outcome = self.store.commit_event(event, donation, new_state, delta, aggregate,
                                                      now, messages, decline=decline,
                                                      counters=counters)
                except SuccessOverLimit:
                    outcome = self._commit_with_excess_refund(event, donation, new_state, delta,
                                                              aggregate, now, messages, counters)
            except StaleRead:
                donation, duplicate = self.store.get(donation.donation_id), False
                continue
            if outcome is EventOutcome.APPLIED and delta.contributions > 0:
                metrics.contribution(donation.page_slug, delta.cents)  # committed: count it
            if outcome is EventOutcome.APPLIED and decline is not None and decline.reason:
                logs.warning("card testing: the donation ends and its payment is cancelled",
                             donation_id=donation.donation_id, declines=decline.count)
            return outcome
        raise StaleRead(f"event {event.event_id} kept conflicting")

    @property
    def _limits(self) -> VelocityLimits:
        return self.velocity.limits if self.velocity else VelocityLimits()

    def _card_declines(self, event: PaymentEvent) -> float:
        """The declined card's declines in the window, before this one (0 if unknown)."""
        if self.velocity is None or not event.card_fingerprint:
            return 0.0
        counts = self.velocity.card_counts(event.card_fingerprint, event.occurred_at)
        return card_declines(counts, event.card_fingerprint, event.occurred_at, self._limits)

    def _decline(self, donation: Donation, new: PaymentState, card: float) -> Decline:
        """One more decline on the donation; past the per-donation or per-card limit it ends the
        donation as card testing (once: a donation already ended, or paid, is not ended again)."""
        count = donation.declines + 1
        ends = (donation.failure_reason is None and not new.paid
                and is_card_testing(count, card + 1, self._limits))
        return Decline(count, CARD_TESTING if ends else None)

    def _renewal(self, event: PaymentEvent) -> Donation | None:
        """The contribution of a monthly gift's later invoice, made from its plan."""
        plan = self.store.plan(event.subscription_id or "")
        if plan is None or event.invoice_id is None:
            return None
        committee = self.committees.get(plan.committee_id)
        election = committee.renewal_designation(event.occurred_at, plan.election)
        return Donation(
            donation_id=invoice_donation_id(event.invoice_id), page_slug=plan.page_slug,
            committee_id=plan.committee_id, election=election, donor=plan.donor,
            donor_id=plan.donor_id, created_at=event.occurred_at, fingerprint="renewal",
            state=PaymentState(amount_cents=event.amount_cents or plan.amount_cents),
            limit_scope=committee.limit_scope(election, event.occurred_at),
            subscription_id=plan.subscription_id, invoice_id=event.invoice_id,
            customer_id=plan.customer_id, stored=False,
            best_efforts_flag=needs_best_efforts(plan.donor),
        )

    def _plan_updated(self, event: PaymentEvent) -> EventOutcome:
        """Keep a plan in step with its subscription (a change made from the portal, or in
        Stripe's dashboard): the amount, a pause, the end day (`cancel_at` as the committee's
        local day). No marker: the write is conditional on being newer than the last one
        applied, so a redelivery or an older event changes nothing."""
        facts, subscription_id = event.subscription, event.subscription_id
        plan = self.store.plan(subscription_id or "") if subscription_id else None
        if facts is None or plan is None:
            return EventOutcome.UNMATCHED
        if facts.status in ("canceled", "incomplete_expired"):
            return EventOutcome.IGNORED  # customer.subscription.deleted ends the plan
        running = facts.status in ("active", "trialing", "past_due")
        status = ("paused" if facts.paused else "active") if running else None
        zone = self.committees.get(plan.committee_id).zone
        ends_on = local_date(facts.cancel_at, zone) if facts.cancel_at else None
        return self.store.sync_plan(plan.subscription_id, facts.amount_cents, status, ends_on,
                                    facts.cancel_at is None, event.occurred_at)

    def _renewal_failed(self, event: PaymentEvent) -> EventOutcome:
        """A renewal's payment failed: nothing changes on our side (Stripe retries it, and
        ends the plan after the last try), but the donor is told, once per invoice: the notice's
        id is the invoice's, so a redelivery or Stripe's next retry writes nothing (one
        TransactWriteItems: the plan still active, the notice new). Not a plan of ours (or one
        already ended): unmatched."""
        from chalicelib.giving.recurring import renewal_failed_notice

        if not event.subscription_id or not event.invoice_id:
            return EventOutcome.IGNORED
        now = self.clock()
        return self.store.queue_plan_notice(
            event.subscription_id,
            renewal_failed_notice(event.subscription_id, event.invoice_id, event.amount_cents, now), now)

    def _link_invoice_payment(self, event: PaymentEvent) -> EventOutcome:
        """Record which PaymentIntent paid a renewal, so its refunds and disputes find it."""
        if not event.invoice_id or not event.payment_intent_id:
            return EventOutcome.IGNORED
        if self.store.link_invoice_payment(invoice_donation_id(event.invoice_id),
                                           event.payment_intent_id):
            return EventOutcome.APPLIED
        # The first invoice's intent is linked at intake; a renewal's contribution may not be
        # written yet (its invoice.paid can come after this event): let Stripe deliver again.
        raise StaleRead("the invoice's contribution is not recorded yet")

    def _aggregate_change(self, donation: Donation, new: PaymentState,
                          delta: TotalsDelta) -> AggregateChange:
        old = donation.state
        settled = lambda s: s.paid or s.failed  # noqa: E731 - the outcome is known
        release = donation.reserved_cents if settled(new) and not settled(old) else 0
        limit = None
        if new.paid and not old.paid:
            limit = self.committees.get(donation.committee_id).limit_cents
        moved = redesignated_share(donation, new) - redesignated_share(donation, old)
        theirs = reattributed_share(donation, new) - reattributed_share(donation, old)
        return AggregateChange(
            scope=donation.limit_scope or f"{donation.committee_id}#{donation.election}",
            net_cents=delta.cents - moved - theirs, contributions=delta.contributions,
            reserved_cents=-release, net_limit_cents=limit,
            reservation_holder=donation.reserved_by if release else None,
            debt_key=debt_key(donation),
            moved_scope=donation.redesignated_scope if moved else None, moved_cents=moved,
            other_donor_id=donation.reattributed_donor_id if theirs else None, other_cents=theirs,
        )

    def _counters(self, event: PaymentEvent, donation: Donation, new: PaymentState,
                  delta: TotalsDelta) -> CommitCounters:
        """A change of the page's totals is its variant's conversion too; a declined payment
        counts against its IP, email and card for card testing; a donation leaving `pending`
        is one fewer pending from its address (PENDING_PER_IP)."""
        declines: tuple[str, ...] = ()
        if event.type == DECLINE_EVENT and self.velocity is not None:
            declines = tuple(decline_keys(donation.client_ip, donation.donor.email, event.card_fingerprint,
                                          window(event.occurred_at, self.velocity.limits)))
        settled = donation.state.status == "pending" and new.status != "pending"
        pending = (pending_key(donation.client_ip, donation.created_at)
                   if settled and donation.client_ip and self.velocity is not None else None)
        return CommitCounters(None if delta.is_zero else donation.variant_id, declines, pending)

    def _commit_with_excess_refund(self, event: PaymentEvent, donation: Donation,
                                   new_state: PaymentState, delta: TotalsDelta,
                                   aggregate: AggregateChange, now: datetime,
                                   messages: list[OutboxMessage],
                                   counters: CommitCounters) -> EventOutcome:
        """The success stands (the money moved), and the part over the limit is remedied
        (`compliance.remedies.excess_remedy`): presumed to be for the next election as far as
        it fits there (the donor told the same day), the rest refunded. The donor's giving in
        both elections is read in one request and the commit requires it still to fit."""
        limit = aggregate.net_limit_cents or 0
        committee = self.committees.get(donation.committee_id)
        target = redesignation_target(committee, donation)
        target_scope = committee.limit_scope(target.code, now) if target else None
        nets = self.store.aggregate_nets(donation.donor_id,
                                         [aggregate.scope, *([target_scope] if target_scope else [])])
        net_before = nets.get(aggregate.scope, 0)
        cents = excess_cents(limit, net_before + aggregate.net_cents, donation.amount_cents)
        guarded = replace(aggregate, net_limit_cents=None, expected_net_cents=net_before)
        # Moved back under the limit since the first attempt, or refunded whole (its election is
        # forgone, compliance/withdrawal.py): nothing to remedy.
        if cents <= 0 or forgone_refund_planned(messages):
            return self.store.commit_event(event, donation, new_state, delta, guarded, now, messages,
                                           counters=counters)
        remedy = excess_remedy(committee, donation, cents,
                               nets.get(target_scope, 0) if target_scope else 0, now)
        planned = list(messages)
        if remedy.redesignate_cents:
            guarded = replace(guarded, net_cents=guarded.net_cents - remedy.redesignate_cents,
                              moved_scope=remedy.to_scope, moved_cents=remedy.redesignate_cents,
                              moved_ceiling=remedy.to_ceiling)
            planned.append(redesignation_notice(donation, remedy, now))
        elif remedy.hold_cents:
            planned.append(excess_notice(donation, remedy, now))
        if remedy.refund_cents:
            planned.append(OutboxMessage(
                f"refund_excess#{donation.donation_id}", "refund_excess", now,
                {"donation_id": donation.donation_id, "payment_intent_id": donation.payment_intent_id,
                 "amount_cents": remedy.refund_cents, "reason": "over_limit"}))
        excess = ExcessRefund(remedy.refund_cents, f"over_limit: aggregate would be "
                                                   f"{net_before + aggregate.net_cents} > {limit} cents",
                              remedy)
        return self.store.commit_event(event, donation, new_state, delta, guarded, now,
                                       planned, excess, counters=counters)

    def plan_offline(self, entry: OfflineContribution) -> OfflinePlan:
        """What an entry would record, read but not written: the donation (designated, its
        person resolved), or the one its idempotency key already recorded. Refuses what the
        entry alone breaks (anonymous, no election, a reused key); the limits are the
        commit's (and an import's check, giving/offline_import.py)."""
        if entry.donor is None:
            check_anonymous(entry.method, entry.amount_cents)
        committee = self.committees.get(entry.committee_id)
        when = received_at(entry.received_on, committee.zone)
        donation_id = _donation_id(f"offline:{entry.committee_id}", entry.idempotency_key)
        fingerprint = entry.fingerprint()
        existing = self.store.get(donation_id)
        if existing is not None:
            return OfflinePlan(committee, existing, self._same_entry(existing, fingerprint))
        election = committee.designate(when, entry.election, entry.election or "",
                                       _all_codes(committee), entry.amount_cents)
        if not election:  # a committee without a calendar: finance names the election
            raise InvalidInput("invalid_request", "Name the election this contribution is for.",
                               fields={"election": "required: the committee has no calendar"})
        snapshot = entry.donor_snapshot()
        donation = Donation(
            donation_id=donation_id, page_slug=OFFLINE_PAGE, committee_id=committee.committee_id,
            election=election, donor=snapshot, donor_id=self.store.resolve_donor(snapshot),
            created_at=when, fingerprint=fingerprint,
            state=PaymentState(amount_cents=entry.amount_cents),
            idempotency_key=entry.idempotency_key,
            attestations=entry.attestations.model_dump() if entry.attestations else {},
            limit_scope=committee.limit_scope(election, when),
            best_efforts_flag=needs_best_efforts(snapshot), stored=False,
            channel=entry.method, reference=entry.reference, deposit_batch=entry.deposit_batch,
            in_kind_description=entry.in_kind_description,
            conduit=entry.conduit.conduit() if entry.conduit else None,
        )
        return OfflinePlan(committee, donation)

    def record_offline(self, entry: OfflineContribution) -> Donation:
        """A check, cash, a wire, an in-kind or an earmarked gift finance received: intake and
        success at once, in one transaction (the `commit_event` of a renewal's contribution),
        with no call to Stripe. The same designation, limit, aggregates and ledger movement as
        an online gift; cash also counts on the person's cash for the election, within its
        limit. The same idempotency key answers the first donation and writes nothing; reused
        with other details it is a 409."""
        planned = self.plan_offline(entry)
        if planned.existing is not None:
            return planned.existing
        donation, committee = planned.donation, planned.committee
        election, scope, when = donation.election, donation.limit_scope, donation.created_at
        donation_id, fingerprint = donation.donation_id, donation.fingerprint
        debt_limit = committee.debt_limit(election, when)
        donation.toward_debt = debt_limit is not None
        event = PaymentEvent(f"offline#{donation_id}", f"offline.{entry.method}", Fact("paid"),
                             donation_id, None, when, amount_cents=entry.amount_cents)
        new_state = merge(donation.state, event.fact)
        delta = totals_delta(donation.state, new_state)
        aggregate = replace(self._aggregate_change(donation, new_state, delta),
                            net_limit_cents=committee.limit_cents)
        cash = (AggregateChange(cash_scope(scope, election), entry.amount_cents, 1, 0,
                                net_limit_cents=CASH_LIMIT_CENTS)
                if entry.method == "cash" else None)
        now = self.clock()
        messages = [m for plan in self.planners for m in plan(donation, new_state, now)]
        try:
            outcome = self.store.commit_event(event, donation, new_state, delta, aggregate, now,
                                              messages, cash=cash)
        except SuccessOverLimit:
            raise OverLimit() from None
        stored = self.store.get(donation_id)
        if stored is None:
            raise StaleRead("the offline contribution was not recorded")
        if outcome is EventOutcome.DUPLICATE:  # a concurrent entry with the same key
            return self._same_entry(stored, fingerprint)
        metrics.contribution(OFFLINE_PAGE, delta.cents)
        return stored

    @staticmethod
    def _same_entry(existing: Donation, fingerprint: str) -> Donation:
        if existing.fingerprint != fingerprint:
            raise Conflict("idempotency_key_reused",
                           "This idempotency_key was used for a different contribution.",
                           fields={"idempotency_key": "already used with other details"})
        return existing

    def donation(self, donation_id: str) -> Donation:
        found = self.store.get(donation_id)
        if found is None:
            raise NotFound("donation_not_found", f"No donation '{donation_id}'.")
        return found

    # --- finance's lookup -----------------------------------------------------------------
    def lookup(self, query: str, limit: int = 25, after: str | None = None) -> Lookup:
        """Donations by id, by the donor's email (their donor id, then the by-donor index) or
        donors by name (the name index). Finance and admin only: the results carry PII."""
        text = query.strip()
        finder = self.store  # a DonationStore that also answers the lookup
        if DONATION_ID.fullmatch(text):
            found = self.store.get(text)
            return Lookup("id", text, donations=[found] if found else [])
        if "@" in text:
            donations: list[Donation] = []
            next_after = None
            for donor_id in finder.donor_ids_for_email(donor_id_for(text))[:1]:
                page = finder.donations_page(donor_id, limit, after)
                donations, next_after = page.items, page.after
            return Lookup("email", text, donations=donations, after=next_after)
        if len(text) < 2:
            raise InvalidInput("invalid_request", "Search by a donation id, an email or a name.",
                               fields={"q": "a donation id, an email or a name"})
        donors: dict[str, DonorSnapshot] = {}
        for last, first in name_splits(text):
            for donor_id, snapshot in finder.donors_named(last, first, limit):
                donors.setdefault(donor_id, snapshot)
        return Lookup("name", text, donors=list(donors.items())[:limit])

    def donor_donations(self, donor_id: str, limit: int = 25, after: str | None = None) -> Slice[Donation]:
        return self.store.donations_page(donor_id, limit, after)

    def movements(self, donation_id: str) -> list[RecordedMovement]:
        """A donation's movements in time order: gross, and fee, net and payout once paid out."""
        return sorted(self.store.movements_of_donation(donation_id),
                      key=lambda m: (m.occurred_at, m.movement_id))


def redesignated_share(donation: Donation, state: PaymentState) -> int:
    """How much of a gift with a standing presumptive redesignation counts toward the other
    election in `state`: money that leaves the gift (a refund, a chargeback) comes off its own
    election first (the excess refund is part of that), the redesignated part last."""
    if donation.redesignation_status != "presumed" or not donation.redesignated_cents:
        return 0
    kept = totals_delta(PaymentState(state.amount_cents), state).cents
    return max(min(donation.redesignated_cents, kept), 0)


def reattributed_share(donation: Donation, state: PaymentState) -> int:
    """How much of a gift with a confirmed reattribution counts as the other person's in
    `state`: money that leaves the gift comes off the donor's own part first, then the other
    person's, a presumed redesignation's part last (`redesignated_share`)."""
    if donation.reattribution_status != "confirmed" or not donation.reattribution_cents:
        return 0
    kept = totals_delta(PaymentState(state.amount_cents), state).cents
    return max(min(donation.reattribution_cents, kept - redesignated_share(donation, state)), 0)


def debt_key(donation: Donation) -> tuple[str, str] | None:
    """The debt counter of the held election a gift is designated for (None: not toward debt).
    Only gifts after an election write it, so it is no hot key."""
    return (f"debt#{donation.committee_id}", donation.election) if donation.toward_debt else None


# The page every contribution received off the pages counts on (its own thermometer, so no
# campaign page's total moves with a check).
OFFLINE_PAGE = "offline"


def _all_codes(committee: Committee) -> list[str]:
    """Finance may designate any election of the committee's calendar (designate still
    refuses one not open, and one held beyond its debts)."""
    return [e.code for e in committee.elections]


def _donation_id(slug: str, idempotency_key: str | None) -> str:
    """Deterministic for a given page and idempotency key, so a double-click finds the first."""
    if idempotency_key:
        return "don_" + uuid.uuid5(uuid.NAMESPACE_URL, f"groundswell:{slug}:{idempotency_key}").hex
    return "don_" + uuid.uuid4().hex
