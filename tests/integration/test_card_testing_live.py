"""Issue 12, finding 4, attacked through the running stack (`chalice local`, moto's server, the
Stripe stand-in delivering signed webhooks): card testing after intake. One intake, then its
PaymentIntent confirmed with one declined card after another, then a good card, used to
succeed. Now the third decline cancels the intent at Stripe through the outbox, exactly once,
and the donation ends `failed` with `card_testing`. Fails on the code before the fix."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
import stripe

from chalicelib.giving.velocity import CANCEL_KIND
from tests.followups_kit import delivered, drain_until, outbox_item
from tests.helpers import ORGANIZER_KEY, donation_body, page_body, signed, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server]

DECLINED_CARDS = ("pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds",
                  "pm_card_chargeDeclinedExpiredCard")


def staff_view(server: str, donation_id: str) -> dict[str, Any]:
    return requests.get(f"{server}/api/admin/donations/{donation_id}", headers=staff(ORGANIZER_KEY),
                        timeout=5).json()


def test_declined_confirmations_of_one_intent_cancel_it_and_a_good_card_is_refused(
        live_server, local_stack, stripe_api) -> None:
    page = page_body()
    assert requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY),
                         timeout=5).status_code == 201
    n = uuid.uuid4().int
    tester = {"X-Forwarded-For": f"2001:db8:{n % 9000 + 1:x}:{(n >> 16) % 9000 + 1:x}::1"}
    started = requests.post(f"{live_server}/api/pages/{page['slug']}/donations",
                            json=donation_body(100), headers=tester, timeout=10).json()
    intent = started["client_secret"].split("_secret_")[0]
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})

    for n, card in enumerate(DECLINED_CARDS, start=1):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(intent, params={"payment_method": card})
        wait_for(lambda n=n: _declines_delivered(stripe_api, intent) >= n)  # each decline landed
    ended = staff_view(live_server, started["donation_id"])
    assert (ended["status"], ended["failure_reason"]) == ("failed", "card_testing")

    # Stripe delivers the third decline again: a duplicate, and still one cancellation planned.
    third = _events(client, intent, "payment_intent.payment_failed")[0]
    body, headers = signed(third.to_dict())
    again = requests.post(f"{live_server}/webhooks/stripe", data=body.encode(), headers=headers, timeout=10)
    assert again.json()["outcome"] == "duplicate"

    message = f"{CANCEL_KIND}#{started['donation_id']}"
    drain_until(delivered(message))
    assert outbox_item(message).status == "sent"
    at_stripe = stripe_api.get(f"{stripe_api.base_url}/v1/payment_intents/{intent}").json()
    assert (at_stripe["status"], at_stripe["cancellation_reason"]) == ("canceled", "fraudulent")

    # The good card, on the same intent: Stripe refuses it; nothing was charged.
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
    assert len(_events(client, intent, "payment_intent.canceled")) == 1
    assert _events(client, intent, "payment_intent.succeeded") == []
    wait_for(lambda: _delivered(stripe_api, _events(client, intent, "payment_intent.canceled")[0].id))
    final = staff_view(live_server, started["donation_id"])
    assert (final["status"], final["failure_reason"]) == ("failed", "card_testing")
    assert requests.get(f"{live_server}/api/pages/{page['slug']}", timeout=5).json()["raised_cents"] == 0


def _events(client: Any, intent: str, event_type: str) -> list[Any]:
    """This intent's events of one type at the stand-in, newest first."""
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e for e in found if e.data.object.id == intent]


def _delivered(stripe_api: Any, event_id: str) -> bool:
    return any(d["event_id"] == event_id and d["delivered"]
               for d in stripe_api.get(f"{stripe_api.base_url}/_standin/deliveries").json())


def _declines_delivered(stripe_api: Any, intent: str) -> int:
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_api.base_url})
    return sum(_delivered(stripe_api, e.id) for e in _events(client, intent, "payment_intent.payment_failed"))
