"""Monthly gifts the donor controls, in Debian's chromium against the running stack: from the
emailed link, an amount above what the law still allows is refused and one below is applied at
the stand-in; pause and resume; a new card through the Payment Element ends up on the gift."""

from __future__ import annotations

import re

import pytest
import stripe

from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser  # noqa: F401 - the fixture
from tests.e2e.test_donor_pages_accessible import _page, _paid
from tests.e2e.test_standin_elements import type_card

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]


def test_a_donor_changes_their_monthly_gift_in_the_browser(browser, live_server: str, local_stack) -> None:  # noqa: F811
    from chalicelib import deps, tokens

    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    gift = _paid(live_server, local_stack["stripe_url"], _page(live_server), recurring="monthly",
                 recurring_consent=True)
    sub = gift["subscription_id"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/me?t={deps.tokens().issue(tokens.PORTAL, gift['donor_id'])}")
    page.get_by_role("button", name="Open my giving").click()
    page.get_by_role("heading", name="Monthly gifts").wait_for()
    assert_accessible(page, "the portal with a monthly gift")

    amount = page.get_by_label("New monthly amount in dollars")
    amount.fill("3500")
    page.get_by_role("button", name=re.compile("^Change the amount")).click()
    assert "Federal law lets you give at most" in page.inner_text("main")
    assert client.v1.subscriptions.retrieve(sub)["items"]["data"][0]["price"]["unit_amount"] == 2_700

    page.goto(f"{live_server}/me")
    page.get_by_label("New monthly amount in dollars").fill("30")
    page.get_by_role("button", name=re.compile("^Change the amount")).click()
    page.get_by_role("status").filter(has_text="monthly gift is changed").wait_for()
    assert "$30 a month" in page.inner_text("main")
    assert client.v1.subscriptions.retrieve(sub)["items"]["data"][0]["price"]["unit_amount"] == 3_000

    page.get_by_role("button", name=re.compile("^Pause this monthly gift")).click()
    page.get_by_role("button", name=re.compile("^Resume this monthly gift")).wait_for()
    assert client.v1.subscriptions.retrieve(sub).pause_collection.behavior == "void"
    page.get_by_role("button", name=re.compile("^Resume this monthly gift")).click()
    page.get_by_role("button", name=re.compile("^Pause this monthly gift")).wait_for()
    assert client.v1.subscriptions.retrieve(sub).pause_collection is None

    page.get_by_role("button", name="Replace the card for all my monthly gifts").click()
    page.get_by_role("heading", name="A new card for your monthly gifts").wait_for()
    type_card(page, "5555 5555 5555 4444")
    assert_accessible(page, "the new card page")
    page.get_by_role("button", name="Save the new card").click()
    page.wait_for_url(f"{live_server}/me?done=card", timeout=10_000)
    method = client.v1.subscriptions.retrieve(sub).default_payment_method
    assert client.v1.payment_methods.retrieve(method).card.last4 == "4444"
    customer = client.v1.customers.retrieve(client.v1.subscriptions.retrieve(sub).customer)
    assert customer.invoice_settings.default_payment_method == method
    context.close()
