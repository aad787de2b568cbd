"""Issue 12, finding 8, against in-memory twins: an event applies to a donation only when it is
about the donation's own payment (its PaymentIntent or plan, its amount, its currency); the
metadata's `donation_id` alone is a claim anyone's PaymentIntent can make."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.giving.events import read_event
from chalicelib.giving.service import EventOutcome, GivingService, StaleRead
from tests.giving_twins import (
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
)
from tests.helpers import stripe_event


class World:
    def __init__(self) -> None:
        self.store = MemoryDonations()
        self.giving = GivingService(self.store, MemoryPages(page()), MemoryPayments(),
                                    MemoryCommittees(), Clock())

    def intake(self, cents: int = 250_000):  # type: ignore[no-untyped-def]
        request = donation_request(cents, "ana@example.org", f"key-{len(self.store.donations):06d}")
        return self.giving.start_donation("spring", request, None).donation


def intent_event(event_type: str, donation, **changes):  # type: ignore[no-untyped-def]
    """The webhook's reading of a PaymentIntent event claiming `donation` in its metadata."""
    obj = {"id": donation.payment_intent_id, "amount": donation.amount_cents, "currency": "usd",
           "metadata": {"donation_id": donation.donation_id}, **changes}
    event = read_event(stripe_event(event_type, **obj), livemode=False)
    assert event is not None
    return event


def test_the_donations_own_intent_for_its_amount_applies() -> None:
    w = World()
    d = w.intake()
    assert w.giving.apply_event(intent_event("payment_intent.succeeded", d)) is EventOutcome.APPLIED
    assert w.giving.donation(d.donation_id).status == "succeeded"


@pytest.mark.parametrize("changes", [
    {"id": "pi_someone_elses", "amount": 100},  # the attack as it was found
    {"id": "pi_someone_elses"},                  # right amount, another intent
    {"amount": 100},                             # its intent, another amount
    {"currency": "eur"},                         # its intent and amount, other money
])
@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "payment_intent.payment_failed"])
def test_an_event_for_another_payment_is_unmatched_and_changes_nothing(event_type: str,
                                                                       changes: dict) -> None:
    w = World()
    d = w.intake()
    before = w.store.get(d.donation_id)
    assert w.giving.apply_event(intent_event(event_type, d, **changes)) is EventOutcome.UNMATCHED
    assert w.store.get(d.donation_id) == before
    assert w.store.markers == set() and w.store.outbox == []


def test_an_event_ahead_of_its_intents_record_is_retried_not_dropped() -> None:
    """Express gifts are charged at once; the success can arrive before intake records the
    intent. It answers 503 (Stripe delivers again) rather than being applied or dropped."""
    w = World()
    d = w.intake()
    event = intent_event("payment_intent.succeeded", d)
    w.store.donations[d.donation_id].payment_intent_id = None
    with pytest.raises(StaleRead):
        w.giving.apply_event(event)
    w.store.donations[d.donation_id].payment_intent_id = d.payment_intent_id
    assert w.giving.apply_event(event) is EventOutcome.APPLIED


def test_a_plans_first_invoice_must_be_of_the_donations_subscription() -> None:
    w = World()
    d = w.intake(2_500)
    w.store.donations[d.donation_id].subscription_id = "sub_own"
    invoice = {"id": "in_1", "billing_reason": "subscription_create", "amount_paid": 2_500,
               "currency": "usd", "parent": {"subscription_details": {
                   "subscription": "sub_other", "metadata": {"first_donation_id": d.donation_id}}}}
    event = read_event(stripe_event("payment_intent.succeeded") | {
        "type": "invoice.paid", "data": {"object": invoice}}, livemode=False)
    assert event is not None
    assert w.giving.apply_event(event) is EventOutcome.UNMATCHED
    own = replace(event, subscription_id="sub_own")
    assert w.giving.apply_event(replace(own, amount_cents=100)) is EventOutcome.UNMATCHED
    assert w.giving.apply_event(own) is EventOutcome.APPLIED

