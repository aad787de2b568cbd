"""Lost webhooks are recovered: the reconciler settles stale pending donations from Stripe's
record through the same exactly-once path, and expires abandoned intents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import stripe

from chalicelib import deps
from chalicelib.giving.reconcile import Reconciler
from chalicelib.storage.models import DonorAggregateModel
from tests.helpers import stripe_event

pytestmark = pytest.mark.stack


def reconciler(at: datetime) -> Reconciler:
    service = deps.giving_service()
    return Reconciler(service, service.store, deps.stripe_gateway(), lambda: at,  # type: ignore[arg-type]
                      stale_after=timedelta(minutes=15), expire_after=timedelta(hours=24))


def totals(api, slug: str) -> tuple[int, int]:
    page = api.public(slug)
    return page["raised_cents"], page["contribution_count"]


def test_a_payment_whose_webhook_never_came_is_settled_once(api, local_stack) -> None:
    from tests.conftest import deliver_webhooks_to

    deliver_webhooks_to(local_stack, None)
    page = api.create_page()
    started = api.donate(page["slug"], amount_cents=2700)
    intent_id = started["client_secret"].split("_secret_")[0]
    # The card is charged at Stripe, but this stand-in has no webhook endpoint: the event is lost.
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    assert api.donation(started["donation_id"])["status"] == "pending"

    later = datetime.now(timezone.utc) + timedelta(minutes=20)
    reconciler(later).run(limit=1000)
    donation = api.donation(started["donation_id"])
    assert donation["status"] == "succeeded"
    assert totals(api, page["slug"]) == (2700, 1)
    reconciler(later).run(limit=1000)  # nothing is pending any more
    # The real webhook, arriving late, merges without counting twice.
    late = stripe_event("payment_intent.succeeded", id=intent_id,
                        metadata={"donation_id": started["donation_id"]})
    assert api.webhook(late)[0] == 200
    assert totals(api, page["slug"]) == (2700, 1)


def test_recent_pending_donations_are_left_alone(api) -> None:
    page = api.create_page()
    started = api.donate(page["slug"], amount_cents=1500)
    reconciler(datetime.now(timezone.utc) + timedelta(minutes=5)).run(limit=1000)
    assert api.donation(started["donation_id"])["status"] == "pending"


def test_an_abandoned_intent_is_cancelled_and_its_reservation_released(api, stripe_api) -> None:
    page = api.create_page()
    started = api.donate(page["slug"], amount_cents=3000)
    donation = api.donation(started["donation_id"])
    scope = f"{page['committee_id']}#P2026"
    assert DonorAggregateModel.get(donation["donor_id"], scope).reserved_cents == 3000
    reconciler(datetime.now(timezone.utc) + timedelta(hours=25)).run(limit=1000)
    assert api.donation(started["donation_id"])["status"] == "failed"
    intent = stripe_api.get(f"{stripe_api.base_url}/v1/payment_intents/{donation['payment_intent_id']}")
    assert intent.json()["status"] == "canceled"
    aggregate = DonorAggregateModel.get(donation["donor_id"], scope)
    assert (aggregate.reserved_cents, aggregate.exposure_cents) == (0, 0)
