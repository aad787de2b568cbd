"""Card details on PaymentMethods, charges and their events: international test cards and the test
wallet's Apple Pay tokens, through the real stripe SDK and Stripe.js's own requests."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import PK, create_pi, paid_pi


def events_about(client: stripe.StripeClient, object_id: str) -> dict[str, Any]:
    """The newest event of each type whose object is ``object_id``."""
    found: dict[str, Any] = {}
    for event in client.v1.events.list(params={"limit": 100}).data:
        if event.data.object.to_dict().get("id") == object_id:
            found.setdefault(event.type, event)
    return found


@pytest.mark.parametrize(
    ("token", "number", "country"),
    [
        ("pm_card_br", "4000000760000002", "BR"),
        ("pm_card_ca", "4000001240000000", "CA"),
        ("pm_card_mx", "4000004840008001", "MX"),
        ("pm_card_gb", "4000008260000000", "GB"),
    ],
)
def test_international_cards_carry_their_country(
    client: stripe.StripeClient, standin: RunningStandin, token: str, number: str, country: str
) -> None:
    pi = paid_pi(client, pm=token)
    assert pi.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.card.country == country and pm.card.last4 == number[-4:] and pm.card.wallet is None
    charge = client.v1.charges.retrieve(pi.latest_charge)
    details = charge.payment_method_details.card
    assert (details.country, details.brand, details.funding) == (country, "visa", "credit")
    assert details.fingerprint == pm.card.fingerprint

    # The same number typed into a page (Stripe.js's payment_method_data) is the same card.
    typed = create_pi(client)
    r = requests.post(
        f"{standin.url}/v1/payment_intents/{typed.id}/confirm",
        data={
            "key": PK,
            "client_secret": typed.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 2),
            "payment_method_data[card][cvc]": "123",
        },
        timeout=5,
    )
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    typed_charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(typed.id).latest_charge)
    assert typed_charge.payment_method_details.card.country == country
    assert typed_charge.payment_method_details.card.fingerprint == details.fingerprint


def test_charge_succeeded_and_payment_intent_succeeded_events_carry_card_details(
    client: stripe.StripeClient,
) -> None:
    pi = paid_pi(client, pm="pm_card_mx")
    events = events_about(client, pi.latest_charge)
    card = events["charge.succeeded"].data.object.payment_method_details.card
    assert (card.brand, card.last4, card.country, card.funding) == ("visa", "8001", "MX", "credit")
    assert len(card.fingerprint) == 16 and card.wallet is None
    assert events["charge.succeeded"].data.object.payment_intent == pi.id
    succeeded = events_about(client, pi.id)["payment_intent.succeeded"].data.object
    assert succeeded.latest_charge == pi.latest_charge and succeeded.payment_method == pi.payment_method


def wallet_token(
    standin: RunningStandin, number: str = "4242424242424242", **extra: str
) -> requests.Response:
    """What Stripe.js posts for an Apple Pay payment (the stand-in's pk_token is the card number)."""
    return requests.post(
        f"{standin.url}/v1/tokens",
        headers={"Origin": "http://127.0.0.1:8000"},
        data={
            "key": PK,
            "pk_token": number,
            "pk_token_instrument_name": "Visa 4242",
            "pk_token_payment_network": "Visa",
            "pk_token_transaction_id": "standin-txn",
            "card[name]": "Wanda Wallet",
            "card[address_zip]": "53703",
            **extra,
        },
        timeout=5,
    )


def confirm_with_token(standin: RunningStandin, pi: Any, token_id: str) -> requests.Response:
    return requests.post(
        f"{standin.url}/v1/payment_intents/{pi.id}/confirm",
        data={
            "key": PK,
            "client_secret": pi.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][token]": token_id,
            "payment_method_data[billing_details][name]": "Wanda Wallet",
            "payment_method_data[billing_details][email]": "wanda@example.org",
        },
        timeout=5,
    )


def test_a_wallet_payment_carries_apple_pay_wallet_details(
    client: stripe.StripeClient, standin: RunningStandin, stripe_fixtures: dict[str, Any]
) -> None:
    r = wallet_token(standin)
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["id"].startswith("tok_") and token["used"] is False and token["type"] == "card"
    assert token["card"]["tokenization_method"] == "apple_pay" and token["card"]["last4"] == "4242"
    dynamic = token["card"]["dynamic_last4"]
    assert len(dynamic) == 4 and dynamic.isdigit() and dynamic != "4242"
    assert not set(stripe_fixtures["token"]) - set(token)
    assert not set(stripe_fixtures["token"]["card"]) - set(token["card"])

    pi = create_pi(client, amount=2700)
    confirmed = confirm_with_token(standin, pi, token["id"])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded", confirmed.text
    wallet = {"apple_pay": {}, "dynamic_last4": dynamic, "type": "apple_pay"}
    pi = client.v1.payment_intents.retrieve(pi.id)
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.card.wallet.to_dict() == wallet and pm.card.country == "US"
    assert pm.billing_details.email == "wanda@example.org"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.card.wallet.to_dict() == wallet
    event = events_about(client, charge.id)["charge.succeeded"]
    assert event.data.object.payment_method_details.card.wallet.to_dict() == wallet

    # A token is single-use, as Stripe's are.
    again = confirm_with_token(standin, create_pi(client), token["id"])
    assert again.status_code == 400 and again.json()["error"]["code"] == "token_already_used"


def test_a_declined_wallet_card_is_declined(client: stripe.StripeClient, standin: RunningStandin) -> None:
    token = wallet_token(standin, "4000000000000002").json()
    pi = create_pi(client)
    r = confirm_with_token(standin, pi, token["id"])
    assert r.status_code == 402
    assert r.json()["error"]["decline_code"] == "generic_decline"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


def test_tokens_are_checked(standin: RunningStandin, client: stripe.StripeClient) -> None:
    assert wallet_token(standin, "4242424242424241").status_code == 400  # fails Luhn
    unknown = wallet_token(standin, **{"card[bogus]": "x"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "parameter_unknown"
    missing = confirm_with_token(standin, create_pi(client), "tok_missing")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "resource_missing"
    pi = create_pi(client)
    both = requests.post(
        f"{standin.url}/v1/payment_intents/{pi.id}/confirm",
        data={
            "key": PK,
            "client_secret": pi.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][token]": wallet_token(standin).json()["id"],
            "payment_method_data[card][number]": "4242424242424242",
        },
        timeout=5,
    )
    assert both.status_code == 400
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
