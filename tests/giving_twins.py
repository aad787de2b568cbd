"""In-memory twins of the giving service's store, pages, committees and payment provider, for
unit tests of the domain rules (moto-backed tests are the integration layer).

`MemoryDonations` keeps the same promises as `storage.donations.DonationRepository`: intake
writes the donation, its reservation, an express gift's link use and charge count all or
nothing, under the same conditions; an event's marker and effects commit together.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from chalicelib.compliance.committees import Committee, CommitteeDefaults, OverNetDebt, default_committee
from chalicelib.compliance.limits import OverLimit
from chalicelib.compliance.offline import CashOverLimit
from chalicelib.errors import ProviderBusy, ProviderUnavailable
from chalicelib.giving.events import PaymentEvent
from chalicelib.giving.ledger import PaymentState, TotalsDelta
from chalicelib.giving.model import Donation, DonorSnapshot, ExpressDonor, RecurringPlan, identity_keys
from chalicelib.giving.reconcile import IntentStatus
from chalicelib.giving.service import (
    AggregateChange,
    Decline,
    EventOutcome,
    ExcessRefund,
    ExpressUse,
    IntakeRead,
    PaymentIntentRef,
    Reservation,
    SavedCard,
    StaleRead,
    SuccessOverLimit,
)
from chalicelib.giving.velocity import CounterAdd, RateLimited, VelocityLimits, card_keys
from chalicelib.outbox.model import OutboxMessage
from chalicelib.pages.model import Page, PageTotals
from chalicelib.sessions.model import Session
from chalicelib.tokens import LinkUsed

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment: datetime = T0) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Aggregate:
    net_cents: int = 0
    contributions: int = 0
    reserved_cents: int = 0

    @property
    def exposure_cents(self) -> int:
        return self.net_cents + self.reserved_cents


@dataclass
class DonorRecord:
    snapshot: DonorSnapshot
    customer_id: str | None = None
    charges: tuple[datetime, ...] = ()
    charges_version: int = 0
    revoked_at: datetime | None = None


@dataclass
class MemoryDonations:
    """The donations store: donations, donors, identities, aggregates, used links, markers."""

    donations: dict[str, Donation] = field(default_factory=dict)
    donors: dict[str, DonorRecord] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    # The Stripe customer recorded on an email's identity (its first paid gift that made one).
    identity_customers: dict[str, str] = field(default_factory=dict)
    aggregates: dict[tuple[str, str], Aggregate] = field(default_factory=dict)
    used_links: dict[str, datetime] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)
    outbox: list[OutboxMessage] = field(default_factory=list)
    plans: dict[str, RecurringPlan] = field(default_factory=dict)
    # The counters each applied event moved (variant conversions, decline counters), by event id.
    counters: dict[str, Any] = field(default_factory=dict)
    # Set to a callable to change something between a read and the commit (a race).
    before_commit: Any = None
    # The velocity counters a decline increments in the same commit (MemoryVelocity), if any.
    velocity: Any = None
    # When the reconciler last checked each pending donation.
    checked: dict[str, datetime] = field(default_factory=dict)

    def aggregate(self, donor_id: str, scope: str) -> Aggregate:
        return self.aggregates.get((donor_id, scope), Aggregate())

    # --- intake -----------------------------------------------------------------------
    def read_intake(self, snapshot: DonorSnapshot, counter_keys: Any) -> IntakeRead:
        hits = self.velocity.hits if self.velocity is not None else {}
        return IntakeRead(self.resolve_donor(snapshot),
                          {k: hits[k] for k in counter_keys if k in hits},
                          self.identity_customers.get(identity_keys(snapshot)[0]))

    def create_pending(self, donation: Donation, reservation: Reservation,
                       express: ExpressUse | None = None,
                       counters: tuple[CounterAdd, ...] = ()) -> Donation | None:
        if self.before_commit:
            hook, self.before_commit = self.before_commit, None
            hook()
        if donation.donation_id in self.donations:
            return copy.deepcopy(self.donations[donation.donation_id])
        if express is not None and express.use_key in self.used_links:
            raise LinkUsed()
        hits = self.velocity.hits if self.velocity is not None else {}
        refused = [c.retry_after for c in counters if hits.get(c.key, 0) > c.at_most]
        if refused:
            raise RateLimited(max(refused))
        r = reservation
        if not r.exposure_ceiling.allows(self.aggregate(r.holder, r.scope).exposure_cents):
            raise OverLimit()
        if r.debt_key is not None and not r.debt_ceiling.allows(self.aggregate(*r.debt_key).exposure_cents):
            raise OverNetDebt(r.debt_key[1])
        if r.linked and not r.person_unchanged.allows(self.aggregate(r.person, r.scope).net_cents):
            raise StaleRead("the person's giving changed")
        if express is not None:
            donor = self.donors.get(express.donor_id)
            if donor is None or donor.charges_version != express.charges_version:
                raise StaleRead("the donor's express charges changed")
            donor.charges, donor.charges_version = express.charges, express.charges_version + 1
            self.used_links[express.use_key] = express.use_expires_at
        held = self.aggregates.setdefault((r.holder, r.scope), Aggregate())
        held.reserved_cents += r.cents
        if r.debt_key is not None:
            self.aggregates.setdefault(r.debt_key, Aggregate()).reserved_cents += r.cents
        for c in counters:
            hits[c.key] = hits.get(c.key, 0) + 1
        self.donations[donation.donation_id] = copy.deepcopy(donation)
        return None

    def withdraw_pending(self, donation: Donation, express: ExpressUse | None = None,
                         counters: Any = ()) -> None:
        stored = self.donations.get(donation.donation_id)
        if stored is None or stored.payment_intent_id or stored.state.status != "pending":
            return
        del self.donations[donation.donation_id]
        hits = self.velocity.hits if self.velocity is not None else {}
        for key in counters:
            if key in hits:
                hits[key] -= 1
                if hits[key] == 0:
                    del hits[key]
        key = (donation.reserved_by or donation.donor_id, donation.limit_scope)
        held = self.aggregates[key]
        held.reserved_cents -= donation.reserved_cents
        if held == Aggregate():
            del self.aggregates[key]
        if express is not None:
            self.used_links.pop(express.use_key, None)
            donor = self.donors.get(express.donor_id)
            if donor is not None and donor.charges_version == express.charges_version + 1:
                donor.charges, donor.charges_version = express.charges[:-1], donor.charges_version + 1

    def resolve_donor(self, snapshot: DonorSnapshot) -> str:
        email_key, name_key = identity_keys(snapshot)
        return self.identities.get(email_key) or self.identities.get(name_key) or snapshot.donor_id

    def attach_payment_intent(self, donation_id: str, payment_intent_id: str,
                              subscription_id: str | None = None,
                              customer_id: str | None = None) -> None:
        d = self.donations[donation_id]
        d.payment_intent_id = payment_intent_id
        d.subscription_id = subscription_id or d.subscription_id
        d.customer_id = customer_id or d.customer_id

    def get(self, donation_id: str) -> Donation | None:
        found = self.donations.get(donation_id)
        return copy.deepcopy(found) if found else None

    def aggregate_net(self, donor_id: str, scope: str) -> int:
        return self.aggregate(donor_id, scope).net_cents

    def aggregate_nets(self, donor_id: str, scopes: Any) -> dict[str, int]:
        return {s: self.aggregate(donor_id, s).net_cents for s in scopes}

    def undo_redesignation(self, undo: Any, now: datetime) -> bool:
        d = self.donations.get(undo.donation_id)
        if d is None or d.redesignation_status != "presumed" or d.version != undo.version:
            return False
        if any(m.message_id == undo.refund.message_id for m in self.outbox):
            return False
        self.aggregates.setdefault((undo.donor_id, undo.to_scope), Aggregate()).net_cents -= undo.cents
        self.aggregates.setdefault((undo.donor_id, undo.from_scope), Aggregate()).net_cents += undo.cents
        self.donations[undo.donation_id] = replace(d, redesignation_status="refunded",
                                                   excess_refund_cents=undo.excess_refund_cents,
                                                   version=d.version + 1)
        self.outbox.append(undo.refund)
        return True

    def held_due(self, until: date) -> list[Donation]:
        return [copy.deepcopy(d) for d in self.donations.values()
                if d.excess_held_cents and d.excess_held_until and d.excess_held_until <= until]

    def refund_held(self, refund: Any, now: datetime) -> bool:
        d = self.donations.get(refund.donation_id)
        if d is None or not d.excess_held_cents or d.version != refund.version:
            return False
        if refund.refund is not None and any(m.message_id == refund.refund.message_id for m in self.outbox):
            return False
        self.donations[refund.donation_id] = replace(
            d, excess_held_cents=0, excess_refund_cents=refund.excess_refund_cents, version=d.version + 1)
        if refund.refund is not None:
            self.outbox.append(refund.refund)
        return True

    def request_reattribution(self, request: Any, now: datetime) -> bool:
        d = self.donations.get(request.donation_id)
        if d is None or not d.excess_held_cents or d.reattribution_status or d.version != request.version:
            return False
        h = request.holder
        self.donations[request.donation_id] = replace(
            d, reattribution_status="requested", reattribution_cents=request.cents,
            reattribution_request={"first_name": h.first_name, "last_name": h.last_name, "email": h.email},
            version=d.version + 1)
        self.outbox.append(request.message)
        return True

    def confirm_reattribution(self, c: Any, now: datetime) -> bool:
        d = self.donations.get(c.donation_id)
        if d is None or d.reattribution_status != "requested" or not d.excess_held_cents \
                or d.version != c.version:
            return False
        if not c.to_ceiling.allows(self.aggregate(c.to_donor_id, c.scope).net_cents):
            raise OverLimit()
        self.aggregates.setdefault((c.donor_id, c.scope), Aggregate()).net_cents -= c.cents
        self.aggregates.setdefault((c.to_donor_id, c.scope), Aggregate()).net_cents += c.cents
        self.donations[c.donation_id] = replace(
            d, reattribution_status="confirmed", reattribution_cents=c.cents, reattributed_to=c.to,
            reattributed_donor_id=c.to_donor_id, reattributed_on=c.on,
            reattribution_attestations=dict(c.attestations), excess_held_cents=c.held_left_cents,
            version=d.version + 1)
        return True

    # --- events -----------------------------------------------------------------------
    def load_for_event(self, event: PaymentEvent) -> tuple[Donation | None, bool]:
        if event.event_id in self.markers:
            return None, True
        if event.donation_id:
            return self.get(event.donation_id), False
        found = [d for d in self.donations.values() if d.payment_intent_id == event.payment_intent_id]
        return (copy.deepcopy(found[0]) if found else None), False

    def commit_event(self, event: PaymentEvent, donation: Donation, new_state: PaymentState,
                     delta: TotalsDelta, aggregate: AggregateChange, now: datetime,
                     messages: Any = (), excess: ExcessRefund | None = None,
                     decline: Decline | None = None, counters: Any = None,
                     cash: AggregateChange | None = None) -> EventOutcome:
        if event.event_id in self.markers:
            return EventOutcome.DUPLICATE
        if cash is not None and cash.net_ceiling is not None and not cash.net_ceiling.allows(
                self.aggregate(donation.donor_id, cash.scope).net_cents):
            raise CashOverLimit()
        stored = self.donations.get(donation.donation_id)
        if stored is not None and stored.version != donation.version:
            raise StaleRead("donation changed")
        person = self.aggregate(donation.donor_id, aggregate.scope)
        limit = aggregate.net_ceiling
        if limit is not None and not limit.allows(person.net_cents):
            raise SuccessOverLimit()
        if aggregate.expected_net_cents is not None and person.net_cents != aggregate.expected_net_cents:
            raise StaleRead("aggregate changed")
        there = self.aggregate(donation.donor_id, aggregate.moved_scope or "")
        if aggregate.moved_ceiling is not None and not aggregate.moved_ceiling.allows(there.net_cents):
            raise StaleRead("the redesignation's election changed")
        remedy = excess.remedy if excess is not None else None
        moved = remedy.redesignate_cents if remedy is not None and remedy.to_scope else 0
        self.markers.add(event.event_id)
        if aggregate.moved_scope and aggregate.moved_cents:
            self.aggregates.setdefault((donation.donor_id, aggregate.moved_scope),
                                       Aggregate()).net_cents += aggregate.moved_cents
        self.donations[donation.donation_id] = replace(
            donation, state=new_state, version=donation.version + 1,
            redesignated_cents=moved or donation.redesignated_cents,
            redesignated_to=(remedy.to_election if moved and remedy else donation.redesignated_to),
            redesignated_scope=(remedy.to_scope if moved and remedy else donation.redesignated_scope),
            redesignated_on=(remedy.on if moved and remedy else donation.redesignated_on),
            redesignation_status="presumed" if moved else donation.redesignation_status,
            excess_refund_cents=excess.cents if excess else donation.excess_refund_cents,
            excess_held_cents=(remedy.hold_cents if remedy and remedy.hold_cents
                               else donation.excess_held_cents),
            excess_held_until=(remedy.hold_until if remedy and remedy.hold_cents
                               else donation.excess_held_until),
            declines=decline.count if decline else donation.declines,
            failure_reason=(decline.reason if decline and decline.reason else donation.failure_reason))
        if counters is not None and self.velocity is not None:  # as the service decided them
            self.velocity.move(counters.decline_keys, counters.pending_key)
        if new_state.paid and not donation.state.paid:
            record = self.donors.setdefault(donation.donor_id, DonorRecord(donation.donor))
            record.snapshot = donation.donor
            if donation.customer_id and not donation.recurring:
                record.customer_id = donation.customer_id
            for key in identity_keys(donation.donor):
                self.identities.setdefault(key, donation.donor_id)
            if donation.customer_id:
                self.identity_customers.setdefault(identity_keys(donation.donor)[0], donation.customer_id)
        if aggregate.other_donor_id and aggregate.other_cents:
            self.aggregates.setdefault((aggregate.other_donor_id, aggregate.scope),
                                       Aggregate()).net_cents += aggregate.other_cents
        net = self.aggregates.setdefault((donation.donor_id, aggregate.scope), Aggregate())
        net.net_cents += aggregate.net_cents
        net.contributions += aggregate.contributions
        holder = aggregate.reservation_holder or donation.donor_id
        self.aggregates.setdefault((holder, aggregate.scope), Aggregate()).reserved_cents += \
            aggregate.reserved_cents
        if aggregate.debt_key is not None:
            debt = self.aggregates.setdefault(aggregate.debt_key, Aggregate())
            debt.net_cents += aggregate.net_cents
            debt.contributions += aggregate.contributions
            debt.reserved_cents += aggregate.reserved_cents
        if cash is not None:
            self.aggregates.setdefault((donation.donor_id, cash.scope), Aggregate()).net_cents += \
                cash.net_cents
        self.outbox.extend(messages)
        if counters is not None:
            self.counters[event.event_id] = counters
        return EventOutcome.APPLIED

    def plan(self, subscription_id: str) -> RecurringPlan | None:
        return self.plans.get(subscription_id)

    def save_plan(self, plan: RecurringPlan) -> None:
        self.plans[plan.subscription_id] = plan

    def end_plan(self, subscription_id: str, when: datetime,
                 notice: OutboxMessage | None = None) -> EventOutcome:
        plan = self.plans.get(subscription_id)
        if plan is None:
            return EventOutcome.UNMATCHED
        if plan.status != "canceled":
            self.plans[subscription_id] = replace(plan, status="canceled")
            self.outbox.extend([notice] if notice else [])
        return EventOutcome.APPLIED

    def queue_plan_notice(self, subscription_id: str, message: OutboxMessage,
                          now: datetime) -> EventOutcome:
        plan = self.plans.get(subscription_id)
        if plan is None or plan.status == "canceled":
            return EventOutcome.UNMATCHED
        if any(m.message_id == message.message_id for m in self.outbox):
            return EventOutcome.DUPLICATE
        self.outbox.append(message)
        return EventOutcome.APPLIED

    def link_invoice_payment(self, donation_id: str, payment_intent_id: str) -> bool:
        """Set a renewal's PaymentIntent, as the repository does."""
        if donation_id in self.donations:
            self.donations[donation_id] = replace(self.donations[donation_id],
                                                  payment_intent_id=payment_intent_id)
            return True
        return False

    def change_plan(self, plan: RecurringPlan, expected_version: int, notice: OutboxMessage,
                    now: datetime) -> bool:
        held = self.plans.get(plan.subscription_id)
        if held is None or held.status == "canceled" or held.version != expected_version \
                or any(m.message_id == notice.message_id for m in self.outbox):
            return False
        self.plans[plan.subscription_id] = plan
        self.outbox.append(notice)
        return True

    def sync_plan(self, subscription_id: str, amount_cents: int | None, status: str | None,
                  ends_on: date | None, clear_end: bool, at: datetime) -> EventOutcome:
        plan = self.plans.get(subscription_id)
        if plan is None:
            return EventOutcome.UNMATCHED
        synced = self.counters.get(f"synced#{subscription_id}")
        if plan.status == "canceled" or (synced is not None and synced > at):
            return EventOutcome.DUPLICATE
        self.counters[f"synced#{subscription_id}"] = at
        self.plans[subscription_id] = replace(
            plan, amount_cents=plan.amount_cents if amount_cents is None else amount_cents,
            status=status or plan.status, ends_on=ends_on if ends_on or not clear_end else None)
        return EventOutcome.APPLIED

    def plans_ending(self, first: date, last: date) -> list[RecurringPlan]:
        return [p for p in self.plans.values()
                if p.ends_on is not None and p.status != "canceled" and first <= p.ends_on <= last]

    def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        if all(m.message_id != message.message_id for m in self.outbox):
            self.outbox.append(message)

    # --- the reconciler ---------------------------------------------------------------
    def stale_pending(self, checked_before: datetime, limit: int) -> list[Donation]:
        """Pending donations last checked (or created) before `checked_before`, the one checked
        longest ago first (the twin has no shards)."""
        def checked(d: Donation) -> datetime:
            return self.checked.get(d.donation_id, d.created_at)

        found = [d for d in self.donations.values()
                 if d.status == "pending" and checked(d) <= checked_before]
        return copy.deepcopy(sorted(found, key=checked)[:limit])

    def mark_checked(self, donation_id: str, when: datetime) -> None:
        if donation_id in self.donations and self.donations[donation_id].status == "pending":
            self.checked[donation_id] = when

    # --- express ----------------------------------------------------------------------
    def express_donor(self, donor_id: str) -> ExpressDonor | None:
        d = self.donors.get(donor_id)
        if d is None:
            return None
        return ExpressDonor(donor_id, d.snapshot, d.customer_id, d.charges, d.charges_version,
                            d.revoked_at)

    def link_used(self, use_key: str) -> bool:
        return use_key in self.used_links

    def revoke_express(self, donor_id: str, when: datetime) -> bool:
        if donor_id not in self.donors:
            return False
        self.donors[donor_id].revoked_at = when
        return True

    # --- review of signals ------------------------------------------------------------
    card_holders: dict[str, tuple[str, str]] = field(default_factory=dict)

    def donation_for_payment_intent(self, payment_intent_id: str) -> Donation | None:
        found = [d for d in self.donations.values() if d.payment_intent_id == payment_intent_id]
        return copy.deepcopy(found[0]) if found else None

    def commit_card_check(self, check: Any, donation: Donation, card: str | None, holder: str,
                          signals: list[dict[str, str]], now: datetime) -> bool:
        from chalicelib.compliance.reviews import CardShared

        if check.event_id in self.markers:
            return False
        if card is not None and self.card_holders.get(card, (holder,))[0] != holder:
            raise CardShared(self.card_holders[card][1])
        self.markers.add(check.event_id)
        if card is not None:
            self.card_holders.setdefault(card, (holder, donation.donation_id))
        stored = self.donations[donation.donation_id]
        changes: dict[str, Any] = {"card_country": check.country}
        if check.wallet:
            changes.update(card_wallet=check.wallet, version=stored.version + 1)
        if signals:
            changes.update(review_signals=[*stored.review_signals, *signals], review_status="open")
        self.donations[donation.donation_id] = replace(stored, **changes)
        return True

    def reviews_page(self, limit: int, after: str | None) -> Any:
        from chalicelib.paging import Slice

        open_ = [d for d in self.donations.values() if d.review_status == "open"]
        start = int(after or 0)
        return Slice(copy.deepcopy(open_[start:start + limit]),
                     str(start + limit) if start + limit < len(open_) else None)

    def decide_review(self, donation: Donation, status: str, by: str, now: datetime,
                      refund: OutboxMessage | None) -> bool:
        stored = self.donations[donation.donation_id]
        if stored.review_status != "open":
            return False
        self.donations[donation.donation_id] = replace(stored, review_status=status)
        if refund is not None:
            self.outbox.append(refund)
        return True

    # --- best efforts -----------------------------------------------------------------
    def donations_of(self, donor_id: str) -> list[Donation]:
        return [copy.deepcopy(d) for d in self.donations.values() if d.donor_id == donor_id]

    def record_best_efforts_answer(self, donor_id: str, answer: Any) -> bool:
        """The answer on the donor's record and each contribution it completes, all or nothing."""
        if donor_id not in self.donors or any(
                self.donations.get(i) is None or self.donations[i].donor_id != donor_id
                for i in answer.answered_on):
            return False
        record = self.donors[donor_id]
        record.snapshot = replace(record.snapshot, employer=answer.employer, occupation=answer.occupation)
        for donation_id, day in answer.answered_on.items():
            self.donations[donation_id] = replace(
                self.donations[donation_id], best_efforts_answered_on=day,
                best_efforts_employer=answer.employer, best_efforts_occupation=answer.occupation)
        return True


