"""No GET or HEAD changes state (issue 12, finding 2). Mail scanners and link prefetchers open
every link in a message, so opening one must never act.

Every GET route is discovered from the app's own route table and called with real values from a
seeded stack (signed tokens for real subjects, ids that exist, a console session, a staff key),
so each reaches the code it would reach for a person; DynamoDB writes are counted on every
DynamoDB client of the process through botocore's events. A new GET route is covered without
anyone listing it here, and fails until it can be filled with real values."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

from chalicelib.api.html import FORM
from chalicelib.giving.model import donor_id_for
from tests.console_kit import Console, staff_key
from tests.dynamo_counter import WRITES, dynamodb_requests_everywhere
from tests.followups_kit import action_body, delivered, drain_until, fresh_zip
from tests.helpers import (
    ORGANIZER_KEY,
    ElectionCalendar,
    committee_body,
    donation_body,
    redesignated_gift,
    run_queues,
    staff,
    stripe_event,
)
from tests.reports_kit import Campaign, committee_id, donor

pytestmark = pytest.mark.stack


def get_routes() -> list[str]:
    from app import app

    return sorted(path for path, entries in app.routes.items() if "GET" in entries)


def test_get_routes_are_discovered() -> None:
    found = get_routes()
    assert len(found) > 30 and {"/c/{token}", "/u/{token}", "/i/{token}", "/s/{token}"} <= set(found)


def _succeeded(started: dict[str, Any], **changes: Any) -> dict[str, Any]:
    intent = started["client_secret"].split("_secret_")[0]
    return stripe_event("payment_intent.succeeded", id=intent, amount=started["amount_cents"],
                        amount_received=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]}, **changes)


class Seeded:
    """One of everything a GET route can name, real and reachable."""

    def __init__(self, api: Any, console: Console, admin_key: str, stripe_url: str) -> None:
        from chalicelib import deps, tokens
        from chalicelib.payouts.model import PayoutEvent, PayoutFacts
        from chalicelib.staff.auth import hash_key
        from chalicelib.storage.payouts import PayoutRepository

        self.api, self.console, self.admin_key = api, console, admin_key
        t = deps.tokens()
        calendar = ElectionCalendar(api)
        self.committee_id = calendar.committee_id
        self.slug = calendar.page(calendar.primary)
        zip_ = fresh_zip()
        status, action = api.call("POST", "/api/admin/actions", action_body(), staff(ORGANIZER_KEY))
        assert status == 201, action
        self.action_id = action["action_id"]

        # A donor who saved a card (express), was thanked and invited (a person, a share code).
        email = f"safe.{uuid.uuid4().hex[:10]}@example.org"
        body = donation_body(2700, email=email, save_payment_method=True, interests=["phonebank"])
        body["donor"]["address"]["zip"] = zip_
        started = self.start(body)
        self.donation_id = started["donation_id"]
        intent = started["client_secret"].split("_secret_")[0]
        client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_url})
        confirmed = client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
        assert api.webhook(_succeeded(started, customer=confirmed.customer,
                                      payment_method=confirmed.payment_method))[0] == 200
        drain_until(delivered(f"thanks#{self.donation_id}"))
        self.donor_id = api.donation(self.donation_id)["donor_id"]
        self.person_id = donor_id_for(email)
        person = deps.followup_store().get_person(self.person_id)
        assert person is not None and person.share_code
        self.share_code = person.share_code
        invitations = deps.followup_store().invitations_of_person(self.person_id)
        assert invitations, "the seeded donor was invited to the seeded action"

        # A monthly gift (its cancel link), a signup waiting for confirmation.
        monthly = self.start(donation_body(1500, recurring="monthly", recurring_consent=True))
        self.subscription_id = api.donation(monthly["donation_id"])["subscription_id"]
        signup_email = f"safe.signup.{uuid.uuid4().hex[:8]}@example.org"
        assert api.call("POST", "/api/signups", {"email": signup_email})[0] == 202

        # An export, finished; a payout, acknowledged.
        # One committee's export of one day: without a committee an export covers every
        # committee in the table, each replayed from its cycle's start, and over the full
        # suite's hundreds of committees (moto answering each shard's Query in time
        # proportional to the whole table) it outlasted the fixture's timeout.
        today = datetime.now(timezone.utc).date().isoformat()
        status, export = api.call("POST", "/api/exports", {
            "kind": "contributions_csv", "from": today, "to": today,
            "committee_id": self.committee_id}, staff(admin_key))
        assert status in (201, 202), export
        self.export_id = export["export_id"]
        # A committee whose books are set up: a $1,000 gift ten days before its primary (a
        # 48-hour notice), and its quarterly report, built and finalized.
        filer = Campaign(api, committee_id())
        books = {"opening_cash_on_hand_cents": 500_000, "opening_cash_as_of": "2024-11-06"}
        # Gifts are designated from the calendar as it is when they are made: elections after.
        for body in (committee_body(elections=None, **books), committee_body(**books)):
            assert api.call("PUT", f"/api/admin/committees/{filer.committee_id}", body,
                            staff(admin_key))[0] == 200
            if body.get("elections") is None:
                large = filer.give(donor("Ana"), 100_000, "2026-05-23", hour=17)
        drain_until(delivered(f"notice_check#{large['donation_id']}"))
        status, found = api.call("GET", f"/api/admin/notices?committee_id={filer.committee_id}",
                                 headers=staff(admin_key))
        assert status == 200 and found["notices"], found
        self.notice_id = found["notices"][0]["notice_id"]
        self.filer_id = filer.committee_id
        status, report = api.call("POST", "/api/admin/reports", {
            "committee_id": filer.committee_id, "report_code": "Q2", "from": "2026-05-14",
            "to": "2026-06-30"}, staff(admin_key))
        assert status in (201, 202), report
        self.report_id, self.filer_id = report["report_id"], filer.committee_id
        run_queues()
        status, final = api.call("POST", f"/api/admin/reports/{self.report_id}/finalize", {
            "treasurer_name": "Dana M. Okafor", "date_signed": "2026-07-10"}, staff(admin_key))
        assert status == 200, final
        self.batch = "dep-" + uuid.uuid4().hex[:12]
        status, declared = api.call("PUT", f"/api/admin/deposits/{self.batch}", {
            "committee_id": filer.committee_id, "expected_total_cents": 0}, staff(admin_key))
        assert status == 200, declared
        self.payout_id = "po_" + uuid.uuid4().hex[:20]
        now = datetime.now(timezone.utc)
        PayoutRepository(deps.settings().region).record_event(PayoutEvent(
            "evt_" + uuid.uuid4().hex[:20], "payout.paid",
            PayoutFacts(self.payout_id, 2622, "usd", "paid", now, now), now), now)

        status, detail = api.call("GET", f"/api/admin/actions/{self.action_id}", headers=staff(ORGANIZER_KEY))
        assert status == 200 and detail["host_url"], detail  # the organizer who made it hosts it
        # The donor signed in to their portal (its link, its button, its own cookie).
        self.portal = Console(api.client)
        link = f"/me?t={t.issue(tokens.PORTAL, self.donor_id)}"
        signed = self.portal.post("/me/signin", {"t": link.split("t=", 1)[1]}, csrf=self.portal.csrf(link))
        assert signed.status_code == 303 and signed.headers["Location"] == "/me", signed.body[:300]
        staff_digest = hash_key(admin_key)
        # A held excess whose donor named another card holder (so both links show their forms).
        held = redesignated_gift(api, general_cents=9_000)
        ask = t.issue(tokens.REATTRIBUTION, held)
        status, _ = api.call("POST", f"/reattribution/{ask}", raw="first_name=Ben&last_name=Cho&email="
                             "ben.safe%40example.org&amount=5", headers={"Content-Type": FORM})
        assert status == 200
        self.tokens = {
            "/reattribution/confirm/": t.issue(tokens.REATTRIBUTION_CONFIRM, held),
            "/reattribution/": ask,
            "/c/": t.issue(tokens.CANCEL_PLAN, self.subscription_id),
            "/u/": t.issue(tokens.UNSUBSCRIBE, self.person_id),
            "/i/": t.issue(tokens.RSVP, invitations[0].invitation_id),
            "/s/": t.issue(tokens.CONFIRM, donor_id_for(signup_email)),
            "/e/": t.issue(tokens.EMPLOYMENT, self.donor_id),
            "/h/": detail["host_url"].rsplit("/", 1)[1],
            "/f/": t.issue(tokens.FEEDBACK, invitations[0].invitation_id),
            "/redesignation/": t.issue(tokens.REDESIGNATION, redesignated_gift(api)),
            "/support/": t.issue(tokens.SUPPORT, self.donor_id, self.slug),
        }
        self.queries = {
            "/donate/{slug}": f"?t={t.issue(tokens.DONOR, self.donor_id)}&refcode=safe&amount=2700",
            "/donate/{slug}/thanks": f"?donation_id={self.donation_id}",
            "/express/{slug}": f"?t={t.issue(tokens.EXPRESS, self.donor_id, self.committee_id)}"
                               "&amount=2700",
            "/admin/login/link": f"?t={t.issue(tokens.SIGNIN, staff_digest)}",
            "/admin/donations": f"?q={self.donation_id}",
            "/admin/preview": f"?slug={self.slug}",
            "/api/admin/reports/refcodes": f"?page={self.slug}",
            "/api/admin/reports/participation": f"?action_id={self.action_id}",
            "/api/admin/reports": f"?committee_id={self.filer_id}",
            "/admin/reports/refcodes": f"?page={self.slug}",
            "/admin/reports/participation": f"?action_id={self.action_id}",
            "/admin/filings": f"?committee_id={self.filer_id}",
            "/api/admin/notices": f"?committee_id={self.filer_id}",
        }

    def start(self, body: dict[str, Any]) -> dict[str, Any]:
        status, started = self.api.call("POST", f"/api/pages/{self.slug}/donations", body)
        assert status == 201, started
        return started

    def fill(self, route: str) -> str:
        values = {"slug": self.slug, "action_id": self.action_id, "donation_id": self.donation_id,
                  "donor_id": self.donor_id, "committee_id": self.committee_id,
                  "export_id": self.export_id, "payout_id": self.payout_id, "name": "donate.js",
                  "code": self.share_code, "report_id": self.report_id,
                  "notice_id": self.notice_id, "batch": self.batch}

        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name == "token":
                return next(v for prefix, v in self.tokens.items() if route.startswith(prefix))
            return values[name]

        return re.sub(r"\{([^}]+)\}", value, route) + self.queries.get(route, "")

    def headers(self, route: str) -> dict[str, str]:
        if route.startswith("/api/"):
            return staff(self.admin_key)
        if route.startswith("/admin"):
            return self.console._headers()
        if route.startswith("/me"):
            return self.portal._headers()
        return {"Cookie": "gs_vid=safe-methods-visitor"}


@pytest.fixture(scope="module")
def seeded(local_stack: dict[str, Any]) -> Iterator[Seeded]:
    from chalice.test import Client

    from app import app
    from tests.conftest import Api

    with Client(app, stage_name="dev") as client:
        key = staff_key("admin")
        console = Console(client)
        assert console.sign_in_with_key(key).status_code == 303
        seeded = Seeded(Api(client), console, key, local_stack["stripe_url"])
        try:
            yield seeded
        finally:  # closed, so later tests' donors are invited only to their own actions
            seeded.api.call("PUT", f"/api/admin/actions/{seeded.action_id}", {"active": False},
                            staff(ORGANIZER_KEY))


# Answers other than 2xx/3xx a seeded GET may give, and why (none today).
EXPECTED_REFUSALS: dict[str, int] = {}


@pytest.mark.parametrize("route", get_routes())
def test_no_get_or_head_writes_anything(seeded: Seeded, route: str) -> None:
    path, headers = seeded.fill(route), seeded.headers(route)
    http = seeded.api.client.http
    warm = http.get(path, headers=headers)  # builds what the route builds lazily (clients, caches)
    assert warm.status_code < 400 or EXPECTED_REFUSALS.get(route) == warm.status_code, \
        (route, warm.status_code, warm.body[:300])
    for method in ("GET", "HEAD"):
        with dynamodb_requests_everywhere() as calls:
            response = http.request(method, path, headers=headers)
        assert response.status_code < 500, (method, route, response.status_code)
        written = {op: n for op, n in calls.items() if op in WRITES}
        assert not written, (method, route, written)


def test_a_cancel_link_opened_twice_leaves_the_gift_running(seeded: Seeded, local_stack) -> None:
    """What a scanner does to a receipt: open every link. The monthly gift goes on."""
    path = seeded.fill("/c/{token}")
    for _ in range(2):
        assert seeded.api.client.http.get(path).status_code == 200
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    assert client.v1.subscriptions.retrieve(seeded.subscription_id).status != "canceled"
