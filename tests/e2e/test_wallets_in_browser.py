"""A wallet gift in Debian's chromium: the Express Checkout Element appears only once the FEC
fields and attestations are filled in, pays the PaymentIntent intake created (the stand-in's
test wallet completes like Apple Pay), Stripe's redirect lands on the thank-you page with
`redirect_status`, and the contributions CSV says `apple_pay`."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.e2e.test_donate_in_browser import browser, fill_card, fill_donor  # noqa: F401 - the fixture
from tests.e2e.test_page_features_in_browser import create_page
from tests.helpers import FINANCE_KEY, run_export, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]


def test_a_wallet_gift_completes_and_is_exported_as_a_wallet(browser, live_server: str, api) -> None:  # noqa: F811
    committee_id = "C" + "".join(random.choices("0123456789", k=8))
    slug = create_page(live_server, committee_id=committee_id)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    page.get_by_role("button", name="$27", exact=True).click()
    wallet = page.get_by_role("button", name="Pay with test wallet")
    assert not wallet.is_visible()  # nothing to pay for yet: no FEC fields, no attestations
    fill_donor(page, "wallet.donor@example.org")
    page.uncheck("input[name=personal_card]")
    assert not wallet.is_visible()  # every attestation first
    page.check("input[name=personal_card]")
    wallet.wait_for(state="visible", timeout=5_000)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/donations")) as intake:
        wallet.click()
    assert intake.value.post_data_json["donor"]["last_name"] == "Núñez"
    page.wait_for_url("**/thanks?**", timeout=15_000)
    query = parse_qs(urlparse(page.url).query)
    assert query["redirect_status"] == ["succeeded"] and query["payment_intent"][0].startswith("pi_")
    assert page.locator("h1").inner_text() == "Thank you!"
    donation_id = query["donation_id"][0]

    def donation() -> dict:
        return requests.get(f"{live_server}/api/admin/donations/{donation_id}",
                            headers=staff(FINANCE_KEY), timeout=5).json()

    wait_for(lambda: donation()["status"] == "succeeded", timeout=10)

    def exported() -> dict | None:
        day = datetime.now(timezone.utc).date().isoformat()
        rows = [r for r in csv.DictReader(io.StringIO(run_export(api, committee_id, day)))
                if r["donation_id"] == donation_id and r["row_type"] == "contribution"]
        return rows[0] if rows and rows[0]["wallet"] else None

    row = wait_for(exported, timeout=15, interval=1)  # charge.succeeded may land a moment later
    assert row["wallet"] == "apple_pay" and row["amount_cents"] == "2700"
    context.close()


def test_the_thank_you_page_says_what_stripes_redirect_says(browser, live_server: str) -> None:  # noqa: F811
    slug = create_page(live_server)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}/thanks?donation_id=don_x&redirect_status=failed")
    assert "did not go through" in page.locator("h1").inner_text()
    assert "Nothing was charged" in page.locator("#payment-outcome").inner_text()
    page.goto(f"{live_server}/donate/{slug}/thanks?redirect_status=processing")
    assert "processing" in page.locator("h1").inner_text()
    context.close()
