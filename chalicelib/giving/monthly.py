"""Monthly gifts the donor controls from the portal (`/me`): the amount, the charge day, a pause,
an end date and the card, each applied at Stripe with an idempotency key, recorded on the plan
with the email that confirms it in one transaction; and the notice 7 days before a gift ends.

Every change names the donor (the portal session's, never the browser's): a plan of anyone
else is 404 and nothing is called or queued. The plan's `version` makes a double POST change
once: both requests read the same version, so they send Stripe the same idempotency key (Stripe
answers the second with the first's result) and only one of them records the change and queues
its email (the write is conditional on the version it read).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from chalicelib.clock import utcnow
from chalicelib.compliance.committees import Committee
from chalicelib.compliance.elections import local_midnight
from chalicelib.compliance.limits import remaining_cents
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.model import RecurringPlan
from chalicelib.outbox.model import OutboxMessage

PLAN_CHANGED = "plan_changed"  # the outbox kind of the email that confirms a change
PLAN_ENDING = "plan_ending"  # the outbox kind of the notice 7 days before a gift ends
ENDING_NOTICE_DAYS = 7
MIN_AMOUNT_CENTS = 100  # as at intake
AMOUNT, DAY, PAUSE, RESUME, END, CARD = "amount", "day", "pause", "resume", "end", "card"
ACTIVE, PAUSED, CANCELED = "active", "paused", "canceled"


@dataclass(frozen=True)
class Schedule:
    """What Stripe holds for a subscription now (read before a change)."""

    item_id: str
    product_id: str
    amount_cents: int
    next_charge_at: datetime  # the current period's end: when the next renewal is charged
    customer_id: str
    status: str
    payment_method_id: str | None = None  # the subscription's own default card, if any


@dataclass(frozen=True)
class SubscriptionChange:
    """One change of a subscription, as the domain decides it (the gateway speaks Stripe)."""

    amount_cents: int | None = None  # a new price for its item, from the next renewal
    trial_end: datetime | None = None  # the next charge moved here, nothing charged until then
    pause: bool | None = None  # True: pause_collection void; False: resume now
    cancel_at: datetime | None = None
    payment_method_id: str | None = None


class Subscriptions(Protocol):
    def subscription_schedule(self, subscription_id: str) -> Schedule: ...
    def change_subscription(self, subscription_id: str, schedule: Schedule, change: SubscriptionChange,
                            idempotency_key: str) -> None: ...


class Cards(Protocol):
    def create_setup_intent(self, customer_id: str, donor_id: str,
                            idempotency_key: str) -> tuple[str, str]: ...
    def setup_intent_card(self, setup_intent_id: str) -> tuple[str, str | None, str | None]: ...
    def set_default_card(self, customer_id: str, payment_method_id: str, idempotency_key: str) -> None: ...


def card_groups(donor_id: str, plans: list[RecurringPlan]) -> list[tuple[str, list[RecurringPlan]]]:
    """The donor's running monthly gifts by the Stripe customer they are billed to, the newest
    gift's customer first. Stripe attaches a card to one customer, so a new card entered once
    reaches one group; intake reuses an address's customer, so a donor has one group unless
    their gifts began on several (docs/portal.md)."""
    groups: dict[str, list[RecurringPlan]] = {}
    for plan in sorted(plans, key=lambda p: p.created_at, reverse=True):
        if plan.donor_id == donor_id and plan.status != CANCELED:
            groups.setdefault(plan.customer_id, []).append(plan)
    return list(groups.items())


class PlanStore(Protocol):
    def plan(self, subscription_id: str) -> RecurringPlan | None: ...
    def change_plan(self, plan: RecurringPlan, expected_version: int, notice: OutboxMessage,
                    now: datetime) -> bool: ...
    def plans_ending(self, first: date, last: date) -> list[RecurringPlan]: ...
    def enqueue(self, message: OutboxMessage, now: datetime) -> None: ...


class Exposures(Protocol):
    def exposure(self, donor_id: str, scope: str) -> int: ...


class CommitteeSource(Protocol):
    def get(self, committee_id: str) -> Committee: ...


def changed_notice(plan: RecurringPlan, what: str, version: int, now: datetime) -> OutboxMessage:
    """The email that confirms one change: one per plan version (a double POST queues one)."""
    return OutboxMessage(f"{PLAN_CHANGED}#{plan.subscription_id}#v{version}", PLAN_CHANGED, now,
                         {"subscription_id": plan.subscription_id, "what": what,
                          "amount_cents": plan.amount_cents, "status": plan.status,
                          "charge_day": plan.charge_day,
                          "ends_on": plan.ends_on.isoformat() if plan.ends_on else None})


def ending_notice(plan: RecurringPlan, ends_on: date, now: datetime) -> OutboxMessage:
    """The notice that a gift ends in 7 days: one per plan and end date."""
    return OutboxMessage(f"{PLAN_ENDING}#{plan.subscription_id}#{ends_on.isoformat()}", PLAN_ENDING, now,
                         {"subscription_id": plan.subscription_id, "ends_on": ends_on.isoformat()})


def next_charge_on_day(current: datetime, day: int, zone: str) -> datetime:
    """The first instant on local day-of-month `day` at or after the current period's end, at
    the same local time: the paid month is stretched to the new day (never shortened), so the
    donor is charged nothing extra and never twice in a month."""
    local = current.astimezone(ZoneInfo(zone))
    year, month = local.year, local.month
    if day < local.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    moved = local.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))
    return moved.astimezone(timezone.utc)


class MonthlyControls:
    """What a donor changes about their own monthly gifts from the portal."""

    def __init__(self, plans: PlanStore, stripe: Subscriptions, cards: Cards, exposures: Exposures,
                 committees: CommitteeSource, clock: Callable[[], datetime] = utcnow) -> None:
        self.plans = plans
        self.stripe = stripe
        self.cards = cards
        self.exposures = exposures
        self.committees = committees
        self.clock = clock

    def own_plan(self, donor_id: str, subscription_id: str) -> RecurringPlan:
        """The donor's own plan that has not ended; anyone else's (or none) is 404."""
        plan = self.plans.plan(subscription_id)
        if plan is None or plan.donor_id != donor_id:
            raise NotFound("plan_not_found", "There is no such monthly gift of yours.")
        if plan.status == CANCELED:
            raise Conflict("plan_ended", "This monthly gift has ended; it cannot be changed.")
        return plan

    def renewal_allowance(self, plan: RecurringPlan, next_charge_at: datetime) -> int:
        """What the law still lets the donor give for the election the next renewal counts
        toward (the figure the portal shows for that election)."""
        committee = self.committees.get(plan.committee_id)
        election = committee.renewal_designation(next_charge_at, plan.election)
        scope = committee.limit_scope(election, next_charge_at)
        return remaining_cents(committee.limit_cents, self.exposures.exposure(plan.donor_id, scope))

    def change_amount(self, donor_id: str, subscription_id: str, amount_cents: int) -> RecurringPlan:
        plan = self.own_plan(donor_id, subscription_id)
        if amount_cents < MIN_AMOUNT_CENTS:
            raise InvalidInput("invalid_request", "A monthly gift is at least $1.00.",
                               fields={"amount": "at least 1.00"})
        if amount_cents == plan.amount_cents:
            return plan
        schedule = self.stripe.subscription_schedule(subscription_id)
        allowed = self.renewal_allowance(plan, schedule.next_charge_at)
        if amount_cents > allowed:
            raise InvalidInput(
                "over_limit", f"Federal law lets you give at most ${allowed / 100:,.2f} more for the "
                f"election your next monthly gift counts toward, so it cannot be "
                f"${amount_cents / 100:,.2f}. Your gift stays ${plan.amount_cents / 100:,.2f}.",
                fields={"amount": f"at most {allowed / 100:.2f}"})
        return self._apply(plan, AMOUNT, f"amount-{amount_cents}", schedule,
                           SubscriptionChange(amount_cents=amount_cents), amount_cents=amount_cents)

    def change_day(self, donor_id: str, subscription_id: str, day: int) -> RecurringPlan:
        plan = self.own_plan(donor_id, subscription_id)
        if not 1 <= day <= 28:
            raise InvalidInput("invalid_request", "Choose a charge day from 1 to 28.",
                               fields={"day": "1 to 28"})
        schedule = self.stripe.subscription_schedule(subscription_id)
        zone = self.committees.get(plan.committee_id).zone
        current = schedule.next_charge_at.astimezone(ZoneInfo(zone))
        if current.day == day:
            return plan if plan.charge_day == day else self._record(plan, DAY, charge_day=day)
        moved = next_charge_on_day(schedule.next_charge_at, day, zone)
        return self._apply(plan, DAY, f"day-{day}", schedule, SubscriptionChange(trial_end=moved),
                           charge_day=day)

    def pause(self, donor_id: str, subscription_id: str) -> RecurringPlan:
        plan = self.own_plan(donor_id, subscription_id)
        if plan.status == PAUSED:
            return plan
        return self._apply(plan, PAUSE, PAUSE, None, SubscriptionChange(pause=True), status=PAUSED)

    def resume(self, donor_id: str, subscription_id: str) -> RecurringPlan:
        plan = self.own_plan(donor_id, subscription_id)
        if plan.status != PAUSED:
            return plan
        return self._apply(plan, RESUME, RESUME, None, SubscriptionChange(pause=False), status=ACTIVE)

    def latest_end(self, plan: RecurringPlan) -> date | None:
        """The last day a donor may choose to end on: the committee's `recurring_ends_at` (for
        this plan, the day intake stamped), None when monthly gifts run until stopped."""
        return self.committees.get(plan.committee_id).recurring_end_day(plan.created_at)

    def set_end(self, donor_id: str, subscription_id: str, ends_on: date) -> RecurringPlan:
        plan = self.own_plan(donor_id, subscription_id)
        committee = self.committees.get(plan.committee_id)
        today = committee.local_date(self.clock())
        if ends_on <= today:
            raise InvalidInput("invalid_request", "Choose an end date after today.",
                               fields={"ends_on": "a date after today"})
        latest = self.latest_end(plan)
        if latest is not None and ends_on > latest:
            raise InvalidInput("invalid_request", f"Monthly gifts end with the election: choose "
                               f"{latest.isoformat()} or earlier.",
                               fields={"ends_on": f"{latest} or earlier"})
        if ends_on == plan.ends_on:
            return plan
        return self._apply(plan, END, f"end-{ends_on.isoformat()}", None,
                           SubscriptionChange(cancel_at=local_midnight(ends_on, committee.zone)),
                           ends_on=ends_on)

    # --- the card ------------------------------------------------------------------------
    def card_setup(self, donor_id: str, plans: list[RecurringPlan],
                   customer: str | None = None) -> tuple[str, str] | None:
        """A SetupIntent for one Stripe customer of the donor's running monthly gifts (`customer`
        when it is one of theirs, else the newest gift's): its id and the client secret the
        portal's Payment Element confirms. None when no gift is running. One per donor, customer
        and minute (the idempotency key names them)."""
        groups = card_groups(donor_id, plans)
        if not groups:
            return None
        chosen = customer if customer in dict(groups) else groups[0][0]
        return self.cards.create_setup_intent(
            chosen, donor_id, f"groundswell-card-{donor_id}-{chosen}-{self.clock():%Y%m%d%H%M}")

    def replace_card(self, donor_id: str, setup_intent_id: str, plans: list[RecurringPlan]) -> int:
        """Once the donor confirmed the SetupIntent on /me: its card becomes the customer's
        default and every running monthly gift's (one idempotency key per gift and card, so a
        double POST changes once; one confirmation email per gift). Returns how many changed."""
        status, payment_method, customer = self.cards.setup_intent_card(setup_intent_id)
        running = [p for p in plans if p.donor_id == donor_id and p.status != CANCELED]
        if status != "succeeded" or payment_method is None or customer is None \
                or all(p.customer_id != customer for p in running):
            raise InvalidInput("card_not_saved", "The new card was not saved; enter it again.")
        self.cards.set_default_card(customer, payment_method, f"groundswell-card-{customer}-{payment_method}")
        changed = 0
        for plan in running:
            if plan.customer_id != customer:
                continue
            changed += 1
            schedule = self.stripe.subscription_schedule(plan.subscription_id)
            if schedule.payment_method_id == payment_method:
                continue  # pressed again after it landed: nothing more to change or tell
            self._apply(plan, CARD, f"card-{payment_method}", schedule,
                        SubscriptionChange(payment_method_id=payment_method))
        return changed

    # --- the notice before a gift ends ---------------------------------------------------
    def notify_ending(self) -> int:
        """Queue the notice for every running plan whose end day is `ENDING_NOTICE_DAYS` away
        (or nearer, when a run was missed) in its committee's zone; one per plan and end day
        (the message id names both), so a second run queues nothing new. Returns how many
        plans it found due."""
        now = self.clock()
        today = now.astimezone(timezone.utc).date()
        due = 0
        for plan in self.plans.plans_ending(today, today + timedelta(days=ENDING_NOTICE_DAYS + 1)):
            if plan.status == CANCELED or plan.ends_on is None:
                continue
            local_today = self.committees.get(plan.committee_id).local_date(now)
            if local_today < plan.ends_on <= local_today + timedelta(days=ENDING_NOTICE_DAYS):
                self.plans.enqueue(ending_notice(plan, plan.ends_on, now), now)
                due += 1
        return due

    # --- recording ----------------------------------------------------------------------
    def _apply(self, plan: RecurringPlan, what: str, key: str, schedule: Schedule | None,
               change: SubscriptionChange, **fields: object) -> RecurringPlan:
        """Apply at Stripe (idempotency key from the plan, its version and the new value), then
        record the plan and queue its confirmation in one transaction."""
        if schedule is None:
            schedule = self.stripe.subscription_schedule(plan.subscription_id)
        self.stripe.change_subscription(
            plan.subscription_id, schedule, change,
            f"groundswell-plan-{plan.subscription_id}-v{plan.version}-{key}")
        return self._record(plan, what, **fields)

    def _record(self, plan: RecurringPlan, what: str, **fields: object) -> RecurringPlan:
        now = self.clock()
        changed = replace(plan, version=plan.version + 1, **fields)  # type: ignore[arg-type]
        notice = changed_notice(changed, what, changed.version, now)
        if not self.plans.change_plan(changed, plan.version, notice, now):
            return self.plans.plan(plan.subscription_id) or changed  # a double POST: the first one did it
        return changed
