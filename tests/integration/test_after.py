"""After the event, against moto's server and the real outbox: "How was it?" once per attendee
however often the drain runs, the rating (GET shows, POST records), the offer to host after a
4 or 5, and the organizers' approval queue (approve: the supporter gets their host link)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import action_body, drain_at, invite, iso, now, outbox_item
from tests.helpers import ORGANIZER_KEY, staff
from tests.mail import links, mirrored, sent_to, token_of

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


def host_token(api, action_id: str) -> str:
    detail = api.call("GET", f"/api/admin/actions/{action_id}", headers=staff(ORGANIZER_KEY))[1]
    return detail["host_url"].rsplit("/h/", 1)[1]


def post(api, path: str, body: str):
    return api.client.http.post(path, body=body, headers=FORM)


def test_after_the_event_each_attendee_is_asked_once_and_a_happy_one_may_host(api, mailbox) -> None:
    from chalicelib import deps

    starts = now() + timedelta(minutes=30)
    ends = starts + timedelta(hours=2)
    status, action = api.call("POST", "/api/admin/actions", action_body(
        title="Porch party", starts_at=iso(starts), ends_at=iso(ends)), staff(ORGANIZER_KEY))
    assert status == 201, action
    people = invite(action["action_id"], 4, "after")
    ids = [f"{donor_id_for(email)}.{action['action_id']}" for email, _ in people]
    for _, token in people:
        assert api.call("POST", f"/api/invitations/{token}/rsvp", {"response": "yes"})[0] == 200
    host = host_token(api, action["action_id"])
    for invitation_id in (ids[0], ids[1], ids[3]):  # the third does not come
        assert api.call("POST", f"/api/host/{host}/checkin", {"invitation_id": invitation_id})[0] == 200
    assert outbox_item(f"after#{ids[2]}") is None
    assert abs((outbox_item(f"after#{ids[0]}").due_at - (ends + timedelta(hours=1))).total_seconds()) < 1

    subject = "How was Porch party?"
    drain_at(ends + timedelta(minutes=59))
    assert not [m for m in sent_to(mailbox, people[0][0]) if m["Subject"] == subject]
    drain_at(ends + timedelta(hours=1, minutes=1))
    drain_at(ends + timedelta(hours=1, minutes=2))  # the drain runs twice: nobody is asked twice
    asked = {email: [m for m in sent_to(mailbox, email) if m["Subject"] == subject] for email, _ in people}
    assert [len(asked[email]) for email, _ in people] == [1, 1, 0, 1]

    happy = token_of(links(asked[people[0][0]][0], "f")[0])
    shown = api.client.http.get(f"/f/{happy}?rating=5")
    assert shown.status_code == 200 and b'aria-pressed="true"' in shown.body
    assert deps.followup_store().get_invitation(ids[0]).rating is None  # the GET recorded nothing
    rated = post(api, f"/f/{happy}", "rating=5")
    assert rated.status_code == 200 and b"You rated it 5 out of 5" in rated.body
    assert b"Host one yourself?" in rated.body
    assert deps.followup_store().get_invitation(ids[0]).rating == 5
    assert post(api, f"/f/{happy}", "rating=9").status_code == 400

    meh = token_of(links(asked[people[1][0]][0], "f")[0])
    assert b"Host one yourself?" not in post(api, f"/f/{meh}", "rating=2").body
    assert post(api, f"/f/{meh}/host", "title=Mine").status_code == 409  # offered only after a 4 or 5

    offered = post(api, f"/f/{happy}/host", "title=Block party&description=June, on Elm Street")
    assert offered.status_code == 200 and b"Thank you for offering to host" in offered.body
    assert post(api, f"/f/{happy}/host", "title=Again").status_code == 409  # one offer per attendance
    other = token_of(links(asked[people[3][0]][0], "f")[0])
    post(api, f"/f/{other}", "rating=4")
    assert post(api, f"/f/{other}/host", "title=Book club canvass").status_code == 200

    status, queue = api.call("GET", "/api/admin/actions?status=proposed", headers=staff(ORGANIZER_KEY))
    mine = {a["title"]: a for a in queue["actions"] if a["host"] and a["host"].get("person_id") in (
        donor_id_for(people[0][0]), donor_id_for(people[3][0]))}
    assert status == 200 and set(mine) == {"Block party", "Book club canvass"}
    party, club = mine["Block party"], mine["Book club canvass"]
    assert (party["status"], party["active"], party["kind"]) == ("proposed", False, "host")
    assert api.call("GET", "/api/admin/actions?status=maybe", headers=staff(ORGANIZER_KEY))[0] == 400

    status, approved = api.call("POST", f"/api/admin/actions/{party['action_id']}/approve",
                                headers=staff(ORGANIZER_KEY))
    assert (status, approved["status"], approved["active"]) == (200, "active", True)
    again = api.call("POST", f"/api/admin/actions/{party['action_id']}/approve", headers=staff(ORGANIZER_KEY))
    assert (again[0], again[1]["error"]["code"]) == (409, "not_proposed")
    assert api.call("POST", f"/api/admin/actions/{club['action_id']}/decline",
                    headers=staff(ORGANIZER_KEY))[1]["status"] == "declined"
    assert api.call("POST", "/api/admin/actions/act_nothing/decline", headers=staff(ORGANIZER_KEY))[0] == 404
    queue = api.call("GET", "/api/admin/actions?status=proposed", headers=staff(ORGANIZER_KEY))[1]
    assert not {a["action_id"] for a in queue["actions"]} & {party["action_id"], club["action_id"]}

    drain_at(now())
    drain_at(now())
    told = [m for m in sent_to(mailbox, people[0][0]) if m["Subject"] == "You are hosting Block party"]
    assert len(told) == 1
    host_page = api.client.http.get(links(told[0], "h")[0])
    assert host_page.status_code == 200 and b"Block party" in host_page.body
    assert [m["Subject"] for m in sent_to(mailbox, people[3][0])][-1] == "About Book club canvass"
    for a in (action, party):
        api.call("PUT", f"/api/admin/actions/{a['action_id']}", {"active": False}, staff(ORGANIZER_KEY))
