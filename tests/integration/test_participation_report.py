"""The participation funnel through the running stack (issue 16): people invited to an action,
their RSVPs, confirmations and check-ins through their links, and an attendee's proposal to
host, counted stage by stage exactly as they happened."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.giving.model import donor_id_for
from tests.console_kit import Console, staff_key
from tests.followups_kit import action_body, invite, iso, now
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, staff

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def funnel(api, action_id: str, key: str = ORGANIZER_KEY) -> dict:
    status, body = api.call("GET", f"/api/admin/reports/participation?action_id={action_id}",
                            headers=staff(key))
    assert status == 200, body
    return body["counts"]


def test_the_funnel_counts_the_people_at_each_stage_exactly(api, client) -> None:
    from chalicelib import deps, tokens

    starts = now() + timedelta(minutes=30)
    status, action = api.call("POST", "/api/admin/actions", action_body(
        title="Funnel party", capacity=4, starts_at=iso(starts),
        ends_at=iso(starts + timedelta(hours=2))), staff(ORGANIZER_KEY))
    assert status == 201, action
    action_id = action["action_id"]
    people = invite(action_id, 7, "funnel")
    ids = [f"{donor_id_for(email)}.{action_id}" for email, _ in people]
    assert funnel(api, action_id) == {"invited": 7, "rsvp_yes": 0, "confirmed": 0, "attended": 0,
                                      "hosted_or_raised": 0}

    def rsvp(n: int, response: str) -> dict:
        status, body = api.call("POST", f"/api/invitations/{people[n][1]}/rsvp", {"response": response})
        assert status == 200, body
        return body

    for n in (0, 1, 2, 3):
        assert rsvp(n, "yes")["status"] == "yes"
    assert rsvp(4, "yes")["status"] == "waitlisted"  # the four seats are taken
    rsvp(5, "no")  # the seventh never answers
    for n in (1, 2, 3):
        assert rsvp(n, "confirm")["status"] == "confirmed"
    host = api.call("GET", f"/api/admin/actions/{action_id}",
                    headers=staff(ORGANIZER_KEY))[1]["host_url"].rsplit("/h/", 1)[1]
    for n in (2, 3):
        status, body = api.call("POST", f"/api/host/{host}/checkin", {"invitation_id": ids[n]})
        assert status == 200, body
    assert funnel(api, action_id) == {"invited": 7, "rsvp_yes": 5, "confirmed": 3, "attended": 2,
                                      "hosted_or_raised": 0}

    feedback = deps.tokens().issue(tokens.FEEDBACK, ids[2])
    assert api.client.http.post(f"/f/{feedback}", body="rating=5", headers=FORM).status_code == 200
    offered = api.client.http.post(f"/f/{feedback}/host", body="title=Block party", headers=FORM)
    assert offered.status_code == 200
    counts = funnel(api, action_id, FINANCE_KEY)
    assert counts == {"invited": 7, "rsvp_yes": 5, "confirmed": 3, "attended": 2, "hosted_or_raised": 1}

    console = Console(client)
    assert console.sign_in_with_key(staff_key("organizer")).status_code == 303
    page = console.get(f"/admin/reports/participation?action_id={action_id}")
    assert page.status_code == 200 and len(page.body) < 60 * 1024
    html = page.body.decode()
    assert "<svg" in html and "Funnel party" in html
    rows = dict(re.findall(r'<th scope="row">([^<]*)</th><td class="n">([^<]*)</td>', html))
    assert rows == {"Invited": "7", "Said yes": "5", "Confirmed": "3", "Attended": "2",
                    "Hosted or raised": "1"}


def test_the_funnel_needs_a_known_action(api) -> None:
    status, body = api.call("GET", "/api/admin/reports/participation", headers=staff(ORGANIZER_KEY))
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    status, body = api.call("GET", "/api/admin/reports/participation?action_id=act_nope",
                            headers=staff(ORGANIZER_KEY))
    assert status == 404
