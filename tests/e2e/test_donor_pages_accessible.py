"""axe-core finds no WCAG 2.1 A/AA violation on any donor-facing page, each opened as a donor
would (real tokens, real records): /donate/{slug}, its thank-you page, /express/, /i/, /u/,
/s/, /c/, /e/, the host's /h/, the attendee's /f/, a supporter's page and the form that starts one
(/support/), and the signup page /join/{slug} (blank, and answered with errors)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import stripe

from tests.e2e.axe import assert_accessible
from tests.e2e.test_donate_in_browser import browser  # noqa: F401 - the fixture
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, page_body, staff, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.server, pytest.mark.browser]


def _page(server: str) -> str:
    body = page_body()
    response = requests.post(f"{server}/api/admin/pages", json=body, headers=staff(ORGANIZER_KEY), timeout=10)
    assert response.status_code == 201, response.text
    return str(body["slug"])


def _paid(server: str, stripe_url: str, slug: str, **top: object) -> dict:
    """A donation confirmed at the stand-in, whose signed webhook reached the API."""
    body = donation_body(2700, **top)
    started = requests.post(f"{server}/api/pages/{slug}/donations", json=body, timeout=10).json()
    intent = started["client_secret"].split("_secret_")[0]
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_url})
    client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})

    def settled() -> dict | None:
        found = requests.get(f"{server}/api/admin/donations/{started['donation_id']}",
                             headers=staff(FINANCE_KEY), timeout=10).json()
        return found if found["status"] == "succeeded" else None

    return {**wait_for(settled, timeout=15), "email": body["donor"]["email"]}


def test_every_donor_page_passes_axe(browser, live_server: str, local_stack) -> None:  # noqa: F811
    from chalicelib import deps, tokens
    from chalicelib.followups.input import ActionCreate
    from chalicelib.followups.model import Host, Invitation, Person, invitation_id_for
    from chalicelib.giving.model import donor_id_for

    slug = _page(live_server)
    saved = _paid(live_server, local_stack["stripe_url"], slug, save_payment_method=True)
    monthly = requests.post(f"{live_server}/api/pages/{slug}/donations", timeout=10, json=donation_body(
        1500, recurring="monthly", recurring_consent=True)).json()
    subscription_id = deps.giving_service().donation(monthly["donation_id"]).subscription_id
    t = deps.tokens()
    person_id = donor_id_for(saved["email"])
    store = deps.followup_store()
    store.upsert_donor(Person(person_id, saved["email"], "Ana", "62701", "IL"), subscribe=True,
                       now=datetime.now(timezone.utc))
    host = Host("staff", "a11yhost", "Dana")
    action = deps.actions().create_action(ActionCreate.model_validate({
        # In person where no other test's donor lives, so no follow-up test is offered it.
        "kind": "phonebank", "title": "Phone bank for a11y", "virtual": False,
        "location": {"city": "Holtsville", "state": "NY", "zip": "00501"},
        "starts_at": (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()}), host)
    invitation_id = invitation_id_for(person_id, action.action_id)
    store.record_invitations([Invitation(invitation_id, person_id, action.action_id, "invited",
                                         datetime.now(timezone.utc), f"test#{uuid.uuid4().hex}")])
    guest = donor_id_for(f"guest.{uuid.uuid4().hex[:8]}@example.org")  # on the host's roster
    store.upsert_donor(Person(guest, f"{guest}@example.org", "Lee", "00501", "NY"), subscribe=False,
                       now=datetime.now(timezone.utc))
    store.record_invitations([Invitation(invitation_id_for(guest, action.action_id), guest,
                                         action.action_id, "attended", datetime.now(timezone.utc),
                                         "test#a11y")])
    store.record_rating(invitation_id_for(guest, action.action_id), 5, datetime.now(timezone.utc))
    # A supporter's own page under it (live at once), and the form that starts one.
    assert requests.put(f"{live_server}/api/admin/pages/{slug}", json={"supporters_auto_approve": True},
                        headers=staff(ORGANIZER_KEY), timeout=10).status_code == 200
    support = t.issue(tokens.SUPPORT, person_id, slug)
    started = requests.post(f"{live_server}/api/supporters", timeout=10, json={
        "token": support, "handle": "a11y", "goal_cents": 50_000, "display_name": "Ana",
        "note": "I give because it matters.\nJoin me."})
    assert started.status_code == 201, started.text
    pages = {
        "donate": f"/donate/{slug}",
        "supporter page": started.json()["url"],
        "start a page": f"/support/{support}",
        "thanks": f"/donate/{slug}/thanks?donation_id={saved['donation_id']}",
        "express": f"/express/{slug}?t={t.issue(tokens.EXPRESS, saved['donor_id'], 'C00123456')}",
        "invitation": f"/i/{t.issue(tokens.RSVP, invitation_id)}",
        "unsubscribe": f"/u/{t.issue(tokens.UNSUBSCRIBE, person_id)}",
        "confirm": f"/s/{t.issue(tokens.CONFIRM, person_id)}",
        "employment": f"/e/{t.issue(tokens.EMPLOYMENT, saved['donor_id'])}",
        "cancel": f"/c/{t.issue(tokens.CANCEL_PLAN, subscription_id or '')}",
        "host": f"/h/{t.issue(tokens.HOST, action.action_id, host.ref)}",
        # An attendee who rated it 5: the ratings and the offer to host.
        "feedback": f"/f/{t.issue(tokens.FEEDBACK, invitation_id_for(guest, action.action_id))}",
        "join": f"/join/{slug}?refcode=a11y",
    }
    for width in (1280, 360):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for name, path in pages.items():
            response = page.goto(live_server + path)
            assert response is not None and response.status < 400, (name, response and response.status)
            assert_accessible(page, f"{name} at {width} px")
        # The signup form sent back with its errors (a bad email, texts without a phone, the
        # invitations box unticked): each error named beside its field.
        page.goto(f"{live_server}/join/{slug}")
        page.fill("#email", "not-an-email")
        page.check("input[name=sms_opt_in]")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.locator("#email-error, #phone-error, #invitations-error").count() == 3
        assert_accessible(page, f"join with errors at {width} px")
        context.close()
