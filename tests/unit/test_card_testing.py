"""Issue 12, finding 4, against in-memory twins: card testing after intake. One intake's
PaymentIntent confirmed again and again with card after card: each decline counts against the
donation, the IP, the email and the card; past `DECLINES_PER_DONATION` (or the card past
`DECLINES_PER_CARD`) the intent is cancelled through the outbox, once, and the donation ends
`failed` with `card_testing`. IPv6 addresses count by their /64."""

from __future__ import annotations

import pytest

from chalicelib.giving.events import read_event
from chalicelib.giving.service import EventOutcome
from chalicelib.giving.velocity import (
    CANCEL_KIND,
    RateLimited,
    VelocityLimits,
    card_testing_cancel_handler,
    ip_bucket,
)
from tests.giving_twins import GivingWorld, paid
from tests.helpers import stripe_event


class World(GivingWorld):
    def __init__(self, **limits: int) -> None:
        super().__init__(VelocityLimits(**limits))
        self.cancel = card_testing_cancel_handler(self.payments)

    def decline(self, donation, card: str = "fpA", event_id: str | None = None):  # type: ignore[no-untyped-def]
        payload = stripe_event(
            "payment_intent.payment_failed", id=donation.payment_intent_id, amount=donation.amount_cents,
            metadata={"donation_id": donation.donation_id},
            last_payment_error={"type": "card_error", "code": "card_declined",
                                "payment_method": {"id": "pm_x", "card": {"fingerprint": card}}})
        payload["created"] = int(self.clock.now.timestamp())  # Stripe's clock is ours
        if event_id:
            payload["id"] = event_id
        event = read_event(payload, livemode=False)
        assert event is not None
        return self.giving.apply_event(event)

    def cancellations(self) -> list:  # type: ignore[type-arg]
        return [m for m in self.store.outbox if m.kind == CANCEL_KIND]


def test_the_third_decline_cancels_the_intent_once_and_ends_the_donation() -> None:
    w = World()
    d = w.intake()
    assert w.decline(d, "fp1") is EventOutcome.APPLIED
    assert w.decline(d, "fp2") is EventOutcome.APPLIED
    assert w.cancellations() == [] and w.giving.donation(d.donation_id).failure_reason is None
    assert w.decline(d, "fp3", event_id="evt_third") is EventOutcome.APPLIED
    ended = w.giving.donation(d.donation_id)
    assert (ended.status, ended.failure_reason, ended.declines) == ("failed", "card_testing", 3)
    assert [m.message_id for m in w.cancellations()] == [f"{CANCEL_KIND}#{d.donation_id}"]
    # The same event delivered again, and a fourth decline: counted, never cancelled twice.
    assert w.decline(d, "fp3", event_id="evt_third") is EventOutcome.DUPLICATE
    assert w.decline(d, "fp4") is EventOutcome.APPLIED
    assert len(w.cancellations()) == 1 and w.giving.donation(d.donation_id).declines == 4
    # The drain delivers the message (twice, as at-least-once may): Stripe cancels once.
    for _ in range(2):
        w.cancel(w.cancellations()[0])
    assert w.payments.cancelled == [d.payment_intent_id]
    assert set(w.payments.cancel_keys.values()) == {"fraudulent"}
    assert w.payments.status_of(d.payment_intent_id) == "canceled"


def test_a_donor_who_mistypes_twice_still_gives() -> None:
    w = World()
    d = w.intake()
    w.decline(d, "fpA")
    w.decline(d, "fpA")
    assert w.giving.apply_event(paid(w.giving.donation(d.donation_id))) is EventOutcome.APPLIED
    given = w.giving.donation(d.donation_id)
    assert (given.status, given.failure_reason) == ("succeeded", None) and w.cancellations() == []


def test_declines_per_donation_is_a_setting() -> None:
    w = World(declines_per_donation=5)
    d = w.intake()
    for n in range(4):
        w.decline(d, f"fp{n}")
    assert w.cancellations() == []
    w.decline(d, "fp5")
    assert w.giving.donation(d.donation_id).failure_reason == "card_testing"


def test_a_card_declined_across_donations_ends_the_one_that_passes_declines_per_card() -> None:
    """One card tried on donation after donation (each from its own address and email, so the
    intake limits never see it): the fifth decline of that card ends its donation."""
    w = World()
    donations = [w.intake(ip=f"203.0.113.{n}") for n in range(1, 6)]
    for d in donations[:4]:
        w.decline(d, "fpSTOLEN")
    assert w.cancellations() == []
    w.decline(donations[4], "fpSTOLEN")
    assert w.giving.donation(donations[4].donation_id).failure_reason == "card_testing"
    assert [m.payload["donation_id"] for m in w.cancellations()] == [donations[4].donation_id]


def test_ipv6_addresses_count_by_their_64() -> None:
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff") \
        == "2001:db8:1:2::/64"
    assert ip_bucket("2001:db8:1:3::1") != ip_bucket("2001:db8:1:2::1")
    assert ip_bucket("::ffff:198.51.100.7") == ip_bucket("198.51.100.7") == "198.51.100.7"
    assert ip_bucket("[2001:db8::1]") == "2001:db8::/64"


def test_a_tester_rotating_through_one_64_is_refused_at_intake() -> None:
    w = World()
    for n in range(5):  # every intake from a fresh address of one /64, each declined once
        d = w.intake(ip=f"2001:db8:7:7::{n + 1:x}")
        w.decline(d, f"fp{n}")
    with pytest.raises(RateLimited):
        w.intake(ip="2001:db8:7:7:dead:beef::1")
    w.intake(ip="2001:db8:7:8::1")  # the next /64 is someone else


def test_a_payment_that_beat_the_cancellation_is_refunded_once() -> None:
    w = World()
    d = w.intake()
    for n in range(3):
        w.decline(d, f"fp{n}")
    w.payments.confirm(d.payment_intent_id)  # a card went through before the drain ran
    for _ in range(2):
        w.cancel(w.cancellations()[0])
    assert w.payments.cancelled == []
    assert list(w.payments.refunds.values()) == [(d.payment_intent_id, 2_700, "card_testing")]
