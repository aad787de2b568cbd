"""Hosts through the API against moto's server: the host link and its roster (contact details
only for who agreed), one-tap check-in, walk-ins who become people (invited only with their
consent), a supporter made host (the old link stops), and no-shows marked once the event ends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import action_body, drain_at, invite, iso, now, outbox_item
from tests.helpers import ORGANIZER_KEY, staff, tampered_token

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def soon(**overrides: object) -> dict:
    """An action starting within the hour (check-in is open), two hours long."""
    starts = now() + timedelta(minutes=30)
    return action_body(starts_at=iso(starts), ends_at=iso(starts + timedelta(hours=2)), **overrides)


def detail(api, action_id: str) -> dict:
    status, body = api.call("GET", f"/api/admin/actions/{action_id}", headers=staff(ORGANIZER_KEY))
    assert status == 200, body
    return body


def host_token(api, action_id: str) -> str:
    url = detail(api, action_id)["host_url"]
    assert url and "/h/" in url
    return url.rsplit("/h/", 1)[1]


@pytest.fixture()
def event(api):
    status, action = api.call("POST", "/api/admin/actions", soon(capacity=3, title="Porch party"),
                              staff(ORGANIZER_KEY))
    assert status == 201, action
    people = invite(action["action_id"], 4, "host")
    for n, (_, token) in enumerate(people):
        body = {"response": "yes", "share_contact": n == 0}
        assert api.call("POST", f"/api/invitations/{token}/rsvp", body)[0] == 200
    yield action, [(email, f"{donor_id_for(email)}.{action['action_id']}") for email, _ in people]
    api.call("PUT", f"/api/admin/actions/{action['action_id']}", {"active": False}, staff(ORGANIZER_KEY))


def test_the_host_sees_the_roster_with_only_the_emails_people_agreed_to_share(api, event) -> None:
    action, people = event
    shown = detail(api, action["action_id"])
    assert shown["host"]["kind"] == "staff" and shown["host"]["name"]  # the organizer who created it
    token = host_token(api, action["action_id"])
    before = detail(api, action["action_id"])
    page = api.client.http.get(f"/h/{token}")
    assert page.status_code == 200 and b"Porch party" in page.body
    html = page.body.decode()
    assert people[0][0] in html  # agreed to share
    assert all(email not in html for email, _ in people[1:])
    assert html.count('name="op" value="checkin"') == 4  # three seated, one waiting
    after = detail(api, action["action_id"])
    assert {k: v for k, v in after.items() if k != "host_url"} == \
        {k: v for k, v in before.items() if k != "host_url"}  # the GET changed nothing


def test_check_in_is_one_tap_and_someone_from_the_waitlist_takes_a_seat_at_the_door(api, event) -> None:
    action, people = event
    token = host_token(api, action["action_id"])
    for _ in range(2):  # the same tap twice
        status, body = api.call("POST", f"/api/host/{token}/checkin", {"invitation_id": people[0][1]})
        assert (status, body["status"]) == (200, "attended")
    assert detail(api, action["action_id"])["seats_taken"] == 3
    form = api.client.http.post(f"/h/{token}", body=f"op=checkin&invitation_id={people[3][1]}", headers=FORM)
    assert form.status_code == 200 and b"Checked in." in form.body
    shown = detail(api, action["action_id"])
    assert (shown["seats_taken"], shown["waiting"], shown["rsvps"]["attended"]) == (4, 0, 2)
    status, error = api.call("POST", f"/api/host/{token}/checkin", {"invitation_id": "dnr_x.act_other"})
    assert (status, error["error"]["code"]) == (404, "invitation_not_found")
    forged = tampered_token(token)
    assert api.call("POST", f"/api/host/{forged}/checkin", {"invitation_id": people[1][1]})[0] == 400
    status, error = api.call("POST", f"/api/host/{token}/checkin", {"invitation_id": people[1][1], "x": 1})
    assert status == 400 and detail(api, action["action_id"])["rsvps"]["attended"] == 2


def test_walk_ins_become_people_invited_only_with_their_consent(api, event) -> None:
    from chalicelib import deps

    action, _ = event
    token = host_token(api, action["action_id"])
    willing, passing = (f"walkin.{n}.{datetime.now().timestamp()}@example.org" for n in ("yes", "no"))
    status, body = api.call("POST", f"/api/host/{token}/walkins", {
        "first_name": "Rosa", "last_name": "Parks", "email": willing, "zip": "05601", "consent": True})
    assert (status, body["status"], body["person_id"]) == (201, "attended", donor_id_for(willing))
    form = api.client.http.post(f"/h/{token}", headers=FORM, body=(
        f"op=walkin&first_name=Ed&last_name=Lee&email={passing.replace('@', '%40')}&zip=05602"))
    assert form.status_code == 200 and b"Welcome, Ed" in form.body
    store = deps.followup_store()
    person, other = store.get_person(donor_id_for(willing)), store.get_person(donor_id_for(passing))
    assert person is not None and person.invitable
    assert (person.first_name, person.last_name) == ("Rosa", "Parks")
    assert other is not None and not other.subscribed
    assert outbox_item(f"welcome#{donor_id_for(willing)}") is not None
    assert outbox_item(f"welcome#{donor_id_for(passing)}") is None
    shown = detail(api, action["action_id"])
    assert (shown["seats_taken"], shown["rsvps"]["attended"]) == (5, 2)
    bad = api.call("POST", f"/api/host/{token}/walkins", {"first_name": "X", "last_name": "Y",
                                                          "email": "not-an-email", "zip": "1"})
    assert bad[0] == 400 and set(bad[1]["error"]["fields"]) == {"email", "zip"}
    assert detail(api, action["action_id"])["seats_taken"] == 5


def test_a_supporter_made_host_gets_their_own_link_and_the_old_one_stops(api, event) -> None:
    action, people = event
    old = host_token(api, action["action_id"])
    supporter = people[1][1].split(".")[0]
    status, updated = api.call("PUT", f"/api/admin/actions/{action['action_id']}",
                               {"host_person_id": supporter}, staff(ORGANIZER_KEY))
    assert (status, updated["host"]["kind"], updated["host"]["person_id"]) == (200, "supporter", supporter)
    assert api.call("PUT", f"/api/admin/actions/{action['action_id']}", {"host_person_id": "dnr_nobody"},
                    staff(ORGANIZER_KEY))[0] == 400
    status, error = api.call("POST", f"/api/host/{old}/checkin", {"invitation_id": people[0][1]})
    assert (status, error["error"]["code"]) == (410, "link_replaced")
    assert api.client.http.get(f"/h/{old}").status_code == 410
    new = host_token(api, action["action_id"])
    checked = api.call("POST", f"/api/host/{new}/checkin", {"invitation_id": people[0][1]})[1]
    assert checked["status"] == "attended"


def test_no_shows_are_marked_once_the_event_ends(api, event) -> None:
    action, people = event
    token = host_token(api, action["action_id"])
    api.call("POST", f"/api/host/{token}/checkin", {"invitation_id": people[0][1]})
    ends = datetime.fromisoformat(action["ends_at"].replace("Z", "+00:00"))
    stamp = int(ends.timestamp())
    drain_at(ends - timedelta(minutes=1))
    assert outbox_item(f"wrap_up#{action['action_id']}#{stamp}").status == "pending"
    drain_at(ends + timedelta(minutes=1))
    drain_at(ends + timedelta(minutes=2))
    item = outbox_item(f"wrap_up#{action['action_id']}#{stamp}")
    assert (item.status, item.result) == ("sent", "2 no-shows")
    counts = detail(api, action["action_id"])["rsvps"]
    assert (counts["attended"], counts["no_show"], counts["waitlisted"]) == (1, 2, 1)
    # A late tap still counts: the host checks in someone marked a no-show.
    assert api.call("POST", f"/api/host/{token}/checkin", {"invitation_id": people[1][1]})[1]["status"] \
        == "attended"
