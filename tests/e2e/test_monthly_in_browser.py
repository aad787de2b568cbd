"""Monthly gifts the donor controls, in Debian's chromium against the running stack: from the
emailed link, an amount above what the law still allows is refused and one below is applied at
the stand-in; pause and resume; a new card through the Payment Element ends up on the gift, and
on every gift when they sit on several Stripe customers."""

from __future__ import annotations

import re

import pytest
import requests
import stripe

from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser  # noqa: F401 - the fixture
from tests.e2e.test_donor_pages_accessible import _page, _paid
from tests.e2e.test_standin_elements import type_card
from tests.helpers import FINANCE_KEY, donation_body, staff, wait_for

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


def test_a_new_card_reaches_monthly_gifts_on_several_stripe_customers(
        browser, live_server: str, local_stack) -> None:  # noqa: F811
    """Two monthly gifts started before either was paid get a Stripe customer each; a third,
    started after, joins the first paid one's customer. /me offers one button per customer; the
    card entered through each ends up on every gift of its customer, so all three use it."""
    from chalicelib import deps, tokens

    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    slug = _page(live_server)
    donor = donation_body()["donor"]

    def start(cents: int) -> dict:
        body = donation_body(cents, recurring="monthly", recurring_consent=True)
        body["donor"] = donor
        started = requests.post(f"{live_server}/api/pages/{slug}/donations", json=body, timeout=10)
        assert started.status_code == 201, started.text
        return started.json()

    def pay(started: dict) -> dict:
        client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                          params={"payment_method": "pm_card_visa"})

        def settled() -> dict | None:
            found = requests.get(f"{live_server}/api/admin/donations/{started['donation_id']}",
                                 headers=staff(FINANCE_KEY), timeout=10).json()
            return found if found["status"] == "succeeded" else None

        return dict(wait_for(settled, timeout=15))

    first, second = start(2_700), start(1_500)  # neither paid: a customer each
    gifts = [pay(first), pay(second)]
    gifts.append(pay(start(1_000)))  # after a paid one: that customer
    subs = [gift["subscription_id"] for gift in gifts]
    customers = {sub: client.v1.subscriptions.retrieve(sub).customer for sub in subs}
    assert len(set(customers.values())) == 2, customers

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/me?t={deps.tokens().issue(tokens.PORTAL, gifts[0]['donor_id'])}")
    page.get_by_role("button", name="Open my giving").click()
    page.get_by_role("heading", name="Monthly gifts").wait_for()
    buttons = page.get_by_role("button", name=re.compile("^Replace the card for "))
    assert buttons.count() == 2 and page.get_by_role(
        "button", name="Replace the card for all my monthly gifts").count() == 0
    assert_accessible(page, "the portal with gifts on two customers")
    names = [buttons.nth(i).inner_text() for i in range(2)]
    for number, name in zip(("5555 5555 5555 4444", "4000 0566 5566 5556"), names, strict=True):
        page.goto(f"{live_server}/me")
        page.get_by_role("button", name=name, exact=True).click()
        page.get_by_role("heading", name="A new card for your monthly gifts").wait_for()
        assert "of your 3 monthly gifts" in page.inner_text("main")
        type_card(page, number)
        page.get_by_role("button", name="Save the new card").click()
        page.wait_for_url(f"{live_server}/me?done=card", timeout=10_000)
    context.close()

    cards = {}
    for sub in subs:
        method = client.v1.subscriptions.retrieve(sub).default_payment_method
        assert method, sub
        cards[sub] = client.v1.payment_methods.retrieve(method).card.last4
        default = client.v1.customers.retrieve(customers[sub]).invoice_settings.default_payment_method
        assert default == method, sub
    assert set(cards.values()) == {"4444", "5556"}, cards
    by_customer = {customers[sub]: cards[sub] for sub in subs}
    assert all(cards[sub] == by_customer[customers[sub]] for sub in subs), cards
