"""Monthly gifts through the running stack: an explicit choice, one contribution per paid
invoice even with duplicate deliveries, and a one-step cancel link that stops the next charge."""

from __future__ import annotations

import json

import pytest
import requests
import stripe

from chalicelib import deps
from chalicelib.storage.models import DonationModel
from chalicelib.tokens import CANCEL_PLAN
from tests.helpers import ORGANIZER_KEY, donation_body, page_body, sign, staff, tampered_token, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server]


def test_a_monthly_gift_needs_the_donors_explicit_choice(api) -> None:
    slug = api.create_page()["slug"]
    status, error = api.call("POST", f"/api/pages/{slug}/donations",
                             donation_body(1000, recurring="monthly"))
    assert status == 400 and "recurring_consent" in error["error"]["fields"]
    status, _ = api.call("POST", f"/api/pages/{slug}/donations",
                         donation_body(1000, recurring="monthly", recurring_consent=False))
    assert status == 400


def test_each_paid_invoice_is_one_contribution_and_cancel_stops_the_next(live_server, local_stack) -> None:
    page = page_body()
    assert requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                         timeout=5).status_code == 201
    slug = page["slug"]
    started = requests.post(f"{live_server}/api/pages/{slug}/donations", timeout=10, json=donation_body(
        1500, recurring="monthly", recurring_consent=True)).json()
    first = requests.get(f"{live_server}/api/admin/donations/{started['donation_id']}",
                         headers=staff(ORGANIZER_KEY), timeout=5).json()
    assert first["recurring"] is True and first["subscription_id"].startswith("sub_")
    subscription_id = first["subscription_id"]

    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                      params={"payment_method": "pm_card_visa"})

    def totals() -> tuple[int, int]:
        body = requests.get(f"{live_server}/api/pages/{slug}", timeout=5).json()
        return body["raised_cents"], body["contribution_count"]

    wait_for(lambda: totals() == (1500, 1), timeout=10)
    # Next month: Stripe charges the saved card; its invoice.paid is a new contribution.
    requests.post(f"{local_stack['stripe_url']}/_standin/subscriptions/{subscription_id}/advance",
                  timeout=10).raise_for_status()
    wait_for(lambda: totals() == (3000, 2), timeout=10)
    renewals = [d for d in DonationModel.scan(DonationModel.subscription_id == subscription_id)]
    assert len(renewals) == 2 and {d.status for d in renewals} == {"succeeded"}

    # Stripe delivers the renewal's invoice.paid again: nothing changes.
    events = requests.get(f"{local_stack['stripe_url']}/v1/events", params={"type": "invoice.paid"},
                          headers={"Authorization": "Bearer sk_test_local_standin"}, timeout=5).json()
    renewal_event = next(
        e for e in events["data"]
        if e["data"]["object"]["parent"]["subscription_details"]["subscription"] == subscription_id
        and e["data"]["object"]["billing_reason"] != "subscription_create")
    body = json.dumps(renewal_event)
    for _ in range(2):
        response = requests.post(f"{live_server}/webhooks/stripe", data=body, timeout=5, headers={
            "Content-Type": "application/json", "Stripe-Signature": sign(body)})
        assert response.status_code == 200
    assert totals() == (3000, 2)

    # Opening the receipt's cancel link (as a mail scanner does) shows the gift and a button and
    # cancels nothing; the button's POST cancels at once; the next cycle charges nothing.
    token = deps.tokens().issue(CANCEL_PLAN, subscription_id)
    assert requests.head(f"{live_server}/c/{token}", timeout=10).status_code < 500
    for _ in range(2):
        page_html = requests.get(f"{live_server}/c/{token}", timeout=10)
        assert page_html.status_code == 200 and "$15" in page_html.text
    assert f'action="/c/{token}"' in page_html.text and 'method="post"' in page_html.text
    assert client.v1.subscriptions.retrieve(subscription_id).status != "canceled"
    cancelled = requests.post(f"{live_server}/c/{token}", timeout=10,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert cancelled.status_code == 200 and "cancelled" in cancelled.text
    subscription = client.v1.subscriptions.retrieve(subscription_id)
    assert subscription.status == "canceled"
    assert "is cancelled" in requests.get(f"{live_server}/c/{token}", timeout=10).text
    requests.post(f"{local_stack['stripe_url']}/_standin/subscriptions/{subscription_id}/advance",
                  timeout=10)
    assert totals() == (3000, 2)
    tampered = tampered_token(token)
    assert requests.get(f"{live_server}/c/{tampered}", timeout=5).status_code == 400
