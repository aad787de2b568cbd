"""The stand-in's Stripe.js in Debian's chromium (Playwright): the Payment Element typed into like a
donor would (also by keyboard alone, and checked with axe-core), confirmPayment's redirect to
return_url, the deferred flow, confirmSetup, and the Express Checkout test wallet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import stripe

from devtools.stripe_standin import RunningStandin, serve
from tests.e2e.axe import assert_accessible
from tests.e2e.standin_pages import PageServer
from tests.e2e.test_donate_in_browser import browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser]

PK = "pk_test_elements"


@pytest.fixture(scope="module")
def standin() -> Iterator[RunningStandin]:
    running = serve(port=0)
    yield running
    running.shutdown()


@pytest.fixture(scope="module")
def pages(standin: RunningStandin) -> Iterator[str]:
    server = PageServer(standin.url)
    yield server.url
    server.close()


@pytest.fixture()
def client(standin: RunningStandin) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_elements", base_addresses={"api": standin.url}, max_network_retries=0)


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 - the fixture imported above
    context = browser.new_context()
    tab = context.new_page()
    yield tab
    context.close()


def intent(client: stripe.StripeClient, amount: int = 2700) -> Any:
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd"})


def open_page(page: Any, pages: str, name: str, secret: str, **query: str) -> None:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    page.goto(f"{pages}/{name}?pk={PK}&cs={secret}{extra}")


def type_card(page: Any, number: str = "4242 4242 4242 4242", zip_code: str = "53703") -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill("12 / 34")
    page.get_by_label("Security code").fill("123")
    if zip_code:
        page.get_by_label("ZIP").fill(zip_code)


def seen(page: Any, name: str) -> list[Any]:
    return [event for kind, event in page.evaluate("window.seen") if kind == name]


def test_payment_element_pays_and_redirects_as_stripe_does(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "pay.html", pi.client_secret)
    page.wait_for_function("window.seen.some(function (e) { return e[0] === 'ready'; })")
    assert seen(page, "ready") == [{"elementType": "payment"}]
    type_card(page)
    last = seen(page, "change")[-1]
    assert last == {
        "elementType": "payment",
        "empty": False,
        "complete": True,
        "collapsed": False,
        "value": {"type": "card"},
    }
    page.get_by_role("button", name="Give now").click()
    page.wait_for_url(f"{pages}/return.html?**", timeout=10_000)
    query = parse_qs(urlparse(page.url).query)
    assert query == {  # the return_url's own query is kept
        "pk": [PK],
        "payment_intent": [pi.id],
        "payment_intent_client_secret": [pi.client_secret],
        "redirect_status": ["succeeded"],
    }
    page.get_by_role("status").filter(has_text="succeeded").wait_for(timeout=5_000)
    assert page.get_by_role("status").inner_text() == f"{pi.id} succeeded"  # retrievePaymentIntent
    paid = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert paid.status == "succeeded"
    details = paid.latest_charge.payment_method_details.card
    assert details.last4 == "4242" and details.wallet is None
    assert paid.latest_charge.billing_details.address.postal_code == "53703"
    assert paid.latest_charge.billing_details.address.country == "US"


def test_payment_element_is_accessible_and_keyboard_usable(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "pay.html", pi.client_secret, redirect="if_required")
    page.get_by_label("Card number").wait_for()
    assert_accessible(page, "the stand-in's Payment Element")
    for label in ("Card number", "Expiration date (MM / YY)", "Security code (CVC)", "Country", "ZIP"):
        assert page.get_by_label(label).count() == 1, label

    # A donor who only uses the keyboard: Tab from field to field, Enter to give.
    page.get_by_label("Card number").focus()
    page.keyboard.type("4000001240000000")
    page.keyboard.press("Tab")
    page.keyboard.type("1234")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("53703")
    page.keyboard.press("Enter")
    page.wait_for_function("window.outcome !== undefined", timeout=10_000)
    outcome = page.evaluate("window.outcome")
    assert "error" not in outcome and outcome["paymentIntent"]["status"] == "succeeded"
    assert outcome["paymentIntent"]["id"] == pi.id and "metadata" not in outcome["paymentIntent"]
    assert page.url.startswith(f"{pages}/pay.html")  # if_required: no redirect for a card
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(pi.id).latest_charge)
    assert charge.payment_method_details.card.country == "CA"


def test_errors_show_beside_their_field_and_a_decline_resolves_an_error(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "pay.html", pi.client_secret)
    page.get_by_label("Card number").fill("4242 4242")
    page.get_by_role("button", name="Give now").click()
    number = page.get_by_label("Card number")
    assert number.get_attribute("aria-invalid") == "true"
    described = page.locator(f"#{number.get_attribute('aria-describedby')}")
    assert described.inner_text() == "Your card number is incomplete."
    assert page.evaluate("document.activeElement.name") == "cardnumber"  # focus goes to the field
    assert page.evaluate("window.outcome.error.type") == "validation_error"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"  # nothing sent

    type_card(page, "4000 0000 0000 0002")
    assert number.get_attribute("aria-invalid") == "false" and described.inner_text() == ""
    page.get_by_role("button", name="Give now").click()
    page.get_by_role("alert").filter(has_text="declined").wait_for(timeout=10_000)
    error = page.evaluate("window.outcome.error")
    assert error["code"] == "card_declined" and error["decline_code"] == "generic_decline"
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert page.url.startswith(f"{pages}/pay.html")  # a decline never redirects


def test_billing_fields_left_to_the_page(page: Any, pages: str, client: stripe.StripeClient) -> None:
    pi = intent(client)
    open_page(page, pages, "pay.html", pi.client_secret, fields="never", redirect="if_required")
    page.get_by_label("Card number").wait_for()
    assert not page.get_by_label("ZIP").is_visible() and not page.get_by_label("Country").is_visible()
    type_card(page, zip_code="")
    page.get_by_role("button", name="Give now").click()
    page.wait_for_function("window.outcome !== undefined", timeout=10_000)
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(pi.id).latest_charge)
    assert charge.billing_details.address.postal_code == "53703"  # from confirmParams


def test_deferred_intent_needs_elements_submit_first(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "deferred.html", pi.client_secret)
    type_card(page)
    page.evaluate("window.skipSubmit = true")
    page.get_by_role("button", name="Give now").click()
    page.wait_for_function("window.rejected !== undefined")
    assert "elements.submit() must be called before" in page.evaluate("window.rejected")
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"

    page.evaluate("window.skipSubmit = false")
    page.get_by_role("button", name="Give now").click()
    page.wait_for_url(f"{pages}/return.html?**", timeout=10_000)
    assert parse_qs(urlparse(page.url).query)["payment_intent"] == [pi.id]
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_confirm_setup_saves_the_card_and_redirects(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    donor = client.v1.customers.create(params={"email": "saver@example.org"})
    seti = client.v1.setup_intents.create(params={"customer": donor.id, "usage": "off_session"})
    open_page(page, pages, "pay.html", seti.client_secret, kind="setup")
    type_card(page, "5555 5555 5555 4444")
    page.get_by_role("button", name="Give now").click()
    page.wait_for_url(f"{pages}/return.html?**", timeout=10_000)
    query = parse_qs(urlparse(page.url).query)
    assert query == {
        "pk": [PK],
        "setup_intent": [seti.id],
        "setup_intent_client_secret": [seti.client_secret],
        "redirect_status": ["succeeded"],
    }
    page.get_by_role("status").filter(has_text="succeeded").wait_for(timeout=5_000)
    saved = client.v1.setup_intents.retrieve(seti.id)
    assert saved.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(saved.payment_method)
    assert pm.customer == donor.id and pm.card.brand == "mastercard"


def test_express_checkout_pays_with_the_test_wallet(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "express.html", pi.client_secret)
    button = page.get_by_role("button", name="Pay with test wallet")
    button.wait_for()
    page.wait_for_function("window.seen.some(function (e) { return e[0] === 'ready'; })")
    assert seen(page, "ready")[0]["availablePaymentMethods"]["applePay"] is True
    button.focus()
    page.keyboard.press("Enter")  # a real button: the keyboard works too
    page.wait_for_url(f"{pages}/return.html?**", timeout=10_000)
    assert parse_qs(urlparse(page.url).query)["redirect_status"] == ["succeeded"]
    paid = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge", "payment_method"]})
    assert paid.status == "succeeded"
    wallet = paid.latest_charge.payment_method_details.card.wallet
    assert wallet.type == "apple_pay" and wallet.apple_pay.to_dict() == {} and len(wallet.dynamic_last4) == 4
    assert paid.payment_method.card.wallet.type == "apple_pay"
    # emailRequired from the click handler: the wallet shared the donor's email.
    assert paid.latest_charge.billing_details.email == "wendy.wallet@example.org"


def test_express_checkout_events_decline_and_cancel(
    page: Any, pages: str, client: stripe.StripeClient
) -> None:
    pi = intent(client)
    open_page(page, pages, "express.html", pi.client_secret, redirect="if_required")
    page.get_by_role("button", name="Pay with test wallet").wait_for()
    page.evaluate("Stripe.standin.wallet = {card: '4000000000000002'}")
    page.get_by_role("button", name="Pay with test wallet").click()
    page.get_by_role("alert").filter(has_text="declined").wait_for(timeout=10_000)
    assert seen(page, "click") == [{"expressPaymentType": "apple_pay"}]
    confirm = seen(page, "confirm")[0]
    assert confirm["expressPaymentType"] == "apple_pay"
    assert confirm["billingDetails"]["email"] == "wendy.wallet@example.org"
    assert "phone" not in confirm["billingDetails"]  # not asked for
    assert page.get_by_role("status").inner_text()  # the wallet says the payment failed
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"

    # The donor tries again with a good card, on the same PaymentIntent, without a redirect.
    page.evaluate("Stripe.standin.wallet = {}; window.outcome = undefined")
    page.get_by_role("button", name="Pay with test wallet").click()
    page.wait_for_function("window.outcome !== undefined && !window.outcome.error", timeout=10_000)
    assert page.evaluate("window.outcome.paymentIntent.status") == "succeeded"

    other = intent(client)
    open_page(page, pages, "express.html", other.client_secret, reject="1")
    page.get_by_role("button", name="Pay with test wallet").click()
    page.wait_for_function("window.seen.some(function (e) { return e[0] === 'cancel'; })")
    assert seen(page, "confirm") == []  # the page's click handler rejected: no sheet
    # The donor dismisses the wallet's sheet: "cancel", no "confirm", nothing charged.
    open_page(page, pages, "express.html", other.client_secret)
    page.evaluate("Stripe.standin.wallet = {cancel: true}")
    page.get_by_role("button", name="Pay with test wallet").click()
    page.wait_for_function("window.seen.some(function (e) { return e[0] === 'cancel'; })")
    assert seen(page, "click") and seen(page, "confirm") == []
    assert client.v1.payment_intents.retrieve(other.id).status == "requires_payment_method"
