"""A donor gives $27 on /donate/demo in Debian's chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.helpers import FINANCE_KEY, staff, standin_faults, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def totals(server: str) -> tuple[int, int]:
    page = requests.get(f"{server}/api/pages/demo", timeout=5).json()
    return page["raised_cents"], page["contribution_count"]


def fill_donor(page, email: str) -> None:
    for field, value in {"first_name": "José", "last_name": "Núñez", "email": email,
                         "line1": "12 Elm St", "city": "Madison", "state": "WI", "zip": "53703",
                         "employer": "Self-employed carpenter", "occupation": "Carpenter"}.items():
        page.fill(f"#{field}", value)
    for attestation in ("us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor",
                        "personal_card"):
        page.check(f"input[name={attestation}]")


def fill_card(page, number: str) -> None:
    page.fill("[name=cardnumber]", number)
    page.fill("[name=exp-date]", "12 / 34")
    page.fill("[name=cvc]", "123")


def test_give_27_dollars_and_see_the_total_move(browser, live_server: str, demo_page: str,
                                               tmp_path: Path) -> None:
    before = totals(live_server)
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{live_server}/donate/{demo_page}")
    assert page.locator("h1").inner_text()
    page.get_by_role("button", name="$27", exact=True).click()
    assert page.input_value("#amount") == "27.00"
    fill_donor(page, "jose.nunez@example.org")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#submit")
    page.wait_for_url("**/donate/demo/thanks?**", timeout=15_000)
    assert "Thank you" in page.locator("h1").inner_text()
    page.screenshot(path=str(tmp_path / "thanks.png"), full_page=True)

    donation_id = parse_qs(urlparse(page.url).query)["donation_id"][0]

    def donation() -> dict:
        return requests.get(f"{live_server}/api/admin/donations/{donation_id}",
                            headers=staff(FINANCE_KEY), timeout=5).json()

    wait_for(lambda: donation()["status"] == "succeeded", timeout=10)
    record = donation()
    assert record["amount_cents"] == 2700 and record["donor"]["last_name"] == "Núñez"
    assert totals(live_server) == (before[0] + 2700, before[1] + 1)
    # The thank-you page refreshes its thermometer from the API.
    expected = f"${(before[0] + 2700) // 100:,}"
    page.wait_for_function(f"document.getElementById('raised').textContent.startsWith('{expected}')",
                           timeout=10_000)
    context.close()


def test_declined_card_shows_an_error_and_stays_on_the_form(browser, live_server: str,
                                                             demo_page: str) -> None:
    before = totals(live_server)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/donate/{demo_page}")
    page.get_by_role("button", name="$10", exact=True).click()
    fill_donor(page, "decline@example.org")
    fill_card(page, "4000 0000 0000 0002")
    page.click("#submit")
    page.wait_for_function("document.getElementById('card-error').textContent.length > 0", timeout=10_000)
    assert "declined" in page.locator("#card-error").inner_text().lower()
    assert "/thanks" not in page.url
    assert totals(live_server) == before
    context.close()


def test_server_side_validation_errors_show_beside_the_fields(browser, live_server: str,
                                                              demo_page: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/donate/{demo_page}")
    page.get_by_role("button", name="$10", exact=True).click()
    fill_donor(page, "not-an-email")
    page.fill("#zip", "123")
    # The Payment Element checks the card before anything is sent (Stripe's elements.submit()),
    # so a complete card lets the server's own checks answer.
    fill_card(page, "4242 4242 4242 4242")
    page.click("#submit")
    zip_error = page.locator('[data-field="donor.address.zip"]')
    zip_error.filter(has_text="ZIP").wait_for(timeout=10_000)
    assert page.locator('[data-field="donor.email"]').inner_text()
    context.close()


def test_a_busy_stripe_gets_a_calm_moment_and_the_gift_goes_through(browser, live_server: str,
                                                                    demo_page: str,
                                                                    local_stack) -> None:
    """Stripe's rate limiter turns intake away twice (three 429s each, the SDK's retries
    included): the page says "one moment", retries by itself and the gift is made once."""
    before = totals(live_server)
    context = browser.new_context()
    page = context.new_page()
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/donations") else None)
    page.goto(f"{live_server}/donate/{demo_page}")
    page.get_by_role("button", name="$10", exact=True).click()
    fill_donor(page, "busy.browser@example.org")
    fill_card(page, "4242 4242 4242 4242")
    with standin_faults(local_stack["stripe_url"], rate_limit_next=6,
                        paths=["/v1/payment_intents"]) as counts:
        page.click("#submit")
        wait = page.get_by_role("status").filter(has_text="One moment")
        wait.wait_for(state="visible", timeout=15_000)
        assert page.locator("#form-error").is_hidden()  # calm: no error shown
        page.wait_for_url("**/donate/demo/thanks?**", timeout=45_000)
        assert counts()["rate_limited"] == 6
    assert answers == [503, 503, 201]
    wait_for(lambda: totals(live_server) == (before[0] + 1000, before[1] + 1), timeout=10)
    context.close()
