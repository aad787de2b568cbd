"""The staff console in Debian's chromium (Playwright), as staff use it each morning: sign in by
key and by emailed link, create a page and watch it in the 360 px preview, give on it in a
second browser and watch the dashboard count it, start an export and download it, open a
payout, sign out and find the session gone. Every console page passes axe-core (WCAG 2.1 A/AA)
at 1280 and 360 px, with a screenshot of each in test-artifacts/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from playwright.sync_api import expect

from tests.console_kit import staff_key
from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser, fill_donor  # noqa: F401 - the fixture
from tests.followups_kit import drain_until
from tests.helpers import FINANCE_KEY, committee_body, run_queues, staff, wait_for
from tests.integration.test_fec_reports_api import Q2
from tests.mail import mirrored, sent_to, text_of

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# In person in a ZIP3 no test donor has (tests.followups_kit.fresh_zip starts at 100): never
# offered to the follow-up tests' donors, whose invitations depend on which actions exist.
FAR_AWAY = {"virtual": False, "location": {"city": "Holtsville", "state": "NY", "zip": "00501"}}


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory):
    with mirrored(tmp_path_factory.mktemp("console-browser-mail")) as folder:
        yield folder


def type_into(page: Any, selector: str, value: str) -> None:
    """Focus a field and type, as a keyboard user does."""
    page.focus(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(value)


def press_button(page: Any, name: str) -> None:
    """Activate a button from the keyboard (focus, then Enter)."""
    page.get_by_role("button", name=name).focus()
    page.keyboard.press("Enter")


def check_and_shoot(context: Any, server: str, paths: dict[str, str], width: int) -> None:
    page = context.new_page()
    for name, path in paths.items():
        response = page.goto(server + path)
        assert response is not None and response.status == 200, (name, response and response.status)
        assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 360) + 1, name
        # One request for its HTML (no data fetched after load), under 60 KB with its own CSS
        # and scripts (what the browser decoded of the document and every same-origin asset).
        weight = page.evaluate("""() => {
            const own = performance.getEntriesByType("resource")
                .filter(e => new URL(e.name).origin === location.origin);
            return {bytes: performance.getEntriesByType("navigation")[0].decodedBodySize
                           + own.reduce((n, e) => n + e.decodedBodySize, 0),
                    fetched: own.filter(e => ["fetch", "xmlhttprequest"].includes(e.initiatorType)).length};
        }""")
        assert weight["fetched"] == 0 and weight["bytes"] < 60 * 1024, (name, weight)
        assert_accessible(page, f"console {name} at {width} px")
        page.screenshot(path=str(ARTIFACTS / f"console-{name}-{width}.png"), full_page=True)
    page.close()


def test_a_morning_in_the_console(browser, live_server: str, local_stack, mailbox: Path) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    organizer = browser.new_context(viewport={"width": 1280, "height": 900})
    page = organizer.new_page()

    # Sign in with a key, from the keyboard.
    page.goto(f"{live_server}/admin/")
    assert page.url.endswith("/admin/login?next=/admin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    type_into(page, "#key", staff_key("organizer"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"))

    # Create a page; the preview follows the fields as they are typed.
    slug = "morning-" + uuid.uuid4().hex[:8]
    page.goto(f"{live_server}/admin/pages/new")
    for selector, value in {"#slug": slug, "#title": "Rivera for Congress",
                            "#headline": "Help us win the morning", "#body": "Every dollar counts.",
                            "#asks": "10 27 50", "#goal": "5000", "#deadline": "2099-11-03T04:59",
                            "#committee_id": "C00123456", "#election": "P2026"}.items():
        if selector == "#deadline":
            page.fill(selector, value)  # a date picker: its value is typed whole
        else:
            type_into(page, selector, value)
    frame = page.frame_locator("#preview")
    frame.locator("h1", has_text="Help us win the morning").wait_for(timeout=10_000)
    assert page.get_attribute("#preview", "width") == "360"
    assert frame.locator("body").evaluate("b => b.scrollWidth") <= 360
    press_button(page, "Create the page")
    page.wait_for_url(f"**/admin/pages/{slug}?saved=created")
    assert "is live" in page.locator("[role=status]").inner_text()

    # The dashboard, open while a donor gives in another browser, counts the gift by itself.
    page.goto(f"{live_server}/admin/")
    raised = page.locator(f'[data-raised="{slug}"]')
    more = page.get_by_role("link", name="More pages →")
    while not raised.count() and more.count():
        more.click()
    assert raised.inner_text() == "$0"
    donor = browser.new_context(viewport={"width": 390, "height": 844})
    giving = donor.new_page()
    giving.goto(f"{live_server}/donate/{slug}")
    giving.get_by_role("button", name="$27", exact=True).click()
    donor_email = f"morning.{uuid.uuid4().hex[:6]}@example.org"
    fill_donor(giving, donor_email)
    giving.fill("[name=cardnumber]", "4242 4242 4242 4242")
    giving.fill("[name=exp-date]", "12 / 34")
    giving.fill("[name=cvc]", "123")
    giving.click("#submit")
    giving.wait_for_url("**/thanks?**", timeout=15_000)
    donor.close()
    # No reload: the page refreshes its numbers itself.
    expect(page.locator(f'[data-raised="{slug}"]')).to_have_text("$27", timeout=30_000)
    assert page.locator(f'[data-gifts="{slug}"]').inner_text() == "1"

    from tests.followups_kit import action_body
    from tests.helpers import ORGANIZER_KEY

    made = requests.post(f"{live_server}/api/admin/actions", json=action_body(capacity=20, **FAR_AWAY),
                         headers=staff(ORGANIZER_KEY), timeout=10)
    assert made.status_code == 201, made.text
    from chalicelib import deps, tokens

    pending = requests.post(f"{live_server}/api/supporters", timeout=10, json={  # its Approve button
        "token": deps.tokens().issue(tokens.SUPPORT, "dnr_a11y_supporter", slug), "handle": "a11y",
        "goal_cents": 20_000, "display_name": "Ana"})
    assert pending.status_code == 201, pending.text
    organizer_pages = {"dashboard": "/admin/", "action": f"/admin/actions/{made.json()['action_id']}",
                       "supporters": f"/admin/pages/{slug}/supporters",
                       "page-funnel": f"/admin/reports/participation?page_slug={slug}",
                       "new-page": "/admin/pages/new",
                       "edit-page": f"/admin/pages/{slug}", "results": f"/admin/pages/{slug}/results",
                       "refcodes": f"/admin/reports/refcodes?page={slug}", "actions": "/admin/actions",
                       "recruiters": "/admin/recruiters", "proposals": "/admin/proposals",
                       "participation": f"/admin/reports/participation?action_id={made.json()['action_id']}",
                       "preview": "/admin/preview?title=T&headline=H&asks=10&goal=100"
                                  "&deadline=2099-01-01T00:00&election=P2026&committee_id=C00123456"}

    # Finance signs in by the emailed link.
    address = f"finance.{uuid.uuid4().hex[:6]}@example.org"
    staff_key("finance", email=address)
    # axe is injected as a script: the test's contexts let it past the pages' own CSP.
    finance = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    desk = finance.new_page()
    desk.goto(f"{live_server}/admin/login")
    check_and_shoot(finance, live_server, {"login": "/admin/login"}, 1280)
    type_into(desk, "#email", address)
    press_button(desk, "Send me a sign-in link")
    desk.wait_for_url("**/admin/login?sent=1")
    (message,) = drain_until(lambda: sent_to(mailbox, address))
    link = re.search(r"https?://[^/\s]+(/admin/login/link\?t=\S+)", text_of(message))[1]
    desk.goto(live_server + link)
    assert_accessible(desk, "sign-in link page")
    desk.screenshot(path=str(ARTIFACTS / "console-signin-link-1280.png"), full_page=True)
    press_button(desk, "Sign in")
    desk.wait_for_url("**/admin/donations")

    # Find the donor's gift and its movement.
    type_into(desk, "#q", donor_email)
    desk.keyboard.press("Enter")
    desk.get_by_role("link", name=re.compile("^don_")).first.click()
    desk.locator("td", has_text="contribution").wait_for()
    donation_path = desk.url.removeprefix(live_server)
    donor_path = desk.get_by_role("link", name="every donation of this donor").get_attribute("href")

    # Start an export, watch it finish, download it.
    desk.goto(f"{live_server}/admin/exports")
    desk.select_option("#kind", "contributions_csv")
    press_button(desk, "Start the export")
    desk.wait_for_url(re.compile(r".*/admin/exports/exp_[0-9a-f]+$"))
    export_path = desk.url.removeprefix(live_server)
    run_queues()
    desk.locator("#download").wait_for(timeout=15_000)  # the page refreshes itself
    with desk.expect_download() as download:
        desk.locator("#download").click()
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.splitlines()[0].count(",") > 3

    # A payout lands; finance opens it.
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    requests.post(f"{local_stack['stripe_url']}/_standin/balance/settle", timeout=10).raise_for_status()
    payout_id = str(client.v1.payouts.create(params={"currency": "usd"}).id)
    wait_for(lambda: requests.get(f"{live_server}/api/admin/payouts/{payout_id}", headers=staff(FINANCE_KEY),
                                  timeout=10).status_code == 200, timeout=15)
    run_queues()
    desk.goto(f"{live_server}/admin/payouts")
    desk.get_by_role("link", name=payout_id).click()
    desk.get_by_role("heading", name=f"Payout {payout_id}").wait_for()

    # A quarter's report to the FEC, built and waiting to be finalized.
    committee_id = "C" + str(uuid.uuid4().int)[:8]
    requests.put(f"{live_server}/api/admin/committees/{committee_id}", json=committee_body(),
                 headers=staff(FINANCE_KEY), timeout=10).raise_for_status()
    asked = requests.post(f"{live_server}/api/admin/reports", json={"committee_id": committee_id, **Q2},
                          headers=staff(FINANCE_KEY), timeout=10)
    assert asked.status_code == 202, asked.text
    run_queues()

    finance_pages = {"donations": f"/admin/donations?q={donor_email}", "donation": donation_path,
                     "donor": donor_path,
                     "exports": "/admin/exports", "export": export_path, "payouts": "/admin/payouts",
                     "payout": f"/admin/payouts/{payout_id}",
                     "filings": f"/admin/filings?committee_id={committee_id}",
                     "filing": f"/admin/filings/{asked.json()['report_id']}", "notices": "/admin/notices",
                     "reviews": "/admin/reviews", "receipts": "/admin/receipts",
                     "receipts_import": "/admin/receipts/import", "deposits": "/admin/deposits"}
    anonymous = browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    check_and_shoot(anonymous, live_server, {"login": "/admin/login"}, 360)
    anonymous.close()
    for width in (1280, 360):
        for context, paths in ((organizer, organizer_pages), (finance, finance_pages)):
            narrow = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True,
                                         storage_state=context.storage_state())
            check_and_shoot(narrow, live_server, paths, width)
            narrow.close()

    # Sign out: the session item is gone, and the old cookie opens nothing.
    from pynamodb.exceptions import DoesNotExist

    from chalicelib.sessions.model import session_hash
    from chalicelib.storage.models import WebSessionModel

    cookie = next(c["value"] for c in finance.cookies() if c["name"] == "gs_console")
    assert WebSessionModel.get(session_hash(cookie))
    desk.goto(f"{live_server}/admin/donations")
    press_button(desk, "Sign out")
    desk.wait_for_url("**/admin/login")
    with pytest.raises(DoesNotExist):
        WebSessionModel.get(session_hash(cookie), consistent_read=True)
    replay = requests.get(f"{live_server}/admin/donations", cookies={"gs_console": cookie},
                          allow_redirects=False, timeout=10)
    assert replay.status_code == 303
    organizer.close()
    finance.close()