class MemoryVelocity:
    """The velocity counters: one count per key, as storage.velocity keeps them in DynamoDB
    (intake reads and adds to them through the donations store, as storage does)."""

    def __init__(self, limits: VelocityLimits | None = None) -> None:
        self.limits = limits or VelocityLimits()
        self.hits: dict[str, int] = {}

    def move(self, declines: Any, pending: str | None) -> None:
        """What a commit does to the counters: one more decline on each key, one fewer pending."""
        for key in declines:
            self.hits[key] = self.hits.get(key, 0) + 1
        if pending:
            self.hits[pending] = self.hits.get(pending, 0) - 1

    def card_counts(self, fingerprint: str, now: datetime) -> dict[str, int]:
        return {k: self.hits[k] for k in card_keys(fingerprint, now, self.limits) if k in self.hits}


class MemorySessions:
    """Browser sessions (any kind) and used single-use links."""

    def __init__(self) -> None:
        self.items: dict[str, Session] = {}
        self.used: set[str] = set()

    def put(self, session: Session) -> None:
        assert session.session_hash not in self.items
        self.items[session.session_hash] = session

    def get(self, key: str) -> Session | None:
        return self.items.get(key)

    def delete(self, key: str) -> None:
        self.items.pop(key, None)

    def delete_subject(self, subject: str) -> int:
        gone = [k for k, s in self.items.items() if s.subject == subject]
        for k in gone:
            del self.items[k]
        return len(gone)

    def consume_once(self, key: str, expires_at: datetime) -> bool:
        if key in self.used:
            return False
        self.used.add(key)
        return True


