"""Express giving through the running stack: a saved card, a confirmation step that charges
nothing by itself, then one confirmed, idempotent, limit-checked off-session gift."""

from __future__ import annotations

import uuid

import pytest
import requests
import stripe

from chalicelib import deps
from chalicelib.tokens import EXPRESS
from tests.helpers import ORGANIZER_KEY, donation_body, page_body, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server]
ATTEST = {"us_citizen_or_permanent_resident": True, "own_funds": True,
          "not_federal_contractor": True, "personal_card": True}


def test_saved_card_gives_again_only_when_confirmed(live_server, local_stack) -> None:
    page = page_body()
    requests.post(f"{live_server}/api/admin/pages", json=page, headers=staff(ORGANIZER_KEY), timeout=5)
    slug = page["slug"]

    def totals() -> tuple[int, int]:
        body = requests.get(f"{live_server}/api/pages/{slug}", timeout=5).json()
        return body["raised_cents"], body["contribution_count"]

    first = requests.post(f"{live_server}/api/pages/{slug}/donations", timeout=10,
                          json=donation_body(2700, save_payment_method=True)).json()
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(first["client_secret"].split("_secret_")[0],
                                      params={"payment_method": "pm_card_visa"})
    wait_for(lambda: totals() == (2700, 1), timeout=10)
    donor_id = requests.get(f"{live_server}/api/admin/donations/{first['donation_id']}",
                            headers=staff(ORGANIZER_KEY), timeout=5).json()["donor_id"]
    token = deps.tokens().issue(EXPRESS, donor_id, "C00123456")

    # Opening the link shows the confirmation step and charges nothing.
    confirm_page = requests.get(f"{live_server}/express/{slug}", params={"t": token, "amount": "5000"},
                                timeout=10)
    assert confirm_page.status_code == 200 and "ending in <strong>4242</strong>" in confirm_page.text
    assert 'value="50.00"' in confirm_page.text
    assert totals() == (2700, 1)

    body = {"token": token, "page": slug, "amount_cents": 5000, "attestations": ATTEST,
            "idempotency_key": "express-" + uuid.uuid4().hex}
    given = requests.post(f"{live_server}/api/express/donations", json=body, timeout=10)
    assert given.status_code == 201, given.text
    again = requests.post(f"{live_server}/api/express/donations", json=body, timeout=10)
    assert again.json()["donation_id"] == given.json()["donation_id"]
    wait_for(lambda: totals() == (7700, 2), timeout=10)

    over = {**body, "amount_cents": 350_000, "idempotency_key": "express-" + uuid.uuid4().hex}
    refused = requests.post(f"{live_server}/api/express/donations", json=over, timeout=10)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "over_limit"
    unattested = {**body, "idempotency_key": "express-" + uuid.uuid4().hex,
                  "attestations": {**ATTEST, "own_funds": False}}
    refused = requests.post(f"{live_server}/api/express/donations", json=unattested, timeout=10)
    assert refused.status_code == 400
    tampered = {**body, "token": token[:-3] + "xyz", "idempotency_key": "express-" + uuid.uuid4().hex}
    assert requests.post(f"{live_server}/api/express/donations", json=tampered, timeout=10).status_code == 400
    assert totals() == (7700, 2)


def test_a_donor_without_a_saved_card_cannot_use_express(api) -> None:
    slug = api.create_page()["slug"]
    token = deps.tokens().issue(EXPRESS, "dnr_nobody", "C00123456")
    status, error = api.call("POST", "/api/express/donations", {
        "token": token, "page": slug, "amount_cents": 1000, "attestations": ATTEST,
        "idempotency_key": "express-" + uuid.uuid4().hex})
    assert status == 409 and error["error"]["code"] == "no_saved_card"
