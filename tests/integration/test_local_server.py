"""The whole loop over real HTTP: `chalice local`, moto's server, and the Stripe stand-in
delivering signed webhooks, driven with the real stripe SDK as a donor's browser would confirm."""

from __future__ import annotations

import pytest
import requests
import stripe

from tests.helpers import ORGANIZER_KEY, donation_body, page_body, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server]


def totals(server: str, slug: str) -> tuple[int, int]:
    page = requests.get(f"{server}/api/pages/{slug}", timeout=5).json()
    return page["raised_cents"], page["contribution_count"]


def test_give_then_refund_over_the_running_stack(live_server: str, local_stack) -> None:
    page = page_body()
    assert requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                         timeout=5).status_code == 201
    slug = page["slug"]
    started = requests.post(f"{live_server}/api/pages/{slug}/donations", json=donation_body(2700),
                            timeout=10)
    assert started.status_code == 201, started.text
    intent_id = started.json()["client_secret"].split("_secret_")[0]

    client = stripe.StripeClient("sk_test_local_standin",
                                 base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    # A processed webhook shows on the public page within 5 s.
    wait_for(lambda: totals(live_server, slug) == (2700, 1), timeout=5)

    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 700})
    wait_for(lambda: totals(live_server, slug) == (2000, 1), timeout=5)
    donation = requests.get(f"{live_server}/api/admin/donations/{started.json()['donation_id']}",
                            headers=staff(ORGANIZER_KEY), timeout=5).json()
    assert (donation["status"], donation["refunded_cents"]) == ("succeeded", 700)


def test_declined_card_leaves_the_donation_failed(live_server: str, local_stack) -> None:
    page = page_body()
    requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY), timeout=5)
    started = requests.post(f"{live_server}/api/pages/{page['slug']}/donations",
                            json=donation_body(2700), timeout=10).json()
    client = stripe.StripeClient("sk_test_local_standin",
                                 base_addresses={"api": local_stack["stripe_url"]})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                          params={"payment_method": "pm_card_chargeDeclined"})

    def status() -> str:
        return requests.get(f"{live_server}/api/admin/donations/{started['donation_id']}",
                            headers=staff(ORGANIZER_KEY), timeout=5).json()["status"]

    wait_for(lambda: status() == "failed", timeout=5)
    assert totals(live_server, page["slug"]) == (0, 0)