class MemoryPages:
    def __init__(self, *pages: Page) -> None:
        self.pages = {p.slug: p for p in pages}
        self.writes = 0
        self.history: list[Any] = []
        self.owner_keys: set[str] = set()  # the repository's one-per-donor markers
        # The thermometers (the counter shards' sums), as tests set them.
        self.thermometers: dict[str, PageTotals] = {}

    def get(self, slug: str, consistent: bool = False) -> Page | None:
        return self.pages.get(slug)

    def committee_pages(self, committee_id: str, after: str | None = None) -> Iterator[Page]:
        """The committee's pages in slug order (those after `after`), as the repository's
        `by-committee` index yields them."""
        yield from sorted((p for p in self.pages.values() if p.committee_id == committee_id
                           and (after is None or p.slug > after)), key=lambda p: p.slug)

    def create(self, page: Page, entry: Any = None) -> None:
        """The page, once per slug (409 `page_exists` as the repository's conditional put)."""
        from chalicelib.errors import Conflict

        if page.supporter is not None and page.supporter.owner_key in self.owner_keys:
            raise Conflict("supporter_page_exists", "You already have a page for this campaign.")
        if page.slug in self.pages:
            raise Conflict("page_exists", f"A page with slug '{page.slug}' exists.")
        self.pages[page.slug] = page
        if page.supporter is not None:
            self.owner_keys.add(page.supporter.owner_key)
        self.history.append(entry)

    def page(self, limit: int, after: str | None = None) -> Any:
        """Up to `limit` pages by slug, as one Scan page, and where the next begins."""
        from chalicelib.paging import Slice

        ordered = sorted(self.pages.values(), key=lambda p: p.slug)
        start, end = int(after or 0), int(after or 0) + limit
        return Slice(ordered[start:end], str(end) if end < len(ordered) else None)

    def children(self, parent_slug: str) -> Iterator[Page]:
        """The supporters' pages under `parent_slug` (the `by-parent` index), by slug."""
        yield from sorted((p for p in self.pages.values()
                           if p.supporter is not None and p.supporter.parent_slug == parent_slug),
                          key=lambda p: p.slug)

    def totals(self, slug: str) -> PageTotals:
        return self.thermometers.get(slug, PageTotals())

    def totals_of(self, slugs: Any) -> dict[str, PageTotals]:
        return {slug: self.totals(slug) for slug in slugs}

    def update(self, slug: str, expected_version: int, changes: dict[str, Any],
               updated_at: datetime, entry: Any = None) -> Page:
        """`changes` if the page is still at `expected_version` (StalePage otherwise)."""
        from chalicelib.pages.service import StalePage

        page = self.pages[slug]
        if page.version != expected_version:
            raise StalePage(slug)
        self.pages[slug] = replace(page, **changes, updated_at=updated_at, version=expected_version + 1)
        self.writes += 1
        return self.pages[slug]


