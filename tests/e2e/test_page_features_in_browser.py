"""The donation page in Debian's chromium (Playwright): the countdown from server time, a ladder
click, a monthly gift with the box ticked, the closed state after a deadline, errors a screen
reader announces; screenshots at 360 px and 1280 px in test-artifacts/."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.e2e.test_donate_in_browser import browser, fill_card, fill_donor  # noqa: F401 - the fixture
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, page_body, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CLOCK = re.compile(r"^(\d+d )?\d{2}:\d{2}:\d{2}$")


def create_page(server: str, **fields: object) -> str:
    body = page_body(**fields)
    response = requests.post(f"{server}/api/admin/pages", json=body, headers=staff(ORGANIZER_KEY), timeout=10)
    assert response.status_code == 201, response.text
    return str(body["slug"])


def at(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat().replace("+00:00", "Z")


def donation_request(page) -> object:
    return page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/donations"))


def test_countdown_ladder_and_a_monthly_gift(browser, live_server: str) -> None:  # noqa: F811
    slug = create_page(live_server, deadline=at(timedelta(hours=2)), ask_amounts_cents=[1000, 2700, 5000])
    ARTIFACTS.mkdir(exist_ok=True)
    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    page = wide.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    page.screenshot(path=str(ARTIFACTS / "donate-1280.png"), full_page=True)
    wide.close()

    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    # The countdown starts from the server's time left and ticks each second.
    countdown = page.locator("#countdown")
    first = countdown.inner_text()
    assert CLOCK.match(first) and first.startswith(("01:59", "02:00")), first
    page.wait_for_function(f"document.getElementById('countdown').textContent !== {json.dumps(first)}",
                           timeout=5_000)
    # Nothing overflows a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="$27", exact=True).click()
    assert page.input_value("#amount") == "27.00"
    assert page.get_by_role("button", name="$27", exact=True).get_attribute("aria-pressed") == "true"
    assert not page.is_checked("#recurring") and not page.is_checked("#save_payment_method")
    page.get_by_label("Make it monthly").check()
    assert "monthly" in page.locator("#submit").inner_text()
    fill_donor(page, f"monthly.{uuid.uuid4().hex[:8]}@example.org")
    page.fill("[name=cardnumber]", "4242 4242 4242 4242")
    page.fill("[name=exp-date]", "12 / 34")
    page.fill("[name=cvc]", "123")
    page.screenshot(path=str(ARTIFACTS / "donate-360.png"), full_page=True)
    with donation_request(page) as sent:
        page.click("#submit")
    body = json.loads(sent.value.post_data or "{}")
    assert body["recurring"] == "monthly" and body["recurring_consent"] is True
    assert body["amount_cents"] == 2700 and "save_payment_method" not in body
    page.wait_for_url("**/thanks?**", timeout=20_000)
    donation_id = parse_qs(urlparse(page.url).query)["donation_id"][0]

    def donation() -> dict:
        return requests.get(f"{live_server}/api/admin/donations/{donation_id}", headers=staff(FINANCE_KEY),
                            timeout=5).json()

    wait_for(lambda: donation()["status"] == "succeeded", timeout=15)
    assert donation()["recurring"] is True and donation()["subscription_id"]
    assert "refcode=sh-" in page.locator("#share-url").input_value()
    context.close()


def test_a_one_time_gift_sends_no_recurring_choice(browser, live_server: str) -> None:  # noqa: F811
    slug = create_page(live_server, deadline=at(timedelta(days=3)))
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}?amount=5000")
    assert page.input_value("#amount") == "50.00"
    assert re.match(r"^\d+d \d{2}:\d{2}:\d{2}$", page.locator("#countdown").inner_text())
    page.get_by_label("Save my card for faster giving next time").check()
    fill_donor(page, "once@example.org")
    page.fill("[name=cardnumber]", "4000 0000 0000 0002")  # declined: no money moves
    page.fill("[name=exp-date]", "12 / 34")
    page.fill("[name=cvc]", "123")
    with donation_request(page) as sent:
        page.click("#submit")
    body = json.loads(sent.value.post_data or "{}")
    assert "recurring" not in body and "recurring_consent" not in body
    assert body["save_payment_method"] is True
    context.close()


def test_errors_are_announced_and_focus_the_field(browser, live_server: str) -> None:  # noqa: F811
    slug = create_page(live_server, deadline=at(timedelta(days=3)))
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    page.get_by_role("button", name="$10", exact=True).click()
    fill_donor(page, "announce@example.org")
    page.fill("#zip", "123")
    fill_card(page, "4242 4242 4242 4242")  # the Payment Element's own check passes first
    page.click("#submit")
    page.locator("#form-error").wait_for(state="visible", timeout=10_000)
    assert page.get_attribute("#form-error", "role") == "alert"
    focused = page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('aria-invalid'),"
                            " document.activeElement.getAttribute('aria-describedby')]")
    assert focused[0] == "zip" and focused[1] == "true"
    assert "ZIP" in page.locator(f"#{focused[2]}").inner_text()
    context.close()


def test_the_page_closes_when_its_deadline_passes(browser, live_server: str) -> None:  # noqa: F811
    slug = create_page(live_server, deadline=at(timedelta(seconds=6)))
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server}/donate/{slug}")
    assert CLOCK.match(page.locator("#countdown").inner_text())
    assert page.locator("#donate").is_visible()
    # At zero the page asks the server, which says closed: the form gives way to the notice.
    page.locator("#closed").wait_for(state="visible", timeout=20_000)
    assert page.locator("#donate").count() == 0
    assert "no longer takes donations" in page.locator("#closed").inner_text()
    # The countdown rounds to whole seconds; reload once the server itself says closed.
    wait_for(lambda: requests.get(f"{live_server}/api/pages/{slug}", timeout=5).json()["status"] == "closed")
    page.reload()
    assert "no longer takes donations" in page.locator("#closed").inner_text()
    assert page.locator("#donate").count() == 0 and "closed on" in page.locator("#deadline").inner_text()
    page.screenshot(path=str(ARTIFACTS / "donate-closed-360.png"), full_page=True)
    context.close()
