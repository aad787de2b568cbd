"""Card-testing defence: a burst of declines from one IP, then from rotating IPs with one email,
is stopped with 429 and Retry-After, while a normal donor in the same window gets through."""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib import deps
from chalicelib.storage.models import DonationModel
from tests.helpers import donation_body, stripe_event, unique_ip

pytestmark = pytest.mark.stack


def attempt(api, slug: str, ip: str, email: str, amount: int = 100) -> tuple[int, dict]:
    return api.call("POST", f"/api/pages/{slug}/donations", donation_body(amount, email=email),
                    {"X-Forwarded-For": ip})


def decline(api, started: dict, fingerprint: str = "fpTEST") -> None:
    event = stripe_event(
        "payment_intent.payment_failed", id=started["client_secret"].split("_secret_")[0],
        amount=started["amount_cents"], metadata={"donation_id": started["donation_id"]},
        last_payment_error={"type": "card_error", "code": "card_declined",
                            "payment_method": {"id": "pm_x", "card": {"fingerprint": fingerprint}}})
    assert api.webhook(event)[0] == 200


def test_a_burst_of_declines_from_one_ip_is_stopped(api) -> None:
    slug = api.create_page()["slug"]
    tester = unique_ip()
    blocked = 0
    for n in range(200):
        status, body = attempt(api, slug, tester, f"t{n}.{uuid.uuid4().hex[:6]}@example.org")
        if status == 201:
            decline(api, body, fingerprint=f"fp{n}")
        else:
            assert status == 429 and body["error"]["code"] == "rate_limited"
            blocked += 1
    assert blocked >= 195  # five declines, then every attempt is refused
    before = DonationModel.count()
    status, _ = attempt(api, slug, tester, "late@example.org")
    assert status == 429 and DonationModel.count() == before  # refused, nothing written
    # A real donor elsewhere, in the same ten minutes, gives without trouble.
    assert attempt(api, slug, unique_ip(), f"ok.{uuid.uuid4().hex[:6]}@example.org", 2700)[0] == 201


def test_rotating_ips_with_one_email_are_stopped(api, client) -> None:
    slug = api.create_page()["slug"]
    email = f"tester.{uuid.uuid4().hex[:8]}@example.org"
    statuses = []
    for _ in range(30):
        status, body = attempt(api, slug, unique_ip(), email)
        statuses.append(status)
        if status == 201:
            decline(api, body)
    assert statuses[:5] == [201] * 5 and set(statuses[5:]) == {429}
    response = client.http.post(f"/api/pages/{slug}/donations", body=json.dumps(
        donation_body(100, email=email)), headers={"Content-Type": "application/json",
                                                  "X-Forwarded-For": unique_ip()})
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 600
    assert attempt(api, slug, unique_ip(), f"ok.{uuid.uuid4().hex[:6]}@example.org", 2700)[0] == 201


def test_an_office_behind_one_address_is_not_blocked_by_the_intake_cap(api, monkeypatch) -> None:
    slug = api.create_page()["slug"]
    office = unique_ip()
    for n in range(40):  # many colleagues giving from one address, none declined, each paid
        status, started = attempt(api, slug, office, f"staff{n}.{uuid.uuid4().hex[:6]}@example.org", 500)
        assert status == 201, started
        assert api.webhook(stripe_event(
            "payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0], amount=500,
            amount_received=500, metadata={"donation_id": started["donation_id"]}))[1]["outcome"] == "applied"
    monkeypatch.setenv("INTAKES_PER_IP", "40")
    deps.reset()
    try:
        status, error = attempt(api, slug, office, f"one.more.{uuid.uuid4().hex[:6]}@example.org")
        assert status == 429 and error["error"]["code"] == "rate_limited"
    finally:
        monkeypatch.undo()  # the stack's own value again
        deps.reset()


def test_a_decline_costs_three_dynamodb_requests_and_its_duplicate_one(api) -> None:
    """The card's counters are one more read (a BatchGetItem) on a decline only; a success still
    costs two (test_webhooks), and any duplicate one."""
    from tests.dynamo_counter import dynamodb_requests

    slug = api.create_page()["slug"]
    status, started = attempt(api, slug, unique_ip(), f"d.{uuid.uuid4().hex[:6]}@example.org")
    assert status == 201
    event = stripe_event(
        "payment_intent.payment_failed", id=started["client_secret"].split("_secret_")[0],
        amount=started["amount_cents"], metadata={"donation_id": started["donation_id"]},
        last_payment_error={"type": "card_error", "code": "card_declined",
                            "payment_method": {"id": "pm_x", "card": {"fingerprint": "fpCOST"}}})
    with dynamodb_requests() as first:
        assert api.webhook(event)[1]["outcome"] == "applied"
    assert sum(first.values()) == 3 and first["BatchGetItem"] == 1, first
    with dynamodb_requests() as again:
        assert api.webhook(event)[1]["outcome"] == "duplicate"
    assert sum(again.values()) == 1, again