class MemoryCommittees:
    def __init__(self, *committees: Committee) -> None:
        self.committees = {c.committee_id: c for c in committees}

    def get(self, committee_id: str) -> Committee:
        return self.committees.get(committee_id) or default_committee(committee_id, CommitteeDefaults())


@dataclass
class Charge:
    customer_id: str | None
    amount_cents: int
    donation_id: str
    idempotency_key: str


class MemoryPayments:
    """Stripe as the giving service sees it: intents keyed by idempotency key (a retried
    request creates nothing new), saved cards per customer, cancellations."""

    def __init__(self) -> None:
        self.intents: dict[str, tuple[PaymentIntentRef, Charge, str]] = {}  # by idempotency key
        self.cards: dict[str, SavedCard] = {}
        self.customers: dict[str, str] = {}  # idempotency key -> the customer it created
        self.cancelled: list[str] = []
        self.cancel_keys: dict[str, str] = {}  # idempotency key -> cancellation reason
        self.refunds: dict[str, tuple[str, int, str]] = {}  # idempotency key -> refund
        self.unavailable = 0  # the next this many calls fail as Stripe being out of reach
        self.busy = 0  # the next this many calls meet Stripe's rate limit (a 429)

    def _reachable(self) -> None:
        if self.busy:
            self.busy -= 1
            raise ProviderBusy(2)
        if self.unavailable:
            self.unavailable -= 1
            raise ProviderUnavailable("payment_provider_unavailable", "Stripe is out of reach.")

    def _intent(self, charge: Charge, status: str) -> PaymentIntentRef:
        if charge.idempotency_key not in self.intents:
            n = len(self.intents) + 1
            ref = PaymentIntentRef(f"pi_{n}", f"pi_{n}_secret_x")
            self.intents[charge.idempotency_key] = (ref, charge, status)
        return self.intents[charge.idempotency_key][0]

    @property
    def charges(self) -> list[Charge]:
        return [c for _, c, _ in self.intents.values()]

    def status_of(self, intent_id: str) -> str:
        return next(s for ref, _, s in self.intents.values() if ref.id == intent_id)

    def create_payment_intent(self, *, amount_cents: int, donation_id: str, idempotency_key: str,
                              customer_id: str | None = None, **_: Any) -> PaymentIntentRef:
        self._reachable()
        return self._intent(Charge(customer_id, amount_cents, donation_id, idempotency_key),
                            "requires_payment_method")

    def create_customer(self, *, donor_id: str, idempotency_key: str, **_: Any) -> str:
        """A new customer per idempotency key (a retried request gets the same one)."""
        return self.customers.setdefault(idempotency_key, f"cus_{len(self.customers) + 1}")

    def create_monthly_subscription(self, **_: Any) -> PaymentIntentRef:
        raise NotImplementedError

    def saved_card(self, customer_id: str) -> SavedCard | None:
        return self.cards.get(customer_id)

    def charge_saved_card(self, *, customer_id: str, amount_cents: int, donation_id: str,
                          idempotency_key: str, **_: Any) -> PaymentIntentRef:
        self._reachable()
        return self._intent(Charge(customer_id, amount_cents, donation_id, idempotency_key), "succeeded")

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef:
        return next(ref for ref, _, _ in self.intents.values() if ref.id == payment_intent_id)

    # the reconciler's view
    def payment_intent_status(self, payment_intent_id: str) -> IntentStatus:
        return IntentStatus(self.status_of(payment_intent_id))

    def cancel_payment_intent(self, payment_intent_id: str, idempotency_key: str,
                              reason: str = "abandoned") -> IntentStatus:
        """As Stripe: a succeeded intent cannot be cancelled (its status is answered); a key
        seen before answers as it did, cancelling nothing more."""
        if self.status_of(payment_intent_id) == "succeeded":
            return IntentStatus("succeeded")
        if idempotency_key not in self.cancel_keys:
            for key, (ref, charge, _) in self.intents.items():
                if ref.id == payment_intent_id:
                    self.intents[key] = (ref, charge, "canceled")
            self.cancelled.append(payment_intent_id)
            self.cancel_keys[idempotency_key] = reason
        return IntentStatus("canceled")

    def confirm(self, payment_intent_id: str) -> None:
        """The donor's card goes through (a test moves the intent on, as Stripe.js would)."""
        for key, (ref, charge, _) in self.intents.items():
            if ref.id == payment_intent_id:
                self.intents[key] = (ref, charge, "succeeded")

    def refund(self, *, payment_intent_id: str, amount_cents: int, reason: str,
               idempotency_key: str) -> str:
        self.refunds.setdefault(idempotency_key, (payment_intent_id, amount_cents, reason))
        return f"re_{len(self.refunds)}"


