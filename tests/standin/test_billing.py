"""Products, prices, subscriptions and invoices (monthly giving), through the real stripe SDK."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import PK, dev_post, event_types

EXPAND_FIRST_INVOICE = [
    "latest_invoice.payments.data.payment.payment_intent",
    "latest_invoice.confirmation_secret",
]


def monthly_price(client: stripe.StripeClient, amount: int = 2500) -> Any:
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Monthly gift"},
        }
    )


def donor(client: stripe.StripeClient, card: str | None = "pm_card_visa") -> Any:
    params: dict[str, Any] = {"email": "monthly@example.com", "name": "Monty Donor"}
    if card:
        params.update(payment_method=card, invoice_settings={"default_payment_method": card})
    return client.v1.customers.create(params=params)


def subscribe(client: stripe.StripeClient, customer: Any, **params: Any) -> Any:
    return client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(client).id}],
            "metadata": {"donor_id": "d-77", "page": "spring"},
            **params,
        }
    )


def advance(standin: RunningStandin, sub_id: str) -> dict[str, Any]:
    r = dev_post(standin, f"subscriptions/{sub_id}/advance")
    assert r.status_code == 200, r.text
    return r.json()


def invoice_events(client: stripe.StripeClient, invoice_id: str) -> list[str]:
    return event_types(client, invoice_id)


def test_products_and_prices(client: stripe.StripeClient, stripe_fixtures: dict[str, Any]) -> None:
    product = client.v1.products.create(params={"name": "Monthly gift", "metadata": {"kind": "recurring"}})
    assert product.id.startswith("prod_") and product.active and product.name == "Monthly gift"
    assert not set(stripe_fixtures["product"]) - set(product.to_dict())
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "product": product.id,
            "metadata": {"tier": "10"},
        }
    )
    assert (
        price.id.startswith("price_")
        and price.type == "recurring"
        and str(price.unit_amount_decimal) == "1000"
    )
    assert price.recurring.interval == "month" and price.recurring.interval_count == 1
    assert price.product == product.id and price.metadata.to_dict() == {"tier": "10"}
    assert not set(stripe_fixtures["price"]) - set(price.to_dict())
    assert client.v1.prices.retrieve(price.id, params={"expand": ["product"]}).product.name == "Monthly gift"
    inline = monthly_price(client)
    assert client.v1.products.retrieve(inline.product).name == "Monthly gift"
    one_time = client.v1.prices.create(params={"currency": "usd", "unit_amount": 500, "product": product.id})
    assert one_time.type == "one_time" and one_time.recurring is None
    assert event_types(client, product.id) == ["product.created"]
    assert event_types(client, price.id) == ["price.created"]
    for bad in (
        {"currency": "usd", "unit_amount": 100},
        {"currency": "usd", "unit_amount": 100, "product": product.id, "product_data": {"name": "x"}},
        {"currency": "usd", "product": product.id},
        {"currency": "usd", "unit_amount": 100, "product": product.id, "recurring": {"interval": "hour"}},
        {"currency": "usd", "unit_amount": 100, "product": "prod_missing"},
    ):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.prices.create(params=bad)


def test_subscription_charges_the_first_invoice(
    client: stripe.StripeClient, stripe_fixtures: dict[str, Any]
) -> None:
    customer = donor(client)
    sub = subscribe(client, customer, expand=EXPAND_FIRST_INVOICE)
    assert sub.id.startswith("sub_") and sub.status == "active" and sub.customer == customer.id
    assert sub.metadata.to_dict() == {"donor_id": "d-77", "page": "spring"}
    item = sub["items"].data[0]
    assert item.price.unit_amount == 2500 and item.quantity == 1
    assert item.current_period_end > item.current_period_start == sub.start_date
    invoice = sub.latest_invoice
    assert invoice.id.startswith("in_") and invoice.status == "paid" and invoice.customer == customer.id
    assert (invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == (2500, 2500, 0)
    assert invoice.billing_reason == "subscription_create" and invoice.attempt_count == 1
    assert invoice.parent.type == "subscription_details"
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.parent.subscription_details.metadata.to_dict() == {"donor_id": "d-77", "page": "spring"}
    line = invoice.lines.data[0]
    assert line.amount == 2500 and line.parent.subscription_item_details.subscription == sub.id
    assert line.period.start == item.current_period_start and line.period.end == item.current_period_end
    [payment] = invoice.payments.data
    assert payment.status == "paid" and payment.amount_paid == 2500 and payment.invoice == invoice.id
    intent = payment.payment.payment_intent
    assert intent.status == "succeeded" and intent.amount == 2500 and intent.customer == customer.id
    assert invoice.confirmation_secret.client_secret == intent.client_secret
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.customer == customer.id and charge.balance_transaction.startswith("txn_")

    found = client.v1.invoice_payments.list(
        params={"payment": {"type": "payment_intent", "payment_intent": intent.id}}
    )
    assert [p.invoice for p in found.data] == [invoice.id]
    assert client.v1.invoice_payments.retrieve(payment.id).status == "paid"

    plain = client.v1.invoices.retrieve(invoice.id).to_dict()
    assert "payments" not in plain and "confirmation_secret" not in plain  # includable only
    expected_missing = {"subscription"}  # moved to parent.subscription_details in this API version
    assert set(stripe_fixtures["invoice"]) - set(plain) == expected_missing
    assert not set(stripe_fixtures["subscription"]) - set(sub.to_dict())
    assert not set(stripe_fixtures["subscription_item"]) - set(item.to_dict())
    assert not set(stripe_fixtures["line_item"]) - set(line.to_dict())
    assert not set(stripe_fixtures["invoice_payment"]) - set(payment.to_dict())

    assert event_types(client, sub.id) == ["customer.subscription.created", "customer.subscription.updated"]
    assert invoice_events(client, invoice.id) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert event_types(client, intent.id) == ["payment_intent.created", "payment_intent.succeeded"]
    paid = next(
        e
        for e in client.v1.events.list(params={"type": "invoice.paid", "limit": 100}).data
        if e.data.object.id == invoice.id
    )
    assert paid.data.object.parent.subscription_details.metadata.donor_id == "d-77"
    assert "payments" not in paid.data.object.to_dict()
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice.payment_intent"]})
    assert "cannot be expanded" in exc.value.user_message


def test_default_incomplete_confirmed_by_the_donor(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    customer = donor(client, card=None)
    sub = subscribe(
        client,
        customer,
        payment_behavior="default_incomplete",
        payment_settings={"save_default_payment_method": "on_subscription"},
        expand=["latest_invoice.confirmation_secret"],
    )
    assert sub.status == "incomplete" and sub.latest_invoice.status == "open"
    assert sub.latest_invoice.attempt_count == 0
    secret = sub.latest_invoice.confirmation_secret.client_secret
    intent_id = secret.split("_secret_")[0]
    r = requests.post(
        f"{standin.url}/v1/payment_intents/{intent_id}/confirm",
        data={
            "key": PK,
            "client_secret": secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": "4242424242424242",
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 2),
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub.latest_invoice.status == "paid"
    pm = client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert pm.customer == customer.id and pm.card.last4 == "4242"
    updated = [
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
        if e.data.object.id == sub.id
    ]
    assert updated[0].data.previous_attributes.to_dict() == {
        "default_payment_method": None,
        "status": "incomplete",
    }

    renewed = advance(standin, sub.id)
    assert renewed["status"] == "active" and renewed["latest_invoice"] != sub.latest_invoice.id
    assert client.v1.invoices.retrieve(renewed["latest_invoice"]).status == "paid"


def test_advance_runs_the_next_cycle(client: stripe.StripeClient, standin: RunningStandin) -> None:
    sub = subscribe(client, donor(client))
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    period_end = sub["items"].data[0].current_period_end
    renewed = advance(standin, sub.id)
    item = renewed["items"]["data"][0]
    assert item["current_period_start"] == period_end and item["current_period_end"] > period_end
    assert 28 * 86400 <= item["current_period_end"] - item["current_period_start"] <= 31 * 86400
    invoice = client.v1.invoices.retrieve(renewed["latest_invoice"], params={"expand": ["payments"]})
    assert invoice.id != first.id and invoice.billing_reason == "subscription_cycle"
    assert invoice.status == "paid" and invoice.amount_paid == 2500
    assert invoice.lines.data[0].period.start == period_end
    assert invoice.parent.subscription_details.metadata.to_dict() == sub.metadata.to_dict()
    intent = client.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    assert intent.status == "succeeded" and intent.description == "Subscription update"
    assert invoice_events(client, invoice.id) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    cycle = next(
        e
        for e in client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
        if e.data.object.id == sub.id
    )
    assert cycle.request.id is None  # automatic, like Stripe's renewals
    assert cycle.data.previous_attributes["items"]["data"][0]["current_period_end"] == period_end


def test_failed_renewals_cancel_after_the_third_attempt(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    customer = donor(client)
    sub = subscribe(client, customer)
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": failing.id})

    after_first = advance(standin, sub.id)
    assert after_first["status"] == "past_due"
    invoice_id = after_first["latest_invoice"]
    invoice = client.v1.invoices.retrieve(invoice_id)
    assert invoice.status == "open" and invoice.attempt_count == 1 and invoice.next_payment_attempt
    assert advance(standin, sub.id)["status"] == "past_due"
    assert client.v1.invoices.retrieve(invoice_id).attempt_count == 2
    ended = advance(standin, sub.id)
    assert ended["status"] == "canceled" and ended["latest_invoice"] == invoice_id
    assert ended["cancellation_details"]["reason"] == "payment_failed" and ended["ended_at"]
    invoice = client.v1.invoices.retrieve(invoice_id)
    assert invoice.attempt_count == 3 and invoice.next_payment_attempt is None
    assert invoice_events(client, invoice_id) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "invoice.payment_failed",
        "invoice.payment_failed",
    ]
    assert event_types(client, sub.id)[-2:] == [
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]
    assert client.v1.customers.retrieve(customer.id).delinquent is True
    assert dev_post(standin, f"subscriptions/{sub.id}/advance").status_code == 400


def test_failed_renewal_recovers_with_a_new_card(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    customer = donor(client, card="pm_card_chargeCustomerFail")
    sub = subscribe(client, customer, payment_behavior="default_incomplete")
    assert advance(standin, sub.id)["status"] == "incomplete"  # first automatic attempt declines
    fixed = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": fixed.id}})
    recovered = advance(standin, sub.id)
    assert recovered["status"] == "active"
    invoice = client.v1.invoices.retrieve(recovered["latest_invoice"])
    assert invoice.status == "paid" and invoice.attempt_count == 2
    assert client.v1.customers.retrieve(customer.id).delinquent is False


def test_first_invoice_declines(client: stripe.StripeClient, standin: RunningStandin) -> None:
    customer = donor(client, card="pm_card_chargeCustomerFail")
    sub = subscribe(client, customer, expand=["latest_invoice"])
    assert sub.status == "incomplete"  # allow_incomplete (the default) keeps the subscription
    assert sub.latest_invoice.status == "open" and sub.latest_invoice.attempt_count == 1
    assert invoice_events(client, sub.latest_invoice.id)[-1] == "invoice.payment_failed"

    created = len(client.v1.events.list(params={"type": "customer.subscription.created", "limit": 100}).data)
    with pytest.raises(stripe.CardError) as exc:
        subscribe(client, customer, payment_behavior="error_if_incomplete")
    assert exc.value.code == "card_declined" and exc.value.http_status == 402
    after = len(client.v1.events.list(params={"type": "customer.subscription.created", "limit": 100}).data)
    assert after == created
    with pytest.raises(stripe.InvalidRequestError) as bad:
        subscribe(client, donor(client, card=None))
    assert bad.value.code == "resource_missing" and "no attached payment source" in bad.value.user_message

    advance(standin, sub.id)
    expired = advance(standin, sub.id)
    assert expired["status"] == "incomplete_expired"
    invoice = client.v1.invoices.retrieve(sub.latest_invoice.id)
    assert invoice.status == "void" and invoice.attempt_count == 3
    assert event_types(client, sub.id)[-1] == "customer.subscription.deleted"


def test_cancel_now_and_at_period_end(client: stripe.StripeClient, standin: RunningStandin) -> None:
    customer = donor(client)
    sub = subscribe(client, customer)
    canceled = client.v1.subscriptions.cancel(
        sub.id, params={"cancellation_details": {"comment": "moving", "feedback": "other"}}
    )
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    assert canceled.cancellation_details.to_dict() == {
        "comment": "moving",
        "feedback": "other",
        "reason": "cancellation_requested",
    }
    deleted = client.v1.events.list(params={"type": "customer.subscription.deleted", "limit": 1}).data[0]
    assert deleted.data.object.id == sub.id and deleted.data.object.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert client.v1.subscriptions.update(sub.id, params={"metadata": {"note": "x"}}).metadata.note == "x"

    later = subscribe(client, customer)
    marked = client.v1.subscriptions.update(later.id, params={"cancel_at_period_end": True})
    assert marked.cancel_at_period_end is True
    assert marked.cancel_at == later["items"].data[0].current_period_end
    ended = advance(standin, later.id)
    assert ended["status"] == "canceled" and ended["latest_invoice"] == later.latest_invoice


def test_inline_price_data_and_validation(client: stripe.StripeClient) -> None:
    customer = donor(client)
    product = client.v1.products.create(params={"name": "Sustainer"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1500,
                        "product": product.id,
                        "recurring": {"interval": "month"},
                    },
                    "quantity": 2,
                }
            ],
            "expand": ["latest_invoice"],
        }
    )
    assert sub.status == "active" and sub.latest_invoice.amount_paid == 3000
    price = sub["items"].data[0].price
    assert price.id.startswith("price_") and price.product == product.id and price.active is False
    one_time = client.v1.prices.create(params={"currency": "usd", "unit_amount": 500, "product": product.id})
    bad_items: list[Any] = [
        [{"price": one_time.id}],
        [{"price": "price_missing"}],
        [{"price_data": {"currency": "usd", "unit_amount": 100, "product": product.id}}],
        [{"price": one_time.id, "bogus": "1"}],
    ]
    for items in bad_items:
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.subscriptions.create(params={"customer": customer.id, "items": items})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": customer.id})
    assert exc.value.param == "items"
