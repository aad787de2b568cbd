"""The Stripe webhook: signed events applied exactly once, in any order, to donation, donor,
aggregate and page totals. Events are signed with the test secret; nothing is patched."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import (
    DonationModel,
    DonorAggregateModel,
    DonorModel,
    ProcessedEventModel,
)
from tests.helpers import sign, stripe_event

pytestmark = pytest.mark.stack


def start(api, amount: int = 2700, email: str | None = None) -> tuple[str, dict[str, Any]]:
    page = api.create_page()
    started = api.donate(page["slug"], amount_cents=amount, email=email)
    return page["slug"], started


def pi_id(started: dict[str, Any]) -> str:
    return started["client_secret"].split("_secret_")[0]


def succeeded(started: dict[str, Any]) -> dict[str, Any]:
    return stripe_event("payment_intent.succeeded", id=pi_id(started), amount=started["amount_cents"],
                        amount_received=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]})


def refunded(started: dict[str, Any], cents: int) -> dict[str, Any]:
    return stripe_event("charge.refunded", payment_intent=pi_id(started), amount=started["amount_cents"],
                        amount_refunded=cents, refunded=cents >= started["amount_cents"])


def dispute(started: dict[str, Any], kind: str, status: str = "needs_response") -> dict[str, Any]:
    return stripe_event(f"charge.dispute.{kind}", payment_intent=pi_id(started), status=status)


def totals(api, slug: str) -> tuple[int, int]:
    page = api.public(slug)
    return page["raised_cents"], page["contribution_count"]


def test_success_records_contribution_donor_aggregate_and_totals(api) -> None:
    email = f"Maria.Lopez.{time.time_ns()}@Example.org"
    slug, started = start(api, 2700, email=email)
    status, body = api.webhook(succeeded(started))
    assert status == 200 and body["outcome"] == "applied"
    donation = api.donation(started["donation_id"])
    assert donation["status"] == "succeeded"
    assert totals(api, slug) == (2700, 1)
    donor = DonorModel.get(donor_id_for(email))
    assert donor.email == email.split("@")[0] + "@example.org"
    assert (donor.first_name, donor.zip, donor.occupation) == ("Ana", "62701", "Librarian")
    aggregate = DonorAggregateModel.get(donor.donor_id, "C00123456#P2026")
    assert (aggregate.net_cents, aggregate.contribution_count) == (2700, 1)


def test_one_donor_per_person_across_donations(api) -> None:
    email = f"same.{time.time_ns()}@example.org"
    slug, first = start(api, 1000, email=email)
    second = api.donate(slug, amount_cents=2500, email=email.upper())
    api.webhook(succeeded(first))
    api.webhook(succeeded(second))
    assert api.donation(first["donation_id"])["donor_id"] == api.donation(second["donation_id"])["donor_id"]
    aggregate = DonorAggregateModel.get(donor_id_for(email), "C00123456#P2026")
    assert (aggregate.net_cents, aggregate.contribution_count) == (3500, 2)
    by_donor = {d.donation_id for d in DonationModel.by_donor.query(donor_id_for(email))}
    assert by_donor == {first["donation_id"], second["donation_id"]}


def test_duplicate_delivery_changes_nothing(api) -> None:
    slug, started = start(api)
    event = succeeded(started)
    assert api.webhook(event)[1]["outcome"] == "applied"
    for _ in range(3):
        status, body = api.webhook(event)
        assert status == 200 and body["outcome"] == "duplicate"
    assert totals(api, slug) == (2700, 1)


def test_concurrent_duplicates_count_once(api, client) -> None:
    from chalice.test import Client

    from app import app

    slug, started = start(api)
    body = json.dumps(succeeded(started))
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body)}

    def deliver(_: int) -> int:
        with Client(app, stage_name="dev") as own:
            return own.http.post("/webhooks/stripe", headers=headers, body=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(deliver, range(8)))
    assert set(statuses) == {200}
    assert totals(api, slug) == (2700, 1)
    assert api.donation(started["donation_id"])["status"] == "succeeded"


def test_concurrent_different_events_on_one_donation_serialize(api) -> None:
    from chalice.test import Client

    from app import app

    slug, started = start(api, 5000)
    events = [succeeded(started), refunded(started, 1000), refunded(started, 2500)]

    def deliver(event: dict[str, Any]) -> int:
        body = json.dumps(event)
        with Client(app, stage_name="dev") as own:
            return own.http.post("/webhooks/stripe", body=body, headers={
                "Content-Type": "application/json", "Stripe-Signature": sign(body)}).status_code

    for _ in range(3):  # Stripe retries anything that was not 2xx
        with ThreadPoolExecutor(max_workers=3) as pool:
            statuses = list(pool.map(deliver, events))
        if set(statuses) == {200}:
            break
    assert totals(api, slug) == (2500, 1)
    assert api.donation(started["donation_id"])["refunded_cents"] == 2500


def test_refund_before_success_converges(api) -> None:
    slug_a, in_order = start(api, 4000)
    slug_b, reordered = start(api, 4000)
    api.webhook(succeeded(in_order))
    api.webhook(refunded(in_order, 1500))
    api.webhook(refunded(reordered, 1500))
    api.webhook(succeeded(reordered))
    for slug, started in ((slug_a, in_order), (slug_b, reordered)):
        assert totals(api, slug) == (2500, 1)
        donation = api.donation(started["donation_id"])
        assert (donation["status"], donation["refunded_cents"]) == ("succeeded", 1500)


def test_partial_then_full_refund(api) -> None:
    slug, started = start(api, 2700)
    api.webhook(succeeded(started))
    api.webhook(refunded(started, 700))
    assert totals(api, slug) == (2000, 1)
    api.webhook(refunded(started, 2700))
    assert totals(api, slug) == (0, 0)
    donation = api.donation(started["donation_id"])
    assert (donation["status"], donation["refunded_cents"]) == ("refunded", 2700)
    aggregate = DonorAggregateModel.get(donation["donor_id"], "C00123456#P2026")
    assert (aggregate.net_cents, aggregate.contribution_count) == (0, 0)


@pytest.mark.parametrize(("outcome", "expected"), [("won", (2700, 1, "succeeded")),
                                                   ("lost", (0, 0, "disputed"))])
def test_dispute_removes_money_until_won(api, outcome: str, expected: tuple) -> None:
    slug, started = start(api, 2700)
    api.webhook(succeeded(started))
    api.webhook(dispute(started, "created"))
    assert totals(api, slug) == (0, 0)
    assert api.donation(started["donation_id"])["status"] == "disputed"
    api.webhook(dispute(started, "closed", status=outcome))
    assert (*totals(api, slug), api.donation(started["donation_id"])["status"]) == expected


def test_failed_payment_marks_the_donation_failed(api) -> None:
    slug, started = start(api)
    failed = stripe_event("payment_intent.payment_failed", id=pi_id(started),
                          metadata={"donation_id": started["donation_id"]})
    assert api.webhook(failed)[1]["outcome"] == "applied"
    assert api.donation(started["donation_id"])["status"] == "failed"
    assert totals(api, slug) == (0, 0)


def test_unhandled_and_unmatched_events_are_acknowledged(api) -> None:
    assert api.webhook(stripe_event("customer.created")) == (200, {"received": True, "outcome": "ignored"})
    stray = stripe_event("charge.refunded", payment_intent="pi_not_ours", amount_refunded=100)
    assert api.webhook(stray) == (200, {"received": True, "outcome": "unmatched"})


@pytest.mark.parametrize("case", ["missing", "garbage", "wrong_secret", "expired", "tampered"])
def test_bad_signatures_are_refused_and_write_nothing(api, case: str) -> None:
    slug, started = start(api)
    event = succeeded(started)
    body = json.dumps(event)
    headers = {"Content-Type": "application/json"}
    if case == "garbage":
        headers["Stripe-Signature"] = "t=1,v1=deadbeef"
    elif case == "wrong_secret":
        headers["Stripe-Signature"] = sign(body, secret="whsec_someone_else")
    elif case == "expired":
        headers["Stripe-Signature"] = sign(body, timestamp=int(time.time()) - 301)
    elif case == "tampered":
        headers["Stripe-Signature"] = sign(body)
        body = body.replace('"amount": 2700', '"amount": 270000')
    status, error = api.call("POST", "/webhooks/stripe", raw=body, headers=headers)
    assert status == 400 and error["error"]["code"] == "bad_signature"
    assert totals(api, slug) == (0, 0)
    assert ProcessedEventModel.count(event["id"]) == 0


def test_signed_non_event_and_livemode_mismatch_are_400(api) -> None:
    body = json.dumps({"hello": "world"})
    status, error = api.call("POST", "/webhooks/stripe", raw=body,
                             headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)})
    assert status == 400 and error["error"]["code"] == "not_an_event"
    slug, started = start(api)
    live = succeeded(started)
    live["livemode"] = True
    status, error = api.webhook(live)
    assert status == 400 and error["error"]["code"] == "livemode_mismatch"
    assert totals(api, slug) == (0, 0)


def test_oversized_webhook_body_is_refused(api) -> None:
    event = stripe_event("customer.created", description="x" * 70_000)
    status, error = api.webhook(event)
    assert status == 413 and error["error"]["code"] == "body_too_large"


def test_a_payment_webhook_costs_two_dynamodb_requests_and_a_duplicate_one(api) -> None:
    from tests.dynamo_counter import dynamodb_requests

    slug, started = start(api)
    event = succeeded(started)
    api.public(slug)  # build clients outside the measured block
    with dynamodb_requests() as first:
        assert api.webhook(event)[1]["outcome"] == "applied"
    assert sum(first.values()) <= 2, first
    with dynamodb_requests() as again:
        assert api.webhook(event)[1]["outcome"] == "duplicate"
    assert sum(again.values()) == 1, again


def test_a_success_reads_a_stale_committee_in_its_first_request(api, stripe_api) -> None:
    from chalicelib import deps
    from tests.dynamo_counter import dynamodb_requests

    slug, started = start(api)
    intent = stripe_api.get(f"{stripe_api.base_url}/v1/payment_intents/{pi_id(started)}").json()
    assert intent["metadata"]["committee_id"] == "C00123456"  # intake tags the payment
    event = succeeded(started)
    event["data"]["object"]["metadata"] = intent["metadata"]  # as Stripe sends it back
    api.public(slug)
    deps.committees().forget("C00123456")  # its cached copy is past its minute
    with dynamodb_requests() as first:
        assert api.webhook(event)[1]["outcome"] == "applied"
    assert sum(first.values()) == 2, first
    assert not deps.committees().stale("C00123456")


def test_each_money_movement_is_recorded_once_with_its_time(api) -> None:
    from chalicelib.storage.models import MovementModel

    slug, started = start(api, 2700)
    paid = succeeded(started)
    paid["created"] = 1_767_225_600  # 2026-01-01T00:00:00Z
    api.webhook(paid)
    api.webhook(paid)
    api.webhook(refunded(started, 700))
    api.webhook(dispute(started, "created"))
    api.webhook(dispute(started, "closed", status="won"))
    moved = sorted((m.kind, int(m.amount_cents)) for m in
                   MovementModel.scan(MovementModel.donation_id == started["donation_id"]))
    assert moved == [("contribution", 2700), ("dispute", -2000), ("dispute_reversal", 2000),
                     ("refund", -700)]
    contribution = next(MovementModel.scan(MovementModel.movement_id == f"{paid['id']}#contribution"))
    assert contribution.occurred_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert contribution.ledger_key.startswith("C00123456#2026-01#")
    assert sum(a for _, a in moved) == totals(api, slug)[0] == 2000


def test_duplicate_refund_and_dispute_events_change_nothing(api) -> None:
    slug, started = start(api, 2700)
    api.webhook(succeeded(started))
    refund = refunded(started, 700)
    opened = dispute(started, "created")
    for event in (refund, refund, opened, opened, refund):
        status, body = api.webhook(event)
        assert status == 200, body
    assert api.webhook(refund)[1]["outcome"] == "duplicate"
    assert api.webhook(opened)[1]["outcome"] == "duplicate"
    donation = api.donation(started["donation_id"])
    assert (donation["status"], donation["refunded_cents"]) == ("disputed", 700)
    assert totals(api, slug) == (0, 0)