def page(slug: str = "spring", committee_id: str = "C00000001", election: str = "P2026") -> Page:
    return Page(slug=slug, title="Rivera for Congress", headline="Chip in", body="",
                ask_amounts_cents=[1000, 2700], goal_cents=1_000_000,
                deadline=T0 + timedelta(days=365), election=election, committee_id=committee_id,
                created_at=T0, updated_at=T0)


ATTESTATIONS = {"us_citizen_or_permanent_resident": True, "own_funds": True,
                "not_federal_contractor": True, "personal_card": True}


def donor_fields(email: str, first: str = "Ana", last: str = "Rivera", zip_: str = "62701") -> dict[str, Any]:
    return {"first_name": first, "last_name": last, "email": email, "phone": None,
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": zip_},
            "employer": "City Library", "occupation": "Librarian"}


def donation_request(amount_cents: int, email: str, key: str, election: str | None = None,
                     **donor: str) -> Any:
    from chalicelib.giving.intake import DonationRequest

    return DonationRequest.model_validate({
        "amount_cents": amount_cents, "idempotency_key": key, "donor": donor_fields(email, **donor),
        "attestations": ATTESTATIONS, **({"election": election} if election else {})})


def paid(donation: Donation, event_id: str | None = None) -> PaymentEvent:
    """The success event of a donation (what the webhook would read)."""
    from chalicelib.giving.ledger import Fact

    return PaymentEvent(event_id or f"evt_paid_{donation.donation_id}", "payment_intent.succeeded",
                        Fact("paid"), donation.donation_id, donation.payment_intent_id, T0,
                        amount_cents=donation.amount_cents, currency="usd")


