"""Issue 12, finding 8: the webhook trusted `metadata.donation_id` alone, so a signed event for
another PaymentIntent with `amount=100` marked a $2,500 donation paid in full. An event now
applies only to its donation's own payment; anything else is 200 `unmatched`, nothing written,
and a warning that names ids only. Each test fails on the code before the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import stripe

from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonationModel, DonorAggregateModel, ProcessedEventModel
from tests.helpers import (
    ORGANIZER_KEY,
    captured_logs,
    donation_body,
    page_body,
    staff,
    stripe_event,
    wait_for,
)

pytestmark = pytest.mark.stack

VICTIM_CENTS = 250_000


def victims_donation(api) -> tuple[str, dict[str, Any], dict[str, Any]]:
    slug = api.create_page()["slug"]
    body = donation_body(VICTIM_CENTS)
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    return slug, body, started


def stored(donation_id: str) -> dict[str, Any]:
    """The stored item, as DynamoDB holds it."""
    return DonationModel.get(donation_id, consistent_read=True).serialize()


def test_a_signed_event_for_another_intent_is_unmatched_and_changes_nothing(api) -> None:
    slug, body, started = victims_donation(api)
    before = stored(started["donation_id"])
    forged = stripe_event("payment_intent.succeeded", id="pi_attackers_own", amount=100,
                          amount_received=100, metadata={"donation_id": started["donation_id"]})
    with captured_logs() as logged:
        status, answer = api.webhook(forged)
    assert (status, answer["outcome"]) == (200, "unmatched")
    assert stored(started["donation_id"]) == before  # still pending, $2,500, nothing paid
    assert api.public(slug)["raised_cents"] == 0
    assert ProcessedEventModel.count(forged["id"]) == 0  # no marker: nothing was applied
    warning = [json.loads(line) for line in logged.getvalue().splitlines()
               if "does not match" in line]
    assert warning and warning[0]["mismatch"] == "payment_intent" and warning[0]["level"] == "WARNING"
    for secret in (body["donor"]["email"], body["donor"]["last_name"], body["donor"]["phone"]):
        assert secret not in logged.getvalue()


@pytest.mark.parametrize(("changes", "mismatch"), [({"amount": 100, "amount_received": 100}, "amount"),
                                                   ({"currency": "eur"}, "currency")])
def test_its_own_intent_for_another_amount_or_currency_is_unmatched(api, changes, mismatch) -> None:
    slug, _, started = victims_donation(api)
    before = stored(started["donation_id"])
    event = stripe_event("payment_intent.succeeded", **{
        "id": started["client_secret"].split("_secret_")[0], "amount": VICTIM_CENTS,
        "amount_received": VICTIM_CENTS, "metadata": {"donation_id": started["donation_id"]},
        **changes})
    with captured_logs() as logged:
        assert api.webhook(event)[1]["outcome"] == "unmatched"
    assert f'"mismatch":"{mismatch}"' in logged.getvalue().replace(" ", "")
    assert stored(started["donation_id"]) == before and api.public(slug)["raised_cents"] == 0


@pytest.mark.server
def test_the_attack_through_the_stand_in(live_server, local_stack, stripe_api) -> None:
    """As the attacker did it: a $1 PaymentIntent of their own carrying the victim's donation id
    in its metadata, paid with a good card; Stripe (the stand-in) signs and delivers its event."""
    page = page_body()
    assert requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                         timeout=5).status_code == 201
    victim = donation_body(VICTIM_CENTS)
    started = requests.post(f"{live_server}/api/pages/{page['slug']}/donations", json=victim,
                            timeout=10).json()
    client = stripe.StripeClient("sk_test_local_standin",
                                 base_addresses={"api": local_stack["stripe_url"]})
    own = client.v1.payment_intents.create(params={
        "amount": 100, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "metadata": {"donation_id": started["donation_id"], "committee_id": page["committee_id"]}})
    assert own.status == "succeeded"
    delivered = wait_for(lambda: next((d for d in stripe_api.get(
        f"{stripe_api.base_url}/_standin/deliveries").json()
        if d["delivered"] and d["type"] == "payment_intent.succeeded"
        and _intent_of(client, d["event_id"]) == own.id), None))
    assert delivered["last_status"] == 200
    assert ProcessedEventModel.count(delivered["event_id"]) == 0
    donation = stored(started["donation_id"])
    assert donation["status"] == {"S": "pending"} and donation["paid"] == {"BOOL": False}
    assert donation["amount_cents"] == {"N": str(VICTIM_CENTS)}
    scope = f"{page['committee_id']}#P2026"
    aggregate = DonorAggregateModel.get(donor_id_for(victim["donor"]["email"]), scope)
    assert int(aggregate.net_cents or 0) == 0 and int(aggregate.reserved_cents) == VICTIM_CENTS


def _intent_of(client: Any, event_id: str) -> str | None:
    return client.v1.events.retrieve(event_id).data.object.id
