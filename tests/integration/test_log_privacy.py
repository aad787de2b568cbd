"""Logs are structured JSON lines (aws-lambda-powertools) carrying the request id, and a full
donation leaves no personal data, card data or secret in them.

All log output of one donation is captured, at INFO for every logger (the app's, botocore's,
the stripe SDK's, Chalice's): the intake, the card charged and partly refunded at the Stripe
stand-in, their real webhook events signed and delivered, the thank-you page, and the outbox
drained with the thank-you email sent.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest
import stripe

from chalicelib import deps
from chalicelib.config import settings
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, WEBHOOK_SECRET, captured_logs, donation_body, sign

pytestmark = pytest.mark.stack

EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
CARD_PATTERN = re.compile(r"\b4242[ -]?4242[ -]?4242[ -]?4242\b|last4\W{1,6}\d{4}|\bexp_(month|year)\b")
SECRET_PATTERN = re.compile(r"\b(sk|rk)_(test|live)_\w+|\bwhsec_\w+|_secret_\w+|Bearer\s+\S+")


def signed_post(api: Any, event: dict[str, Any]) -> tuple[int, Any]:
    body = json.dumps(event)
    return api.call("POST", "/webhooks/stripe", raw=body, headers={"Stripe-Signature": sign(body)})


def stand_in_events(stripe_url: str, intent_id: str) -> list[dict[str, Any]]:
    """The stand-in's own events for this PaymentIntent (as Stripe would send them)."""
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_url})
    found = []
    for event in client.v1.events.list(params={"limit": 100}).data:
        obj = event.to_dict()["data"]["object"]
        if event.type in ("payment_intent.succeeded", "charge.refunded") and intent_id in (
                obj.get("id"), obj.get("payment_intent")):
            found.append(event.to_dict())
    return found[::-1]  # the list is newest first


def test_a_full_donation_logs_json_with_request_ids_and_no_personal_data_or_secret(
        api, local_stack, capfd) -> None:
    slug = api.create_page()["slug"]
    tag = uuid.uuid4().hex[:8]
    donor = {
        "first_name": "Zebediah", "last_name": f"Quillfeather{tag}",
        "email": f"zebediah.q.{tag}@example.org", "phone": "+1 555 867 5309",
        "address": {"line1": "742 Evergreen Terrace", "line2": "Apt 9", "city": "Shelbyville",
                    "state": "IL", "zip": "62565"},
        "employer": "Acme Rocketworks", "occupation": "Test Pilot",
    }
    body = donation_body(2700, interests=["canvass"], email_opt_in=True)
    body["donor"] = donor
    stripe_client = stripe.StripeClient("sk_test_local_standin",
                                        base_addresses={"api": local_stack["stripe_url"]})
    with captured_logs() as out:
        status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
        assert status == 201, started
        intent_id = started["client_secret"].split("_secret_")[0]
        stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 700})
        events = stand_in_events(local_stack["stripe_url"], intent_id)
        assert [e["type"] for e in events] == ["payment_intent.succeeded", "charge.refunded"]
        for event in events:
            event["created"] = int(time.time())
            status, answer = signed_post(api, event)
            assert (status, answer["outcome"]) == (200, "applied"), answer
        assert api.call("GET", f"/donate/{slug}/thanks?donation_id={started['donation_id']}")[0] == 200
        drain_until(delivered(f"thanks#{started['donation_id']}"))
        assert api.donation(started["donation_id"])["refunded_cents"] == 700
    printed = capfd.readouterr()
    text = out.getvalue() + printed.out + printed.err
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) >= 4, text

    # Structured: every line is a JSON object; the app's lines in a request carry its id.
    records = [json.loads(line) for line in lines]
    assert all(isinstance(r, dict) and r.get("message") for r in records)
    app_lines = [r for r in records if r.get("service") == "groundswell" and r["message"] in (
        "donation started", "stripe event")]
    assert len(app_lines) == 3 and all(r.get("request_id") for r in app_lines)
    assert len({r["request_id"] for r in app_lines}) == 3

    # Private: no personal data, card data or secret anywhere in the output.
    forbidden = [donor["first_name"], donor["last_name"], donor["email"], donor["email"].split("@")[0],
                 donor["phone"], "867 5309", donor["address"]["line1"], "Evergreen",
                 donor["address"]["city"], donor["employer"], donor["occupation"],
                 started["client_secret"], settings().stripe_secret_key, WEBHOOK_SECRET,
                 settings().token_secret, settings().identity_secret, ORGANIZER_KEY, FINANCE_KEY]
    leaked = [value for value in forbidden if value.lower() in text.lower()]
    assert not leaked, f"leaked {leaked} in:\n{text}"
    for pattern in (EMAIL_PATTERN, CARD_PATTERN, SECRET_PATTERN):
        assert not pattern.search(text), f"{pattern.pattern} matched {pattern.search(text)} in:\n{text}"
    deps.reset()  # the drain above used the app's services; leave them as other tests expect