class GivingWorld:
    """The giving service over these twins with velocity limits, its reconciler and a clock."""

    def __init__(self, limits: VelocityLimits | None = None) -> None:
        from chalicelib.giving.reconcile import Reconciler
        from chalicelib.giving.service import GivingService

        self.clock = Clock()
        self.velocity = MemoryVelocity(limits)
        self.store = MemoryDonations(velocity=self.velocity)
        self.payments = MemoryPayments()
        self.giving = GivingService(self.store, MemoryPages(page()), self.payments, MemoryCommittees(),
                                    self.clock, velocity=self.velocity)
        self.reconciler = Reconciler(self.giving, self.store, self.payments, self.clock,
                                     stale_after=timedelta(minutes=15), expire_after=timedelta(minutes=30))

    def intake(self, ip: str | None = None, email: str | None = None, cents: int = 2_700) -> Donation:
        """A donation started from `ip` (a random address if none) by `email` (a fresh one)."""
        import uuid

        request = donation_request(cents, email or f"{uuid.uuid4().hex[:10]}@example.org",
                                   f"key-{uuid.uuid4().hex}")
        return self.giving.start_donation("spring", request,
                                          ip or f"203.0.113.{uuid.uuid4().int % 250}").donation


class MemorySubscriptions:
    """Stripe's subscriptions and SetupIntents as the portal's monthly controls see them: each
    change keyed by its idempotency key (the same key changes once), a card per SetupIntent."""

    def __init__(self, next_charge_at: datetime) -> None:
        from chalicelib.giving.monthly import Schedule, SubscriptionChange

        self.next_charge_at = next_charge_at
        self.changes: dict[str, tuple[str, SubscriptionChange]] = {}
        self.setups: dict[str, tuple[str, str | None, str | None]] = {}
        self.defaults: dict[str, str] = {}
        self._schedule = Schedule

    def subscription_schedule(self, subscription_id: str) -> Any:
        return self._schedule("si_1", "prod_1", 0, self.next_charge_at, "cus_1", "active")

    def change_subscription(self, subscription_id: str, schedule: Any, change: Any,
                            idempotency_key: str) -> None:
        self.changes.setdefault(idempotency_key, (subscription_id, change))

    def applied(self, subscription_id: str) -> list[Any]:
        return [c for s, c in self.changes.values() if s == subscription_id]

    def create_setup_intent(self, customer_id: str, donor_id: str, idempotency_key: str) -> tuple[str, str]:
        seti = f"seti_{len(self.setups) + 1}"
        self.setups.setdefault(seti, ("requires_payment_method", None, customer_id))
        return seti, f"{seti}_secret_x"

    def confirm(self, setup_intent_id: str, payment_method_id: str) -> None:
        self.setups[setup_intent_id] = ("succeeded", payment_method_id, self.setups[setup_intent_id][2])

    def setup_intent_card(self, setup_intent_id: str) -> tuple[str, str | None, str | None]:
        return self.setups.get(setup_intent_id, ("missing", None, None))

    def set_default_card(self, customer_id: str, payment_method_id: str, idempotency_key: str) -> None:
        self.defaults[customer_id] = payment_method_id
