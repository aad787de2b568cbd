"""SetupIntents: save a card without charging it, through the real SDK and Stripe.js's requests."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import PK, event_types


def customer(client: stripe.StripeClient) -> Any:
    return client.v1.customers.create(params={"email": "saver@example.org", "name": "Sam Saver"})


def confirm_from_page(standin: RunningStandin, seti: Any, number: str, secret: str | None = None) -> Any:
    """What Stripe.js sends for confirmSetup with the card a donor typed."""
    return requests.post(
        f"{standin.url}/v1/setup_intents/{seti.id}/confirm",
        headers={"Origin": "http://127.0.0.1:8000"},
        data={
            "key": PK,
            "client_secret": secret or seti.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
            "payment_method_data[card][exp_month]": "11",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 3),
            "payment_method_data[card][cvc]": "123",
            "payment_method_data[billing_details][address][postal_code]": "53703",
            "return_url": "http://127.0.0.1:8000/saved",
        },
        timeout=5,
    )


def test_create_confirm_from_the_page_and_the_card_is_attached(
    client: stripe.StripeClient, standin: RunningStandin, stripe_fixtures: dict[str, Any]
) -> None:
    donor = customer(client)
    seti = client.v1.setup_intents.create(
        params={
            "customer": donor.id,
            "payment_method_types": ["card"],
            "usage": "off_session",
            "metadata": {"donor_id": "d-9"},
        }
    )
    assert seti.id.startswith("seti_") and seti.object == "setup_intent"
    assert seti.status == "requires_payment_method" and seti.usage == "off_session"
    assert seti.client_secret.startswith(seti.id + "_secret_")
    assert seti.customer == donor.id and seti.metadata.to_dict() == {"donor_id": "d-9"}
    assert seti.payment_method_types == ["card"] and seti.automatic_payment_methods is None
    assert not set(stripe_fixtures["setup_intent"]) - set(seti.to_dict())

    r = confirm_from_page(standin, seti, "4242 4242 4242 4242")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded" and body["payment_method"].startswith("pm_")
    assert "customer" not in body and "metadata" not in body  # a publishable key sees a subset

    seti = client.v1.setup_intents.retrieve(seti.id, params={"expand": ["latest_attempt"]})
    assert seti.status == "succeeded" and seti.last_setup_error is None
    assert seti.latest_attempt.status == "succeeded" and seti.latest_attempt.setup_intent == seti.id
    assert not set(stripe_fixtures["setup_attempt"]) - set(seti.latest_attempt.to_dict())
    pm = client.v1.payment_methods.retrieve(seti.payment_method)
    assert pm.customer == donor.id and pm.card.last4 == "4242" and pm.card.exp_month == 11
    assert pm.billing_details.address.postal_code == "53703"
    saved = client.v1.customers.payment_methods.list(donor.id).data
    assert [m.id for m in saved] == [pm.id]
    assert event_types(client, seti.id) == ["setup_intent.created", "setup_intent.succeeded"]
    assert event_types(client, pm.id) == ["payment_method.attached"]

    # The saved card then pays off-session, as the backend charges it later.
    pi = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "customer": donor.id,
            "payment_method": pm.id,
            "off_session": True,
            "confirm": True,
        }
    )
    assert pi.status == "succeeded"


def test_a_declined_card_fails_the_setup(client: stripe.StripeClient, standin: RunningStandin) -> None:
    donor = customer(client)
    seti = client.v1.setup_intents.create(params={"customer": donor.id})
    assert seti.automatic_payment_methods.enabled is True  # the default without payment_method_types
    r = confirm_from_page(standin, seti, "4000000000000002")
    assert r.status_code == 402
    error = r.json()["error"]
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline"
    assert error["setup_intent"]["status"] == "requires_payment_method"
    seti = client.v1.setup_intents.retrieve(seti.id)
    assert seti.status == "requires_payment_method" and seti.payment_method is None
    assert seti.last_setup_error.code == "card_declined"
    assert seti.last_setup_error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(donor.id).data == []
    assert event_types(client, seti.id) == ["setup_intent.created", "setup_intent.setup_failed"]
    # The donor tries another card on the same SetupIntent.
    assert confirm_from_page(standin, seti, "4242424242424242").json()["status"] == "succeeded"


def test_server_side_confirm_and_the_card_that_fails_later(client: stripe.StripeClient) -> None:
    donor = customer(client)
    seti = client.v1.setup_intents.create(
        params={"customer": donor.id, "payment_method": "pm_card_chargeCustomerFail", "usage": "on_session"}
    )
    assert seti.status == "requires_confirmation"
    seti = client.v1.setup_intents.confirm(seti.id)
    assert seti.status == "succeeded"  # it saves, and declines only when charged
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={
                "amount": 1000,
                "currency": "usd",
                "customer": donor.id,
                "payment_method": seti.payment_method,
                "confirm": True,
                "off_session": True,
            }
        )
    at_once = client.v1.setup_intents.create(
        params={"customer": donor.id, "payment_method": "pm_card_ca", "confirm": True}
    )
    assert at_once.status == "succeeded"
    assert client.v1.payment_methods.retrieve(at_once.payment_method).card.country == "CA"


def test_cancel_list_and_wrong_secret(client: stripe.StripeClient, standin: RunningStandin) -> None:
    donor, other = customer(client), customer(client)
    first = client.v1.setup_intents.create(params={"customer": donor.id})
    second = client.v1.setup_intents.create(params={"customer": donor.id, "description": "new card"})
    client.v1.setup_intents.create(params={"customer": other.id})
    listed = client.v1.setup_intents.list(params={"customer": donor.id})
    assert [s.id for s in listed.data] == [second.id, first.id]
    page = client.v1.setup_intents.list(params={"customer": donor.id, "limit": 1})
    assert page.has_more is True and page.data[0].id == second.id

    r = confirm_from_page(standin, first, "4242424242424242", secret=first.id + "_secret_wrong")
    assert r.status_code == 400 and r.json()["error"]["param"] == "client_secret"
    fetched = requests.get(
        f"{standin.url}/v1/setup_intents/{first.id}",
        params={"key": PK, "client_secret": first.client_secret},
        timeout=5,
    )
    assert fetched.status_code == 200 and fetched.json()["status"] == "requires_payment_method"
    no_secret = requests.get(f"{standin.url}/v1/setup_intents/{first.id}", params={"key": PK}, timeout=5)
    assert no_secret.status_code == 400

    canceled = client.v1.setup_intents.cancel(first.id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    assert event_types(client, first.id)[-1] == "setup_intent.canceled"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.confirm(first.id, params={"payment_method": "pm_card_visa"})
    assert exc.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.cancel(first.id)
    assert exc.value.code == "setup_intent_unexpected_state"


def test_setup_intent_parameters_are_checked(client: stripe.StripeClient) -> None:
    before = len(client.v1.setup_intents.list(params={"limit": 100}).data)
    for bad, param in (
        ({"bogus": "1"}, "bogus"),
        ({"usage": "sometimes"}, "usage"),
        ({"customer": "cus_missing"}, "customer"),
        ({"return_url": "https://example.org"}, "return_url"),
        ({"payment_method_types": ["card"], "automatic_payment_methods": {"enabled": True}}, None),
    ):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.setup_intents.create(params=bad)
        assert exc.value.http_status == 400
        if param:
            assert exc.value.param == param
    assert len(client.v1.setup_intents.list(params={"limit": 100}).data) == before  # nothing was created
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.retrieve("seti_missing")
    assert exc.value.http_status == 404
