"""Customers, saved cards, off-session charges and PaymentIntent listing, through the real SDK."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import PK, create_pi, event_types, paid_pi, sdk


def new_customer(client: stripe.StripeClient, **params: Any) -> Any:
    return client.v1.customers.create(params={"email": "donor@example.com", "name": "Dana Donor", **params})


# ---------------------------------------------------------------- customers


def test_customer_create_retrieve_update(
    client: stripe.StripeClient, stripe_fixtures: dict[str, Any]
) -> None:
    customer = new_customer(client, metadata={"donor_id": "d1"}, description="Monthly donor")
    assert customer.id.startswith("cus_") and customer.object == "customer" and customer.livemode is False
    assert (customer.email, customer.name, customer.description) == (
        "donor@example.com",
        "Dana Donor",
        "Monthly donor",
    )
    assert customer.metadata.to_dict() == {"donor_id": "d1"}
    assert customer.invoice_settings.default_payment_method is None
    assert not set(stripe_fixtures["customer"]) - set(customer.to_dict())
    assert client.v1.customers.retrieve(customer.id).to_dict() == customer.to_dict()
    updated = client.v1.customers.update(
        customer.id, params={"name": "Dana D.", "metadata": {"donor_id": "", "tier": "gold"}}
    )
    assert updated.name == "Dana D." and updated.metadata.to_dict() == {"tier": "gold"}
    event = client.v1.events.list(params={"type": "customer.updated", "limit": 1}).data[0]
    assert event.data.object.id == customer.id
    assert event.data.previous_attributes.to_dict() == {"name": "Dana Donor", "metadata": {"donor_id": "d1"}}
    assert event_types(client, customer.id) == ["customer.created", "customer.updated"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        new_customer(client, email="not-an-email")
    assert exc.value.code == "email_invalid"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        new_customer(client, tax_exempt="none")
    assert exc.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.retrieve("cus_missing")
    assert exc.value.http_status == 404


def test_attach_and_default_payment_method(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert pm.id.startswith("pm_") and pm.customer == customer.id and pm.card.last4 == "4242"
    assert client.v1.payment_methods.retrieve(pm.id).customer == customer.id
    assert event_types(client, pm.id) == ["payment_method.attached"]
    with pytest.raises(stripe.InvalidRequestError) as exc:  # not this customer's card
        client.v1.customers.update(
            new_customer(client).id, params={"invoice_settings": {"default_payment_method": pm.id}}
        )
    assert exc.value.param == "invoice_settings[default_payment_method]"
    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    assert updated.invoice_settings.default_payment_method == pm.id
    other = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_methods.attach(pm.id, params={"customer": other.id})
    assert "already been attached" in exc.value.user_message
    with pytest.raises(stripe.CardError) as card_exc:  # Stripe checks the card when it is attached
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    assert card_exc.value.code == "card_declined" and card_exc.value.http_status == 402
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_methods.attach("pm_missing", params={"customer": customer.id})
    assert exc.value.http_status == 404
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [p.id for p in listed.data] == [pm.id]
    expanded = client.v1.customers.retrieve(
        customer.id, params={"expand": ["invoice_settings.default_payment_method"]}
    )
    assert expanded.invoice_settings.default_payment_method.card.brand == "visa"


def test_create_customer_with_payment_method(client: stripe.StripeClient) -> None:
    customer = new_customer(
        client,
        payment_method="pm_card_mastercard",
        invoice_settings={"default_payment_method": "pm_card_mastercard"},
    )
    pm = client.v1.payment_methods.retrieve(customer.invoice_settings.default_payment_method)
    assert pm.customer == customer.id and pm.card.brand == "mastercard"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        new_customer(client, invoice_settings={"default_payment_method": pm.id})
    assert exc.value.param == "invoice_settings[default_payment_method]"


# ------------------------------------------------ saved cards and off-session


def test_setup_future_usage_saves_the_card(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    pi = paid_pi(client, customer=customer.id, setup_future_usage="off_session")
    assert pi.status == "succeeded" and pi.setup_future_usage == "off_session"
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.customer == customer.id
    assert event_types(client, pm.id) == ["payment_method.attached"]

    again = create_pi(
        client,
        amount=2500,
        customer=customer.id,
        payment_method=pm.id,
        off_session=True,
        confirm=True,
        metadata={"kind": "recurring"},
    )
    assert again.status == "succeeded" and again.payment_method == pm.id
    charge = client.v1.charges.retrieve(again.latest_charge)
    assert charge.customer == customer.id and charge.amount == 2500
    with pytest.raises(stripe.InvalidRequestError) as exc:  # a saved card needs its customer
        paid_pi(client, pm=pm.id)
    assert exc.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError):
        paid_pi(client, pm=pm.id, customer=new_customer(client).id)


def test_card_used_without_customer_cannot_be_saved(client: stripe.StripeClient) -> None:
    pi = paid_pi(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_methods.attach(pi.payment_method, params={"customer": new_customer(client).id})
    assert "may not be used again" in exc.value.user_message
    customer = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError):
        create_pi(client, customer="cus_missing")
    no_save = paid_pi(client, customer=customer.id)  # no setup_future_usage: not attached
    assert client.v1.payment_methods.retrieve(no_save.payment_method).customer is None


def test_off_session_decline_answers_402_with_the_intent(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})
    assert pm.customer == customer.id and pm.card.last4 == "0341"  # attaches, fails when charged
    with pytest.raises(stripe.CardError) as exc:
        create_pi(client, customer=customer.id, payment_method=pm.id, off_session=True, confirm=True)
    error = exc.value.json_body["error"]
    assert exc.value.http_status == 402 and error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline" and error["payment_method"]["id"] == pm.id
    intent = client.v1.payment_intents.retrieve(error["payment_intent"]["id"])
    assert intent.status == "requires_payment_method" and intent.customer == customer.id
    assert intent.last_payment_error.decline_code == "generic_decline"
    assert event_types(client, intent.id)[-1] == "payment_intent.payment_failed"
    with pytest.raises(stripe.CardError) as exc:
        create_pi(
            client,
            customer=customer.id,
            payment_method="pm_card_chargeDeclined",
            off_session=True,
            confirm=True,
        )
    assert exc.value.json_body["error"]["payment_intent"]["status"] == "requires_payment_method"


NODE_CONFIRM = r"""
const [url, clientSecret, number] = process.argv.slice(1);
globalThis.window = globalThis;
window.location = {href: "http://127.0.0.1:8000/donate", origin: "http://127.0.0.1:8000"};
function element(tag) {
  return {tag, children: [], attrs: {}, style: {}, value: "", className: "",
    appendChild(child) { this.children.push(child); child.parentNode = this; return child; },
    removeChild(child) { this.children = this.children.filter((c) => c !== child); },
    setAttribute(name, value) { this.attrs[name] = value; },
    addEventListener() {}, contains() { return false; }, focus() {}, blur() {}};
}
const container = element("div");
globalThis.document = {currentScript: {src: url + "/v3/"}, createElement: element,
  querySelector: () => container, activeElement: null};
