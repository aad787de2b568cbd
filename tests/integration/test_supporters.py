"""Supporters who raise, through the running stack (issue 16): a donor's signed link from their
thank-you page starts their own page under the campaign page; it waits for an organizer, who
approves it; a friend's gift there (a signed webhook) is credited to the supporter and shows on
their page and on the campaign's leaderboard."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import deps
from chalicelib.giving.model import donor_id_for
from tests.console_kit import Console, staff_key, text
from tests.followups_kit import action_body, delivered, drain_until, give, invite, iso, now
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, staff
from tests.mail import links, mailbox, sent_to  # noqa: F401 - the fixture

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def email() -> str:
    return f"s.{uuid.uuid4().hex[:10]}@example.org"


def board(api: Any, slug: str, query: str = "") -> dict[str, Any]:
    status, body = api.call("GET", f"/api/admin/pages/{slug}/supporters{query}", headers=staff(ORGANIZER_KEY))
    assert status == 200, body
    return body


def test_a_supporter_page_is_started_approved_given_to_and_credited(api) -> None:
    campaign = api.create_page()["slug"]
    ana = email()
    mine = give(api, campaign, ana)
    drain_until(delivered(f"thanks#{mine['donation_id']}"))  # her person record exists

    thanks = api.client.http.get(f"/donate/{campaign}/thanks?donation_id={mine['donation_id']}")
    assert thanks.status_code == 200
    link = re.search(r'id="start-page" href="[^"]*(/support/[^"]+)"', thanks.body.decode())
    assert link is not None
    start_path = html.unescape(link[1])

    form = api.client.http.get(start_path)  # the GET shows the form and writes nothing
    assert form.status_code == 200 and b'name="handle"' in form.body
    assert board(api, campaign)["supporters"] == []

    # A bad goal answers the form again, 400, with the reason and what was typed; nothing written.
    refused = api.client.http.post(start_path, body=urlencode(
        {"display_name": "Ana", "handle": "ana-raises", "goal": "lots", "note": "hi"}), headers=FORM)
    assert refused.status_code == 400 and b"goal_cents" in refused.body
    assert b'value="ana-raises"' in refused.body
    assert board(api, campaign)["supporters"] == []

    note = "Why I give: <script>alert(1)</script>\r\nJoin me!"
    body = urlencode({"display_name": "Ana", "handle": "ana-raises", "goal": "500", "note": note})
    started = api.client.http.post(start_path, body=body, headers=FORM)
    assert started.status_code == 201 and b"waiting for approval" in started.body
    child = f"{campaign}--ana-raises"

    # Pending: nobody sees it or gives on it; organizers see it waiting.
    assert api.client.http.get(f"/donate/{child}").status_code == 404
    assert api.call("POST", f"/api/pages/{child}/donations", donation_body(email=email()))[0] == 404
    [row] = board(api, campaign)["supporters"]
    assert (row["slug"], row["status"], row["goal_cents"], row["raised_cents"]) == (
        child, "pending", 50_000, 0)
    assert api.call("GET", f"/api/admin/pages/{campaign}/supporters", headers=staff(FINANCE_KEY))[0] == 403
    assert api.call("POST", f"/api/admin/pages/{child}/approve", headers=staff(FINANCE_KEY))[0] == 403
    assert api.call("POST", f"/api/admin/pages/{child}/approve")[0] == 401

    status, approved = api.call("POST", f"/api/admin/pages/{child}/approve", headers=staff(ORGANIZER_KEY))
    assert status == 200 and approved["supporter"]["status"] == "live", approved
    assert api.call("POST", f"/api/admin/pages/{child}/decline", headers=staff(ORGANIZER_KEY))[0] == 409

    page = api.client.http.get(f"/donate/{child}")
    text = page.body.decode()
    assert page.status_code == 200 and "Ana is raising $500" in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert api.public(child)["committee_id"] == api.public(campaign)["committee_id"]

    # A friend's gift there, whatever refcode they came with, is credited to Ana.
    friend = give(api, child, email(), cents=5000, refcode="newsletter")
    assert api.donation(friend["donation_id"])["refcode"].startswith("sh-")
    drain_until(delivered(f"credit#{friend['donation_id']}"))
    status, ana_view = api.call("GET", f"/api/admin/donors/{donor_id_for(ana)}", headers=staff(ORGANIZER_KEY))
    assert status == 200 and (ana_view["recruited_count"], ana_view["recruited_cents"]) == (1, 5000)

    progress = api.public(child)
    assert (progress["raised_cents"], progress["contribution_count"]) == (5000, 1)
    shown = api.client.http.get(f"/donate/{child}").body.decode()
    assert '<span id="joined">1</span> person has given through this page' in shown
    top = board(api, campaign)
    assert top["total_raised_cents"] == 5000 and top["supporters"][0]["rank"] == 1
    assert (top["supporters"][0]["raised_cents"], top["supporters"][0]["contribution_count"]) == (5000, 1)

    # The same link again: one page per donor and campaign page.
    again = api.client.http.post(start_path, body="display_name=Ana&handle=ana-two&goal=50", headers=FORM)
    assert again.status_code == 409


def test_the_json_api_refuses_bad_input_and_a_campaign_may_skip_approval(api) -> None:
    campaign = api.create_page()["slug"]
    status, _ = api.call("PUT", f"/api/admin/pages/{campaign}", {"supporters_auto_approve": True},
                         staff(ORGANIZER_KEY))
    assert status == 200
    token = deps.supporters().start_link_token(donor_id_for(email()), campaign)
    for bad in ({"goal_cents": 10.5}, {"handle": "No Spaces"}, {"note": "x" * 501}, {"display_name": ""}):
        body = {"token": token, "handle": "ben-raises", "goal_cents": 20_000, "display_name": "Ben", **bad}
        status, error = api.call("POST", "/api/supporters", body)
        assert status == 400 and set(bad) <= set(error["error"]["fields"]), error
    assert board(api, campaign)["supporters"] == []
    assert api.call("POST", "/api/supporters", {"token": token[:-3] + "xyz", "handle": "ben"})[0] == 400

    status, started = api.call("POST", "/api/supporters", {
        "token": token, "handle": "ben-raises", "goal_cents": 20_000, "display_name": "Ben"})
    assert status == 201 and started["status"] == "live", started
    assert api.client.http.get(started["url"]).status_code == 200
    # The campaign page's later changes reach it: it inherits its ladder and deadlines.
    assert api.call("PUT", f"/api/admin/pages/{campaign}", {"ask_amounts_cents": [1500, 5000]},
                    staff(ORGANIZER_KEY))[0] == 200
    assert api.public(started["slug"])["ask_amounts_cents"] == [1500, 5000]
    assert board(api, campaign, "?status=live")["supporters"][0]["handle"] == "ben-raises"
    assert board(api, campaign, "?status=pending")["supporters"] == []
    assert api.call("GET", f"/api/admin/pages/{campaign}/supporters?limit=0",
                    headers=staff(ORGANIZER_KEY))[0] == 400


def funnel(api: Any, query: str) -> dict[str, int]:
    status, body = api.call("GET", f"/api/admin/reports/participation?{query}", headers=staff(ORGANIZER_KEY))
    assert status == 200, body
    return body["counts"]


def test_the_funnel_of_a_page_and_a_refcode_counts_what_its_donors_did(api, client) -> None:
    campaign = api.create_page()["slug"]
    assert api.call("PUT", f"/api/admin/pages/{campaign}", {"supporters_auto_approve": True},
                    staff(ORGANIZER_KEY))[0] == 200
    starts = now() + timedelta(minutes=30)
    status, action = api.call("POST", "/api/admin/actions", action_body(
        title="Page funnel party", capacity=10, starts_at=iso(starts),
        ends_at=iso(starts + timedelta(hours=2))), staff(ORGANIZER_KEY))
    assert status == 201, action
    invited = invite(action["action_id"], 4, "pf")
    for address, _token in invited:
        give(api, campaign, address)
    raiser = email()
    give(api, campaign, raiser, refcode="mail")
    empty = {"donors": 0, "invited": 0, "rsvp_yes": 0, "confirmed": 0, "attended": 0, "hosted_or_raised": 0}
    assert funnel(api, f"page_slug={campaign}") == {**empty, "donors": 5, "invited": 4}

    def rsvp(n: int, response: str) -> None:
        status, body = api.call("POST", f"/api/invitations/{invited[n][1]}/rsvp", {"response": response})
        assert status == 200, body

    for n in (0, 1, 2):
        rsvp(n, "yes")
    for n in (1, 2):
        rsvp(n, "confirm")
    host = api.call("GET", f"/api/admin/actions/{action['action_id']}",
                    headers=staff(ORGANIZER_KEY))[1]["host_url"].rsplit("/h/", 1)[1]
    status, body = api.call("POST", f"/api/host/{host}/checkin",
                            {"invitation_id": f"{donor_id_for(invited[2][0])}.{action['action_id']}"})
    assert status == 200, body

    # The fifth donor raises: their own page, and a friend's gift on it.
    token = deps.supporters().start_link_token(donor_id_for(raiser), campaign)
    status, started = api.call("POST", "/api/supporters", {
        "token": token, "handle": "raiser", "goal_cents": 10_000, "display_name": "Rae"})
    assert status == 201 and started["status"] == "live", started
    assert funnel(api, f"page_slug={campaign}")["hosted_or_raised"] == 0  # no gift there yet
    give(api, started["slug"], email())

    assert funnel(api, f"page_slug={campaign}") == {"donors": 5, "invited": 4, "rsvp_yes": 3,
                                                    "confirmed": 2, "attended": 1, "hosted_or_raised": 1}
    assert funnel(api, f"page_slug={campaign}&refcode=mail") == {**empty, "donors": 1, "hosted_or_raised": 1}
    assert funnel(api, f"page_slug={started['slug']}")["donors"] == 1
    assert funnel(api, f"page_slug={campaign}&from=2020-01-01&to=2020-01-31") == empty
    for bad in (f"page_slug={campaign}&refcode=no%20spaces", "page_slug=Not_A_Slug", "refcode=mail",
                f"page_slug={campaign}&from=yesterday"):
        assert api.call("GET", f"/api/admin/reports/participation?{bad}",
                        headers=staff(ORGANIZER_KEY))[0] == 400, bad
    assert api.call("GET", "/api/admin/reports/participation?page_slug=no-such-page",
                    headers=staff(ORGANIZER_KEY))[0] == 404

    console = Console(client)
    assert console.sign_in_with_key(staff_key("organizer")).status_code == 303
    shown = console.get(f"/admin/reports/participation?page_slug={campaign}")
    assert shown.status_code == 200 and "<svg" in text(shown)
    rows = dict(re.findall(r'<th scope="row">([^<]*)</th><td class="n">([^<]*)</td>', text(shown)))
    assert rows == {"Donors": "5", "Invited": "4", "Said yes": "3", "Confirmed": "2", "Attended": "1",
                    "Hosted or raised": "1"}
    assert console.get("/admin/reports/participation?page_slug=Bad_Slug").status_code == 400


def test_organizers_approve_from_the_console_leaderboard(api, client) -> None:
    campaign = api.create_page()["slug"]
    pending = []
    for name in ("cora", "dev"):
        token = deps.supporters().start_link_token(donor_id_for(email()), campaign)
        status, started = api.call("POST", "/api/supporters", {
            "token": token, "handle": name, "goal_cents": 30_000, "display_name": name.title()})
        assert status == 201 and started["status"] == "pending", started
        pending.append(started["slug"])

    console = Console(client)
    assert console.sign_in_with_key(staff_key("organizer")).status_code == 303
    board_path = f"/admin/pages/{campaign}/supporters"
    shown = console.get(board_path)
    assert shown.status_code == 200 and text(shown).count(">Approve</button>") == 2
    approved = console.submit(board_path, f"/admin/pages/{pending[0]}/approve", {})
    assert approved.status_code == 303
    assert approved.headers["Location"] == f"{board_path}?decided={pending[0]}"
    declined = console.submit(board_path, f"/admin/pages/{pending[1]}/decline", {})
    assert declined.status_code == 303
    assert api.client.http.get(f"/donate/{pending[0]}").status_code == 200
    assert api.client.http.get(f"/donate/{pending[1]}").status_code == 404
    after = text(console.get(f"{board_path}?status=live"))
    assert pending[0] in after and pending[1] not in after and ">Approve</button>" not in after
    again = console.submit(board_path, f"/admin/pages/{pending[0]}/decline", {})
    assert again.status_code == 409
    # Without the form's CSRF token nothing is decided.
    assert console.post(f"/admin/pages/{pending[0]}/decline", {}).status_code == 403

    finance = Console(client)
    assert finance.sign_in_with_key(staff_key("finance")).status_code == 303
    assert finance.get(board_path).status_code == 403


def test_the_thank_you_email_and_the_portal_offer_the_link(api, client, mailbox) -> None:  # noqa: F811
    from chalicelib import tokens

    campaign = api.create_page()["slug"]
    ana = email()
    mine = give(api, campaign, ana)
    drain_until(delivered(f"thanks#{mine['donation_id']}"))
    [start_path] = links(sent_to(mailbox, ana)[-1], "support")
    assert api.client.http.get(start_path).status_code == 200

    donor_id = api.donation(mine["donation_id"])["donor_id"]
    portal = Console(client)
    link = f"/me?t={deps.tokens().issue(tokens.PORTAL, donor_id)}"
    signed = portal.post("/me/signin", {"t": link.split("t=", 1)[1]}, csrf=portal.csrf(link))
    assert signed.status_code == 303
    shown = text(portal.get("/me"))
    offered = re.search(r'<a href="[^"]*(/support/[^"]+)">start my page</a>', shown)
    assert offered is not None
    status, started = api.call("POST", "/api/supporters", {
        "token": html.unescape(offered[1]).rsplit("/", 1)[1], "handle": "ana-me", "goal_cents": 10_000,
        "display_name": "Ana"})
    assert status == 201, started
    shown = text(portal.get("/me"))
    assert f'<a href="/donate/{campaign}--ana-me">your page</a> (waiting for' in shown
    assert "start my page" not in shown


def test_one_page_per_donor_even_when_their_starts_race(api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.errors import Conflict

    campaign = api.create_page()["slug"]
    service = deps.supporters()
    token = service.start_link_token(donor_id_for(email()), campaign)
    assert token is not None

    def start(n: int) -> str:
        try:
            return service.start(token, {"handle": f"racer-{n}", "goal_cents": 10_000,
                                         "display_name": "Racer"}).slug
        except Conflict as conflict:
            return conflict.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(start, range(6)))
    made = [o for o in outcomes if o.startswith(campaign)]
    assert len(made) == 1 and set(outcomes) - set(made) == {"supporter_page_exists"}, outcomes
    assert [r["slug"] for r in board(api, campaign)["supporters"]] == made
