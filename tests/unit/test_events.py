"""Reading verified Stripe events into facts."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.giving.events import read_event
from tests.helpers import stripe_event


def test_payment_intent_event_finds_its_donation_by_metadata() -> None:
    event = read_event(stripe_event("payment_intent.succeeded", metadata={"donation_id": "don_1"},
                                    id="pi_1"), livemode=False)
    assert event is not None
    assert (event.donation_id, event.payment_intent_id, event.fact.kind) == ("don_1", "pi_1", "paid")


def test_charge_events_find_their_donation_by_payment_intent() -> None:
    event = read_event(stripe_event("charge.refunded", payment_intent="pi_9", amount_refunded=500),
                       livemode=False)
    assert event is not None
    assert event.donation_id is None and event.payment_intent_id == "pi_9"
    assert event.fact.refunded_cents == 500


@pytest.mark.parametrize(("status", "outcome"), [("won", "won"), ("lost", "lost"),
                                                 ("warning_closed", "won")])
def test_dispute_outcomes(status: str, outcome: str) -> None:
    event = read_event(stripe_event("charge.dispute.closed", status=status), livemode=False)
    assert event is not None and event.fact.dispute_outcome == outcome


def test_unhandled_types_are_ignored() -> None:
    assert read_event(stripe_event("customer.created"), livemode=False) is None


def test_livemode_must_match_the_key() -> None:
    with pytest.raises(InvalidInput) as err:
        read_event(stripe_event("payment_intent.succeeded"), livemode=True)
    assert err.value.code == "livemode_mismatch"


@pytest.mark.parametrize("payload", [[], {"object": "charge"}, {"object": "event", "id": "evt_1"},
                                     {"object": "event", "id": "e", "type": "x", "data": {}}])
def test_non_events_are_refused(payload: object) -> None:
    with pytest.raises(InvalidInput):
        read_event(payload, livemode=False)
