"""The wallet a card was paid through (Apple Pay at the stand-in) is recorded on the ledger
movement from the signed `charge.succeeded` (`payment_method_details.card.wallet.type`), in
either delivery order, and shows in the contributions CSV; a payment webhook still costs two
DynamoDB requests, and a declined wallet card counts against its fingerprint like any card."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

from chalicelib import deps
from tests.conftest import deliver_webhooks_to
from tests.helpers import donation_body, pay_with_wallet, run_export

pytestmark = pytest.mark.stack


def standin(local_stack: dict[str, Any]) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})


def give(api: Any, slug: str) -> dict[str, Any]:
    status, started = api.call("POST", f"/api/pages/{slug}/donations",
                               donation_body(3_100, email=f"w.{uuid.uuid4().hex[:10]}@example.org"))
    assert status == 201, started
    return dict(started)


def events_of(local_stack: dict[str, Any], intent: str) -> dict[str, dict[str, Any]]:
    """The stand-in's signed-to-be `payment_intent.succeeded` and `charge.succeeded` of `intent`."""
    client, found = standin(local_stack), {}
    for kind, field in (("payment_intent.succeeded", "id"), ("charge.succeeded", "payment_intent")):
        events = client.v1.events.list(params={"type": kind, "limit": 100})
        (event,) = [e for e in events.data if e.data.object[field] == intent]
        found[kind] = event.to_dict()
    return found


def rows(api: Any, committee_id: str) -> dict[str, dict[str, str]]:
    day = datetime.now(timezone.utc).date().isoformat()
    return {r["donation_id"]: r for r in csv.DictReader(io.StringIO(run_export(api, committee_id, day)))
            if r["row_type"] == "contribution"}


def test_the_wallet_is_on_the_movement_in_either_order_and_in_the_export(api, local_stack) -> None:
    from tests.dynamo_counter import dynamodb_requests

    committee_id = "C" + "".join(random.choices("0123456789", k=8))
    slug = api.create_page(committee_id=committee_id)["slug"]
    deliver_webhooks_to(local_stack, None)  # the stand-in records events; this test delivers them
    deps.committees().get(committee_id)  # as the webhook's warm container caches it
    charge_first, payment_first, typed = give(api, slug), give(api, slug), give(api, slug)
    # Three cards (one card for donors of different names would be a review signal of its own).
    for started, card in ((charge_first, "4242424242424242"), (payment_first, "5555555555554444")):
        paid_with = pay_with_wallet(local_stack["stripe_url"], started["client_secret"], card=card)
        assert paid_with["status"] == "succeeded", paid_with
    standin(local_stack).v1.payment_intents.confirm(typed["client_secret"].split("_secret_")[0],
                                                    params={"payment_method": "pm_card_amex"})

    def events(started: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return events_of(local_stack, started["client_secret"].split("_secret_")[0])

    first = events(charge_first)
    card = first["charge.succeeded"]["data"]["object"]["payment_method_details"]["card"]
    assert card["wallet"]["type"] == "apple_pay"
    assert api.webhook(first["charge.succeeded"])[1]["outcome"] == "applied"  # still pending
    with dynamodb_requests() as paid:
        assert api.webhook(first["payment_intent.succeeded"])[1]["outcome"] == "applied"
    assert sum(paid.values()) <= 2, paid

    second = events(payment_first)
    assert api.webhook(second["payment_intent.succeeded"])[1]["outcome"] == "applied"
    with dynamodb_requests() as checked:
        assert api.webhook(second["charge.succeeded"])[1]["outcome"] == "applied"
    assert sum(checked.values()) <= 2, checked
    assert api.webhook(second["charge.succeeded"])[1]["outcome"] == "duplicate"

    third = events(typed)
    for kind in ("payment_intent.succeeded", "charge.succeeded"):
        assert api.webhook(third[kind])[1]["outcome"] == "applied"

    store = deps.donation_store()
    for started in (charge_first, payment_first):
        (movement,) = [m for m in _movements(started["donation_id"]) if m.kind == "contribution"]
        assert movement.wallet == "apple_pay"
        assert store.get(started["donation_id"]).card_wallet == "apple_pay"
    exported = rows(api, committee_id)
    assert exported[charge_first["donation_id"]]["wallet"] == "apple_pay"
    assert exported[payment_first["donation_id"]]["wallet"] == "apple_pay"
    assert exported[typed["donation_id"]]["wallet"] == ""


def _movements(donation_id: str) -> list[Any]:
    from chalicelib.storage.models import MovementModel

    return list(MovementModel.by_donation.query(donation_id))


def test_a_declined_wallet_card_counts_against_its_fingerprint(api, local_stack) -> None:
    """Card testing through a wallet: the decline's payment method carries the card's
    fingerprint, so the card's velocity counter moves as for a card typed in."""
    from chalicelib.giving.velocity import card_keys

    slug = api.create_page()["slug"]
    deliver_webhooks_to(local_stack, None)
    started = give(api, slug)
    refused = pay_with_wallet(local_stack["stripe_url"], started["client_secret"], card="4000000000000002")
    assert refused["error"]["decline_code"] == "generic_decline", refused
    intent = started["client_secret"].split("_secret_")[0]
    events = standin(local_stack).v1.events.list(
        params={"type": "payment_intent.payment_failed", "limit": 100})
    (failed,) = [e.to_dict() for e in events.data if e.data.object["id"] == intent]
    card = failed["data"]["object"]["last_payment_error"]["payment_method"]["card"]
    assert card["wallet"]["type"] == "apple_pay" and card["fingerprint"]
    assert api.webhook(failed)[1]["outcome"] == "applied"
    velocity = deps.donation_store().velocity
    assert velocity is not None
    when = datetime.fromtimestamp(failed["created"], timezone.utc)
    counts = velocity.card_counts(card["fingerprint"], when)
    key_now, _ = card_keys(card["fingerprint"], when, velocity.limits)
    assert counts.get(key_now, 0) >= 1, counts
