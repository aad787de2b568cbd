"""Changing a running subscription: pause_collection, cancel_at, a new amount, a new charge day,
a new card; each driven through the real stripe SDK and ``/_standin/subscriptions/{id}/advance``."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from devtools.stripe_standin import RunningStandin

from .helpers import event_types
from .test_billing import advance, donor, monthly_price, subscribe

DAY = 86400


def updates(client: stripe.StripeClient, sub_id: str) -> list[Any]:
    """``customer.subscription.updated`` events about ``sub_id``, oldest first."""
    events = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
    return [e for e in reversed(events) if e.data.object.id == sub_id]


def renewal(client: stripe.StripeClient, sub: dict[str, Any]) -> Any:
    return client.v1.invoices.retrieve(sub["latest_invoice"])


def charges_of(client: stripe.StripeClient, customer_id: str) -> list[Any]:
    return [pi for pi in client.v1.payment_intents.list(params={"customer": customer_id}).data]


def test_pause_void_bills_nothing_until_resumed(client: stripe.StripeClient, standin: RunningStandin) -> None:
    customer = donor(client)
    sub = subscribe(client, customer)
    paused = client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    assert paused.pause_collection.behavior == "void" and paused.pause_collection.resumes_at is None
    assert paused.status == "active"
    assert updates(client, sub.id)[-1].data.previous_attributes.to_dict() == {"pause_collection": None}
    before = len(charges_of(client, customer.id))

    cycled = advance(standin, sub.id)
    assert cycled["status"] == "active"
    invoice = renewal(client, cycled)
    assert invoice.status == "void" and invoice.billing_reason == "subscription_cycle"
    assert invoice.amount_paid == 0 and invoice.next_payment_attempt is None
    assert event_types(client, invoice.id) == ["invoice.created", "invoice.finalized", "invoice.voided"]
    assert len(charges_of(client, customer.id)) == before  # no PaymentIntent, no charge
    # The period still moves on while paused.
    assert cycled["items"]["data"][0]["current_period_start"] == sub["items"].data[0].current_period_end

    resumed = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert resumed.pause_collection is None
    assert updates(client, sub.id)[-1].data.previous_attributes.pause_collection.behavior == "void"
    assert renewal(client, advance(standin, sub.id)).status == "paid"
    assert len(charges_of(client, customer.id)) == before + 1


def test_pause_keep_as_draft_and_mark_uncollectible(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client))
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "keep_as_draft"}})
    draft = renewal(client, advance(standin, sub.id))
    assert draft.status == "draft" and draft.auto_advance is False and draft.amount_due == 2500
    assert event_types(client, draft.id) == ["invoice.created"]
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "mark_uncollectible"}})
    uncollectible = renewal(client, advance(standin, sub.id))
    assert uncollectible.status == "uncollectible" and uncollectible.amount_paid == 0
    assert uncollectible.status_transitions.marked_uncollectible_at is not None
    assert event_types(client, uncollectible.id)[-1] == "invoice.marked_uncollectible"


def test_pause_resumes_at_its_time(client: stripe.StripeClient, standin: RunningStandin) -> None:
    sub = subscribe(client, donor(client))
    next_charge = sub["items"].data[0].current_period_end
    # resumes before the second renewal: the first is voided, the second collected
    resumes = next_charge + 10 * DAY
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": resumes}}
    )
    assert renewal(client, advance(standin, sub.id)).status == "void"
    second = advance(standin, sub.id)
    assert second["pause_collection"] is None and renewal(client, second).status == "paid"
    cycle = updates(client, sub.id)[-1]
    assert cycle.data.previous_attributes.pause_collection.resumes_at == resumes


def test_cancel_at_ends_the_subscription_when_advanced_past_it(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client))
    first_end = sub["items"].data[0].current_period_end
    cancel_at = first_end + 15 * DAY  # inside the second period
    updated = client.v1.subscriptions.update(sub.id, params={"cancel_at": cancel_at})
    assert updated.cancel_at == cancel_at and updated.cancel_at_period_end is False
    assert updates(client, sub.id)[-1].data.previous_attributes.to_dict() == {"cancel_at": None}
    second = advance(standin, sub.id)  # the second period starts before cancel_at: billed
    assert second["status"] == "active" and renewal(client, second).status == "paid"
    ended = advance(standin, sub.id)
    assert (
        ended["status"] == "canceled" and ended["cancellation_details"]["reason"] == "cancellation_requested"
    )
    assert event_types(client, sub.id)[-1] == "customer.subscription.deleted"
    assert ended["latest_invoice"] == second["latest_invoice"]  # nothing billed past cancel_at


def test_cancel_at_is_cleared_with_an_empty_string(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client), cancel_at=int(time.time()) + 3 * DAY)
    assert sub.cancel_at is not None
    cleared = client.v1.subscriptions.update(sub.id, params={"cancel_at": ""})
    assert cleared.cancel_at is None
    assert advance(standin, sub.id)["status"] == "active"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"cancel_at": int(time.time()) - 60})
    assert exc.value.param == "cancel_at"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(
            sub.id, params={"cancel_at": int(time.time()) + DAY, "cancel_at_period_end": True}
        )
    assert exc.value.param == "cancel_at"
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None  # refused updates wrote nothing


def test_a_new_amount_applies_to_the_next_renewal(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client))
    item = sub["items"].data[0]
    product = item.price.product
    with pytest.raises(stripe.InvalidRequestError) as exc:  # the stand-in refuses to guess prorations
        client.v1.subscriptions.update(
            sub.id,
            params={
                "items": [
                    {
                        "id": item.id,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 5000,
                            "product": product,
                            "recurring": {"interval": "month"},
                        },
                    }
                ]
            },
        )
    assert exc.value.param == "proration_behavior"
    changed = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [
                {
                    "id": item.id,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 5000,
                        "product": product,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
        },
    )
    new_item = changed["items"].data[0]
    assert (
        new_item.id == item.id and new_item.price.unit_amount == 5000 and new_item.price.id != item.price.id
    )
    assert new_item.current_period_end == item.current_period_end  # no new invoice now
    assert changed.latest_invoice == sub.latest_invoice
    previous = updates(client, sub.id)[-1].data.previous_attributes
    assert previous["items"]["data"][0]["price"]["unit_amount"] == 2500
    invoice = renewal(client, advance(standin, sub.id))
    assert invoice.amount_paid == 5000 and invoice.lines.data[0].amount == 5000

    # An existing price works the same way.
    ten = monthly_price(client, 1000)
    changed = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item.id, "price": ten.id}], "proration_behavior": "none"}
    )
    assert changed["items"].data[0].price.id == ten.id
    assert renewal(client, advance(standin, sub.id)).amount_paid == 1000


def test_item_changes_are_checked(client: stripe.StripeClient) -> None:
    sub = subscribe(client, donor(client))
    yearly = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 10000,
            "recurring": {"interval": "year"},
            "product_data": {"name": "Yearly"},
        }
    )
    item_id = sub["items"].data[0].id
    for items, param in (
        ([{"id": "si_missing", "price": yearly.id}], "items[0][id]"),
        ([{"id": item_id, "bogus": "1"}], "items[0][bogus]"),
        ([{"price": yearly.id}], "items"),  # a yearly item beside a monthly one
    ):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.subscriptions.update(sub.id, params={"items": items, "proration_behavior": "none"})
        assert exc.value.param == param
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.unit_amount == 2500


def test_trial_end_shifts_the_charge_day(client: stripe.StripeClient, standin: RunningStandin) -> None:
    customer = donor(client)
    sub = subscribe(client, customer)
    before = len(charges_of(client, customer.id))
    new_day = int(time.time()) + 12 * DAY
    shifted = client.v1.subscriptions.update(
        sub.id, params={"trial_end": new_day, "proration_behavior": "none"}
    )
    assert shifted.status == "trialing" and shifted.trial_end == new_day
    assert shifted["items"].data[0].current_period_end == new_day  # the next charge date
    assert shifted.latest_invoice == sub.latest_invoice and len(charges_of(client, customer.id)) == before
    previous = updates(client, sub.id)[-1].data.previous_attributes
    assert previous.status == "active" and previous.trial_end is None

    charged = advance(standin, sub.id)
    assert charged["status"] == "active" and charged["billing_cycle_anchor"] == new_day
    item = charged["items"]["data"][0]
    assert item["current_period_start"] == new_day and item["current_period_end"] > new_day + 27 * DAY
    invoice = renewal(client, charged)
    assert invoice.status == "paid" and invoice.billing_reason == "subscription_cycle"
    assert len(charges_of(client, customer.id)) == before + 1
    assert updates(client, sub.id)[-1].data.previous_attributes.status == "trialing"


def test_billing_cycle_anchor_now_charges_now_and_restarts_the_cycle(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client))
    advance(standin, sub.id)
    moment = int(time.time())
    reset = client.v1.subscriptions.update(
        sub.id, params={"billing_cycle_anchor": "now", "proration_behavior": "none"}
    )
    assert moment <= reset.billing_cycle_anchor <= moment + 5
    item = reset["items"].data[0]
    assert item.current_period_start == reset.billing_cycle_anchor
    invoice = client.v1.invoices.retrieve(reset.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert invoice.amount_paid == 2500
    unchanged = client.v1.subscriptions.update(sub.id, params={"billing_cycle_anchor": "unchanged"})
    assert unchanged.billing_cycle_anchor == reset.billing_cycle_anchor
    assert unchanged.latest_invoice == reset.latest_invoice
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"billing_cycle_anchor": "now"})
    assert exc.value.param == "proration_behavior"


def test_renewal_invoices_say_when_they_are_collected(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    sub = subscribe(client, donor(client))
    invoice = renewal(client, advance(standin, sub.id))
    events = {
        e.type: e for e in client.v1.events.list(params={"limit": 100}).data if e.data.object.id == invoice.id
    }
    for name in ("invoice.created", "invoice.finalized"):
        attempt = events[name].data.object.next_payment_attempt
        assert attempt is not None and abs(attempt - invoice.created) <= 1
    assert invoice.next_payment_attempt is None  # paid: nothing more to attempt


def test_default_payment_method_pays_later_invoices(
    client: stripe.StripeClient, standin: RunningStandin
) -> None:
    customer = donor(client)
    second = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": customer.id})
    sub = subscribe(client, customer, default_payment_method=second.id)
    assert sub.default_payment_method == second.id
    first = client.v1.invoice_payments.list(params={"invoice": sub.latest_invoice}).data[0]
    assert client.v1.payment_intents.retrieve(first.payment.payment_intent).payment_method == second.id
    third = client.v1.payment_methods.attach("pm_card_ca", params={"customer": customer.id})
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": third.id})
    assert updates(client, sub.id)[-1].data.previous_attributes.default_payment_method == second.id
    invoice_id = advance(standin, sub.id)["latest_invoice"]
    payment = client.v1.invoice_payments.list(params={"invoice": invoice_id}).data[0]
    intent = client.v1.payment_intents.retrieve(
        payment.payment.payment_intent, params={"expand": ["latest_charge"]}
    )
    assert intent.payment_method == third.id
    assert intent.latest_charge.payment_method_details.card.country == "CA"

    # The customer's invoice default is the fallback once the subscription has none.
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": ""})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": second.id}}
    )
    invoice_id = advance(standin, sub.id)["latest_invoice"]
    payment = client.v1.invoice_payments.list(params={"invoice": invoice_id}).data[0]
    assert client.v1.payment_intents.retrieve(payment.payment.payment_intent).payment_method == second.id
