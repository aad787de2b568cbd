"""Monthly gifts the donor controls from the portal, against in-memory twins: only their own plan,
an amount within what the law still allows for the election the next renewal counts toward, a
charge day that stretches the paid month (never charges extra), pause and resume, an end date
not after the committee's, a new card on every gift, a double POST changing once, the webhook
keeping the plan in step, and the notice 7 days before a gift ends queued once per end date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.compliance.committees import CommitteeDefaults, default_committee
from chalicelib.compliance.elections import Election
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.events import PaymentEvent, SubscriptionFacts
from chalicelib.giving.ledger import Fact
from chalicelib.giving.model import DonorSnapshot, RecurringPlan
from chalicelib.giving.monthly import (
    PLAN_CHANGED,
    PLAN_ENDING,
    MonthlyControls,
    card_groups,
    next_charge_on_day,
)
from chalicelib.giving.service import EventOutcome, GivingService
from tests.giving_twins import (
    T0,
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    MemorySubscriptions,
    page,
)

ZONE = "America/Chicago"
COMMITTEE = replace(default_committee("C00000001", CommitteeDefaults()), time_zone=ZONE,
                    previous_general_date=date(2024, 11, 5),
                    elections=(Election("P2026", date(2026, 10, 20)), Election("G2026", date(2026, 11, 3))))
NEXT_CHARGE = datetime(2026, 10, 25, 17, 0, tzinfo=timezone.utc)  # after the primary: counts for G2026


class Exposures:
    def __init__(self) -> None:
        self.cents: dict[tuple[str, str], int] = {}

    def exposure(self, donor_id: str, scope: str) -> int:
        return self.cents.get((donor_id, scope), 0)


def donor(email: str) -> DonorSnapshot:
    return DonorSnapshot("Ana", "Rivera", email, "1 Main St", "Springfield", "IL", "62701", "Acme", "Clerk")


def plan(sub: str, donor_id: str, cents: int = 2_500, **changes: object) -> RecurringPlan:
    base = RecurringPlan(sub, "don_1", donor_id, donor(f"{donor_id}@example.org"), "spring", "C00000001",
                         "P2026", cents, "cus_1", "active", T0, ends_on=date(2026, 12, 3))
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def world() -> tuple[MonthlyControls, MemoryDonations, MemorySubscriptions, Exposures, Clock]:
    clock = Clock()
    store, stripe, exposures = MemoryDonations(), MemorySubscriptions(NEXT_CHARGE), Exposures()
    store.save_plan(plan("sub_mine", "donor_a"))
    store.save_plan(plan("sub_theirs", "donor_b"))
    controls = MonthlyControls(store, stripe, stripe, exposures, MemoryCommittees(COMMITTEE), clock)
    return controls, store, stripe, exposures, clock


def test_another_donors_plan_is_not_found_and_nothing_is_called_or_queued(world) -> None:
    controls, store, stripe, _, _ = world
    for change in (lambda: controls.change_amount("donor_a", "sub_theirs", 1_000),
                   lambda: controls.pause("donor_a", "sub_theirs"),
                   lambda: controls.change_day("donor_a", "sub_theirs", 5),
                   lambda: controls.set_end("donor_a", "sub_theirs", date(2026, 11, 1)),
                   lambda: controls.pause("donor_a", "sub_nobody")):
        with pytest.raises(NotFound):
            change()
    assert stripe.changes == {} and store.outbox == []


def test_the_amount_is_checked_against_the_election_of_the_next_renewal(world) -> None:
    controls, store, stripe, exposures, _ = world
    exposures.cents[("donor_a", "C00000001#G2026")] = 340_000  # $100 left for the general
    exposures.cents[("donor_a", "C00000001#P2026")] = 0  # the plan's own election is past by then
    with pytest.raises(InvalidInput) as refused:
        controls.change_amount("donor_a", "sub_mine", 10_001)
    assert refused.value.code == "over_limit" and "$100.00" in refused.value.message
    assert stripe.changes == {} and store.outbox == [] and store.plan("sub_mine").amount_cents == 2_500
    changed = controls.change_amount("donor_a", "sub_mine", 10_000)
    assert changed.amount_cents == 10_000 and store.plan("sub_mine").amount_cents == 10_000
    assert [c.amount_cents for c in stripe.applied("sub_mine")] == [10_000]
    assert [(m.kind, m.payload["what"], m.payload["amount_cents"]) for m in store.outbox] == [
        (PLAN_CHANGED, "amount", 10_000)]
    with pytest.raises(InvalidInput):
        controls.change_amount("donor_a", "sub_mine", 99)


def test_a_double_post_changes_once(world, monkeypatch) -> None:
    controls, store, stripe, _, _ = world
    stale = store.plan("sub_mine")  # the second request reads the plan before the first writes
    controls.change_amount("donor_a", "sub_mine", 3_000)
    monkeypatch.setattr(store, "plan", lambda s: stale)
    controls.change_amount("donor_a", "sub_mine", 3_000)  # same version: same idempotency key
    monkeypatch.undo()
    assert len(stripe.changes) == 1 and len(store.outbox) == 1
    assert (store.plan("sub_mine").amount_cents, store.plan("sub_mine").version) == (3_000, 1)


def test_pause_resume_and_the_end_date(world) -> None:
    controls, store, stripe, _, clock = world
    assert controls.pause("donor_a", "sub_mine").status == "paused"
    assert controls.pause("donor_a", "sub_mine").status == "paused"  # already: nothing more
    assert controls.resume("donor_a", "sub_mine").status == "active"
    assert [c.pause for c in stripe.applied("sub_mine")] == [True, False]
    with pytest.raises(InvalidInput):  # after the committee's recurring_ends_at
        controls.set_end("donor_a", "sub_mine", date(2026, 12, 4))
    with pytest.raises(InvalidInput):  # not in the future
        controls.set_end("donor_a", "sub_mine", clock().date())
    ended = controls.set_end("donor_a", "sub_mine", date(2026, 11, 15))
    assert ended.ends_on == date(2026, 11, 15)
    cancel_at = stripe.applied("sub_mine")[-1].cancel_at
    assert cancel_at == datetime(2026, 11, 15, 6, 0, tzinfo=timezone.utc)  # local midnight in Chicago
    assert [m.payload["what"] for m in store.outbox] == ["pause", "resume", "end"]
    store.end_plan("sub_mine", clock())
    with pytest.raises(Conflict):
        controls.pause("donor_a", "sub_mine")


def test_a_new_charge_day_stretches_the_paid_month_to_it() -> None:
    # The period ends on Oct 25 (local); day 28 moves it to Oct 28, day 5 to Nov 5: never sooner.
    assert next_charge_on_day(NEXT_CHARGE, 28, ZONE) == datetime(2026, 10, 28, 17, 0, tzinfo=timezone.utc)
    assert next_charge_on_day(NEXT_CHARGE, 5, ZONE) == datetime(2026, 11, 5, 18, 0, tzinfo=timezone.utc)
    dec = datetime(2026, 12, 20, 18, 0, tzinfo=timezone.utc)
    assert next_charge_on_day(dec, 3, ZONE) == datetime(2027, 1, 3, 18, 0, tzinfo=timezone.utc)


def test_the_charge_day_is_applied_at_stripe_without_charging(world) -> None:
    controls, store, stripe, _, _ = world
    with pytest.raises(InvalidInput):
        controls.change_day("donor_a", "sub_mine", 29)
    assert controls.change_day("donor_a", "sub_mine", 5).charge_day == 5
    (change,) = stripe.applied("sub_mine")
    assert change.trial_end == datetime(2026, 11, 5, 18, 0, tzinfo=timezone.utc)
    assert change.amount_cents is None
    controls.change_day("donor_a", "sub_mine", 25)  # the day it already falls on: recorded only
    assert len(stripe.applied("sub_mine")) == 1 and store.plan("sub_mine").charge_day == 25


def test_a_new_card_goes_on_every_running_gift_of_the_customer(world) -> None:
    controls, store, stripe, _, _ = world
    store.save_plan(plan("sub_second", "donor_a", 1_000, created_at=T0 + timedelta(days=1)))
    store.save_plan(plan("sub_old", "donor_a", status="canceled"))
    plans = [store.plan(s) for s in ("sub_mine", "sub_second", "sub_old")]
    seti, secret = controls.card_setup("donor_a", plans)
    assert secret.startswith(seti)
    with pytest.raises(InvalidInput):  # not confirmed yet
        controls.replace_card("donor_a", seti, plans)
    stripe.confirm(seti, "pm_new")
    assert controls.replace_card("donor_a", seti, plans) == 2
    assert stripe.defaults == {"cus_1": "pm_new"}
    assert sorted((s, c.payment_method_id) for s, c in stripe.changes.values()) == [
        ("sub_mine", "pm_new"), ("sub_second", "pm_new")]
    assert controls.card_setup("donor_b", plans) is None  # none of them is donor_b's
    with pytest.raises(InvalidInput):
        controls.replace_card("donor_b", seti, plans)


def test_gifts_on_two_customers_take_a_new_card_per_customer(world) -> None:
    controls, store, stripe, _, _ = world
    store.save_plan(plan("sub_newer", "donor_a", 1_000, customer_id="cus_2",
                         created_at=T0 + timedelta(days=1)))
    plans = [store.plan(s) for s in ("sub_mine", "sub_newer")]
    assert [(c, [p.subscription_id for p in g]) for c, g in card_groups("donor_a", plans)] == [
        ("cus_2", ["sub_newer"]), ("cus_1", ["sub_mine"])]
    newest, _ = controls.card_setup("donor_a", plans)  # the newest gift's customer by default
    older, _ = controls.card_setup("donor_a", plans, "cus_1")
    ignored, _ = controls.card_setup("donor_a", plans, "cus_other")  # not theirs: the default
    assert [stripe.setups[s][2] for s in (newest, older, ignored)] == ["cus_2", "cus_1", "cus_2"]
    stripe.confirm(older, "pm_on_1")
    assert controls.replace_card("donor_a", older, plans) == 1
    assert [(s, c.payment_method_id) for s, c in stripe.changes.values()] == [("sub_mine", "pm_on_1")]
    assert stripe.defaults == {"cus_1": "pm_on_1"}


def test_the_ending_notice_is_queued_once_per_plan_and_end_date(world) -> None:
    controls, store, _, _, clock = world
    store.end_plan("sub_theirs", clock())  # it ends the same day, but it has ended already
    clock.advance(days=55)  # Nov 25 noon UTC: Dec 3 is 8 days away
    assert controls.notify_ending() == 0
    clock.advance(days=1)  # 7 days away in Chicago
    assert controls.notify_ending() == 1 and controls.notify_ending() == 1
    assert [(m.kind, m.payload) for m in store.outbox] == [
        (PLAN_ENDING, {"subscription_id": "sub_mine", "ends_on": "2026-12-03"})]
    controls.set_end("donor_a", "sub_mine", date(2026, 12, 2))  # a new end date: a notice of its own
    controls.notify_ending()
    assert [m.payload.get("ends_on") for m in store.outbox if m.kind == PLAN_ENDING] == [
        "2026-12-03", "2026-12-02"]


def test_subscription_updated_keeps_the_plan_in_step_once(world) -> None:
    _, store, _, _, clock = world
    giving = GivingService(store, MemoryPages(page()), MemoryPayments(), MemoryCommittees(COMMITTEE), clock)

    def updated(event_id: str, at: datetime, **facts: object) -> PaymentEvent:
        return PaymentEvent(event_id, "customer.subscription.updated", Fact("paid"), None, None, at,
                            subscription_id="sub_mine", subscription=SubscriptionFacts(**facts))  # type: ignore[arg-type]

    later = updated("evt_2", T0 + timedelta(minutes=2), amount_cents=4_000, paused=True, status="active",
                    cancel_at=datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc))
    assert giving.apply_event(later) is EventOutcome.APPLIED
    assert giving.apply_event(later) is EventOutcome.APPLIED  # a redelivery writes the same
    older = updated("evt_1", T0, amount_cents=2_500, paused=False, status="active", cancel_at=None)
    assert giving.apply_event(older) is EventOutcome.DUPLICATE
    synced = store.plan("sub_mine")
    assert (synced.amount_cents, synced.status, synced.ends_on) == (4_000, "paused", date(2026, 11, 20))