(async () => {
  new Function(await (await fetch(url + "/v3/")).text())();
  const stripe = Stripe("pk_test_123");
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  Object.assign(card._inputs.number, {value: number});
  Object.assign(card._inputs.expiry, {value: "12 / 34"});
  Object.assign(card._inputs.cvc, {value: "123"});
  const result = await stripe.confirmCardPayment(clientSecret, {
    payment_method: {card, billing_details: {name: "Jane Donor"}},
    setup_future_usage: "off_session",
  });
  console.log(JSON.stringify(result));
})().catch((err) => { console.error(err); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run stripe.js")
def test_stripe_js_passes_setup_future_usage(client: stripe.StripeClient, standin: RunningStandin) -> None:
    customer = new_customer(client)
    pi = create_pi(client, customer=customer.id, metadata={"donation_id": "don_monthly"})
    out = subprocess.run(
        ["node", "-e", NODE_CONFIRM, standin.url, pi.client_secret, "4242424242424242"],
        capture_output=True,
        text=True,
        timeout=15,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["paymentIntent"]["status"] == "succeeded", result
    assert result["paymentIntent"]["setup_future_usage"] == "off_session"
    intent = client.v1.payment_intents.retrieve(pi.id)
    assert client.v1.payment_methods.retrieve(intent.payment_method).customer == customer.id


def test_publishable_confirm_with_setup_future_usage(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    customer = new_customer(client)
    pi = create_pi(client, customer=customer.id)
    r = requests.post(
        f"{standin.url}/v1/payment_intents/{pi.id}/confirm",
        data={
            "key": PK,
            "client_secret": pi.client_secret,
            "setup_future_usage": "off_session",
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": "5555555555554444",
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 2),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["setup_future_usage"] == "off_session" and "customer" not in r.json()
    pm = client.v1.payment_methods.retrieve(client.v1.payment_intents.retrieve(pi.id).payment_method)
    assert pm.customer == customer.id and pm.card.brand == "mastercard"


# ------------------------------------------------- PaymentIntent list/cancel


def test_payment_intent_list_and_cancel(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    customer = new_customer(client)
    intents = [create_pi(client, amount=1000 + i) for i in range(3)]
    mine = create_pi(client, customer=customer.id, allowed_payment_method_types=["card"])
    assert mine.payment_method_types == ["card"] and mine.allowed_payment_method_types == ["card"]
    assert mine.automatic_payment_methods is None
    page = client.v1.payment_intents.list(params={"limit": 2})
    assert [p.id for p in page.data] == [mine.id, intents[2].id] and page.has_more is True
    rest = client.v1.payment_intents.list(params={"limit": 10, "starting_after": page.data[-1].id})
    assert [p.id for p in rest.data] == [intents[1].id, intents[0].id] and rest.has_more is False
    created = intents[0].created
    assert len(client.v1.payment_intents.list(params={"created": {"gte": created}}).data) == 4
    assert client.v1.payment_intents.list(params={"created": {"gte": created + 3600}}).data == []
    assert [p.id for p in client.v1.payment_intents.list(params={"customer": customer.id}).data] == [mine.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list(params={"created": {"after": created}})

    canceled = client.v1.payment_intents.cancel(intents[0].id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled"
    assert event_types(client, intents[0].id) == ["payment_intent.created", "payment_intent.canceled"]
    event = client.v1.events.list(params={"type": "payment_intent.canceled"}).data[0]
    assert event.data.object.cancellation_reason == "abandoned"


def test_detach_forgets_the_card(client: stripe.StripeClient) -> None:
    customer = new_customer(
        client, payment_method="pm_card_visa", invoice_settings={"default_payment_method": "pm_card_visa"}
    )
    pm_id = customer.invoice_settings.default_payment_method
    detached = client.v1.payment_methods.detach(pm_id)
    assert detached.customer is None
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None
    assert event_types(client, pm_id) == ["payment_method.attached", "payment_method.detached"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pm_id, params={"customer": customer.id})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(pm_id)
