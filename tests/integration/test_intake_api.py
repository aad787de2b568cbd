"""Donation intake: a pending donation and a real PaymentIntent at the Stripe stand-in."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.storage.models import DonationModel
from tests.helpers import ORGANIZER_KEY, ElectionCalendar, donation_body, staff, unique_ip

pytestmark = pytest.mark.stack


def donation_count() -> int:
    return DonationModel.count()


def test_intake_creates_a_pending_donation_and_a_tagged_payment_intent(api, stripe_api) -> None:
    page = api.create_page()
    started = api.donate(page["slug"], amount_cents=2700, refcode="email-nov")
    assert started["status"] == "pending" and started["amount_cents"] == 2700
    assert started["publishable_key"].startswith("pk_test_")
    intent_id = started["client_secret"].split("_secret_")[0]
    intent = stripe_api.get(f"{stripe_api.base_url}/v1/payment_intents/{intent_id}").json()
    assert intent["amount"] == 2700 and intent["currency"] == "usd"
    assert intent["metadata"]["donation_id"] == started["donation_id"]
    donation = api.donation(started["donation_id"])
    assert donation["status"] == "pending" and donation["payment_intent_id"] == intent_id
    assert donation["page"] == page["slug"] and donation["election"] == "P2026"
    assert donation["refcode"] == "email-nov" and donation["refunded_cents"] == 0


def test_same_idempotency_key_returns_the_same_donation_and_intent(api) -> None:
    page = api.create_page()
    body = donation_body()
    first = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    before = donation_count()
    second = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    assert first[0] == second[0] == 201
    assert first[1]["donation_id"] == second[1]["donation_id"]
    assert first[1]["client_secret"] == second[1]["client_secret"]
    assert donation_count() == before


def test_reused_idempotency_key_with_other_details_is_a_conflict(api) -> None:
    page = api.create_page()
    body = donation_body()
    assert api.call("POST", f"/api/pages/{page['slug']}/donations", body)[0] == 201
    status, error = api.call("POST", f"/api/pages/{page['slug']}/donations", {**body, "amount_cents": 5000})
    assert status == 409 and error["error"]["code"] == "idempotency_key_reused"


def test_election_defaults_to_the_pages_and_may_be_chosen(api) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.primary, [calendar.primary, calendar.general])
    primary = api.donate(slug)
    assert api.donation(primary["donation_id"])["election"] == calendar.primary
    general = api.donate(slug, election=calendar.general.lower())
    assert api.donation(general["donation_id"])["election"] == calendar.general


def bad(body: dict, path: list[str], value: object) -> dict:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(("path", "value", "field"), [
    (["amount_cents"], 99, "amount_cents"),
    (["amount_cents"], 27.0, "amount_cents"),
    (["attestations", "own_funds"], False, "attestations.own_funds"),
    (["donor", "address", "state"], "XX", "donor.address.state"),
    (["donor", "address", "zip"], "9021", "donor.address.zip"),
    (["donor", "email"], "ana@", "donor.email"),
    (["donor", "employer"], "", "donor.employer"),
    (["donor", "occupation"], None, "donor.occupation"),
])
def test_invalid_donations_are_400_with_fields_and_write_nothing(api, path, value, field) -> None:
    page = api.create_page()
    before = donation_count()
    body = bad(donation_body(), path, value)
    status, error = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    assert status == 400, error
    assert error["error"]["code"] == "invalid_request" and field in error["error"]["fields"]
    assert donation_count() == before


def test_closed_page_refuses_donations(api) -> None:
    page = api.create_page()
    api.call("PUT", f"/api/admin/pages/{page['slug']}", {"deadline": "2021-01-01T00:00:00Z"},
             staff(ORGANIZER_KEY))
    before = donation_count()
    status, error = api.call("POST", f"/api/pages/{page['slug']}/donations", donation_body())
    assert status == 409 and error["error"]["code"] == "page_closed"
    assert donation_count() == before


def test_unknown_page_malformed_json_and_oversized_bodies(api) -> None:
    assert api.call("POST", "/api/pages/nope-nope/donations", donation_body())[0] == 404
    status, error = api.call("POST", "/api/pages/demo/donations", raw="{not json")
    assert status == 400 and error["error"]["code"] == "invalid_json"
    assert api.call("POST", "/api/pages/demo/donations", raw="[1, 2]")[0] == 400
    status, error = api.call("POST", "/api/pages/demo/donations", raw='{"x": "' + "a" * 70_000 + '"}')
    assert status == 413 and error["error"]["code"] == "body_too_large"


def test_organizers_see_donations_without_donor_pii_finance_with(api) -> None:
    page = api.create_page()
    started = api.donate(page["slug"])
    as_organizer = api.donation(started["donation_id"], key=ORGANIZER_KEY)
    assert "donor" not in as_organizer and as_organizer["donor_id"].startswith("dnr_")
    assert "@" in api.donation(started["donation_id"])["donor"]["email"]
    assert api.call("GET", f"/api/admin/donations/{started['donation_id']}")[0] == 401
    assert api.call("GET", "/api/admin/donations/don_missing", headers=staff(ORGANIZER_KEY))[0] == 404


def test_intake_costs_three_dynamodb_requests(api) -> None:
    """Issue 18: the page and committee from the container's copy, one BatchGetItem (the
    donor's identities and the address's velocity counters), one TransactWriteItems (the
    pending donation, its reservation and its counts) and the PaymentIntent's UpdateItem."""
    from chalicelib.giving.velocity import pending_key
    from chalicelib.storage.models import VelocityModel
    from tests.dynamo_counter import dynamodb_requests

    slug = api.create_page()["slug"]
    api.donate(slug)  # clients built, page and committee read into the container's copies
    address = {"X-Forwarded-For": unique_ip()}
    with dynamodb_requests() as calls:
        status, started = api.call("POST", f"/api/pages/{slug}/donations", donation_body(), address)
    assert status == 201, started
    assert dict(calls) == {"BatchGetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}, calls
    # The counts went with the donation: one pending from this address.
    created = DonationModel.get(started["donation_id"]).created_at
    assert VelocityModel.get(pending_key(address["X-Forwarded-For"], created)).hits == 1


def test_a_donor_linked_by_name_and_zip_costs_one_read_more(api) -> None:
    """The linked person's net giving is read once their id is known (it counts against the
    limit, and the commit requires it unchanged): four requests, never more."""
    from tests.dynamo_counter import dynamodb_requests
    from tests.helpers import stripe_event

    slug = api.create_page()["slug"]
    first = donation_body(2_700)
    paid = api.call("POST", f"/api/pages/{slug}/donations", first)[1]
    assert api.webhook(stripe_event(
        "payment_intent.succeeded", id=paid["client_secret"].split("_secret_")[0], amount=2_700,
        amount_received=2_700, metadata={"donation_id": paid["donation_id"]}))[1]["outcome"] == "applied"
    same_person = donation_body(1_000)
    same_person["donor"] = {**first["donor"], "email": f"other.{uuid.uuid4().hex[:8]}@example.org"}
    with dynamodb_requests() as calls:
        status, started = api.call("POST", f"/api/pages/{slug}/donations", same_person,
                                   {"X-Forwarded-For": unique_ip()})
    assert status == 201, started
    assert dict(calls) == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}
    assert api.donation(started["donation_id"])["donor_id"] == api.donation(paid["donation_id"])["donor_id"]
