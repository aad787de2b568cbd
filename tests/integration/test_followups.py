"""Follow-ups against moto's server and the real outbox: thank-yous with invitations, reminders,
RSVPs, unsubscribe, share credit, signups, SES feedback, and sends that survive crashes.

Mail is read back from moto's own record of what SES was asked to send."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import (
    SNS_TOPIC,
    LocalSns,
    action_body,
    bounce,
    complaint,
    delivered,
    drain_at,
    drain_until,
    environment,
    fresh_zip,
    invite,
    now,
    outbox_item,
    signing_sns,
)
from tests.helpers import FINANCE_KEY, ORGANIZER_KEY, donation_body, staff, stripe_event
from tests.mail import html_of, links, mirrored, sent_to, text_of, token_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


class Crash(BaseException):
    """A worker dying mid-way (not an error the dispatcher catches and schedules)."""


def unique_email() -> str:
    return f"f.{uuid.uuid4().hex[:10]}@example.org"


def pi_id(started: dict[str, Any]) -> str:
    return started["client_secret"].split("_secret_")[0]


def succeeded(started: dict[str, Any]) -> dict[str, Any]:
    return stripe_event("payment_intent.succeeded", id=pi_id(started), amount=started["amount_cents"],
                        amount_received=started["amount_cents"],
                        metadata={"donation_id": started["donation_id"]})


def start(api, slug: str, email: str, zip_: str, **top: Any) -> dict[str, Any]:
    body = donation_body(email=email, **top)
    body["donor"]["address"]["zip"] = zip_
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    return started


def give(api, slug: str, email: str, zip_: str, **top: Any) -> dict[str, Any]:
    """A successful contribution (intake, then its signed webhook)."""
    started = start(api, slug, email, zip_, **top)
    assert api.webhook(succeeded(started))[1]["outcome"] == "applied"
    return started


@pytest.fixture()
def actions(api):
    """Creates actions as an organizer; closes them afterwards so later tests match only theirs."""
    created: list[str] = []

    def make(**overrides: Any) -> dict[str, Any]:
        status, body = api.call("POST", "/api/admin/actions", action_body(**overrides), staff(ORGANIZER_KEY))
        assert status == 201, body
        created.append(body["action_id"])
        return body

    yield make
    for action_id in created:
        api.call("PUT", f"/api/admin/actions/{action_id}", {"active": False}, staff(ORGANIZER_KEY))


def near(zip_: str, **overrides: Any) -> dict[str, Any]:
    # Near by ZIP3 only: other tests' donors (Springfield, IL) are not near it.
    return {"virtual": False, "location": {"city": "Montpelier", "state": "VT", "zip": zip_[:3] + "99"},
            **overrides}


# --- staff routes ---------------------------------------------------------------------------------
STAFF_ROUTES = [
    ("POST", "/api/admin/actions", "organizer"),
    ("GET", "/api/admin/actions", "organizer"),
    ("GET", "/api/admin/actions/act_missing", "organizer"),
    ("PUT", "/api/admin/actions/act_missing", "organizer"),
    ("GET", "/api/admin/donors/dnr_missing", "organizer,finance"),
]


@pytest.mark.parametrize(("method", "path", "roles"), STAFF_ROUTES)
def test_staff_routes_refuse_no_key_unknown_key_and_wrong_role(api, method, path, roles) -> None:
    body = action_body() if method == "POST" else {"title": "x"} if method == "PUT" else None
    assert api.call(method, path, body)[0] == 401
    assert api.call(method, path, body, {"Authorization": "Bearer not-a-key"})[0] == 401
    assert api.call(method, path, body, {"Authorization": "Basic abc"})[0] == 401
    if "finance" not in roles:
        status, error = api.call(method, path, body, staff(FINANCE_KEY))
        assert (status, error["error"]["code"]) == (403, "forbidden")


def test_organizers_create_list_update_and_inspect_actions(api, actions) -> None:
    created = actions(kind="canvass", capacity=2, pages=["b-page", "a-page", "a-page"],
                      location={"city": "Springfield", "state": "il", "zip": "62701"}, virtual=False)
    assert created["capacity"] == 2 and created["seats_left"] == 2
    assert created["pages"] == ["a-page", "b-page"] and created["location"]["state"] == "IL"
    listed = api.call("GET", "/api/admin/actions", headers=staff(ORGANIZER_KEY))[1]["actions"]
    assert created["action_id"] in [a["action_id"] for a in listed]
    status, updated = api.call("PUT", f"/api/admin/actions/{created['action_id']}",
                               {"title": "Door knocking", "capacity": None}, staff(ORGANIZER_KEY))
    assert status == 200 and updated["title"] == "Door knocking" and updated["capacity"] is None
    status, detail = api.call("GET", f"/api/admin/actions/{created['action_id']}",
                              headers=staff(ORGANIZER_KEY))
    assert status == 200 and detail["invitations"] == []
    assert set(detail["rsvps"].values()) == {0} and detail["waiting"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "party"}, "kind"),
    ({"title": ""}, "title"),
    ({"capacity": 0}, "capacity"),
    ({"ends_at": "2020-01-01T00:00:00Z"}, "body"),
    ({"location": {"city": "X", "state": "ZZ", "zip": "12345"}}, "location.state"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_actions_are_refused_field_by_field(api, body, field) -> None:
    status, error = api.call("POST", "/api/admin/actions", action_body(**body), staff(ORGANIZER_KEY))
    assert status == 400 and field in error["error"]["fields"], error


def test_unknown_actions_are_404_and_nulls_where_not_allowed_400(api, actions) -> None:
    assert api.call("GET", "/api/admin/actions/act_nope", headers=staff(ORGANIZER_KEY))[0] == 404
    assert api.call("PUT", "/api/admin/actions/act_nope", {"title": "x"}, staff(ORGANIZER_KEY))[0] == 404
    created = actions()
    status, error = api.call("PUT", f"/api/admin/actions/{created['action_id']}", {"title": None},
                             staff(ORGANIZER_KEY))
    assert status == 400 and "title" in error["error"]["fields"]


def test_donation_intake_takes_interests(api) -> None:
    slug = api.create_page()["slug"]
    started = api.donate(slug, interests=["canvass", "phonebank", "canvass"])
    from chalicelib import deps

    assert deps.giving_service().donation(started["donation_id"]).interests == ["canvass", "phonebank"]
    status, error = api.call("POST", f"/api/pages/{slug}/donations", donation_body(interests=["party"]))
    assert status == 400 and any(k.startswith("interests") for k in error["error"]["fields"])


# --- the thank-you --------------------------------------------------------------------------------
def test_one_thank_you_with_the_best_invitations_however_often_the_webhook_comes(
        api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    canvass = actions(kind="canvass", title="Canvass the neighborhood", **near(zip_))
    phonebank = actions(kind="phonebank", title="Phone bank from home")
    far = actions(kind="canvass", title="Far away canvass", virtual=False,
                  location={"city": "Seattle", "state": "WA", "zip": "98101"})
    slug = api.create_page(title="Rivera & Friends")["slug"]
    donor = unique_email()
    started = start(api, slug, donor, zip_, interests=["canvass"])
    event = succeeded(started)
    assert [api.webhook(event)[1]["outcome"] for _ in range(3)] == ["applied", "duplicate", "duplicate"]
    # Stripe may also send a second event for the same success: still one thank-you.
    assert api.webhook(succeeded(started))[1]["outcome"] == "applied"
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    drain_until(lambda: True)  # and once more: nothing new may go out
    mail = sent_to(mailbox, donor)
    assert len(mail) == 1
    message = mail[0]
    assert message["Subject"] == "Thank you, Ana"
    text, html = text_of(message), html_of(message)
    assert text.index(canvass["title"]) < text.index(phonebank["title"])
    assert far["title"] not in text
    assert "Rivera &amp; Friends" in html and "Rivera & Friends" in text
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and "/api/unsubscribe/" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links(message, "u") and len(links(message, "i")) == 2 and links(message, "r")
    item = outbox_item(f"thanks#{started['donation_id']}")
    assert item.status == "sent" and item.result and not item.result.startswith(("skipped", "unconfirmed"))
    detail = api.call("GET", f"/api/admin/actions/{canvass['action_id']}", headers=staff(ORGANIZER_KEY))[1]
    # Other tests' pending thank-yous went out in the same drains: count only this donor's.
    assert [i["person_id"] for i in detail["invitations"]].count(donor_id_for(donor)) == 1


def test_a_donor_without_consent_gets_a_thank_you_without_invitations(api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    actions(**near(zip_))
    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, zip_, email_opt_in=False)
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    (message,) = sent_to(mailbox, donor)
    assert links(message, "i") == [] and links(message, "u")


def test_at_most_one_invitation_email_a_day(api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    actions(**near(zip_))
    actions(**near(zip_, kind="canvass"))
    slug = api.create_page()["slug"]
    donor = unique_email()
    first = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{first['donation_id']}"))
    second = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{second['donation_id']}"))
    one, two = sent_to(mailbox, donor)
    assert len(links(one, "i")) == 2 and links(two, "i") == []  # thanked, not invited again


# --- reminders ------------------------------------------------------------------------------------
def test_the_reminder_goes_only_to_who_has_not_answered(api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    action = actions(title="Weekend canvass", **near(zip_))
    slug = api.create_page()["slug"]
    answered, silent = unique_email(), unique_email()
    a, s = give(api, slug, answered, zip_), give(api, slug, silent, zip_)
    for started in (a, s):
        drain_until(delivered(f"thanks#{started['donation_id']}"))
    token = token_of(links(sent_to(mailbox, answered)[0], "i")[0])
    status, body = api.call("POST", f"/api/invitations/{token}/rsvp", {"response": "no"})
    assert status == 200 and body["status"] == "no"

    drain_at(now() + timedelta(hours=47))  # not yet due
    assert outbox_item(f"reminder#{a['donation_id']}").status == "pending"
    drain_at(now() + timedelta(days=2, minutes=5))
    assert outbox_item(f"reminder#{a['donation_id']}").result == "skipped: answered"
    assert len(sent_to(mailbox, answered)) == 1
    _thanks, reminder = sent_to(mailbox, silent)
    assert reminder["Subject"] == "Still time to join us" and action["title"] in text_of(reminder)
    assert [token_of(p) for p in links(reminder, "i")] != []
    assert outbox_item(f"reminder#{s['donation_id']}").status == "sent"


def test_a_yes_to_an_event_gets_a_reminder_the_day_before(api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    starts = now() + timedelta(days=4)
    action = actions(title="Rally", starts_at=starts.isoformat(),
                     ends_at=(starts + timedelta(hours=2)).isoformat(), **near(zip_, kind="event"))
    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    token = token_of(links(sent_to(mailbox, donor)[0], "i")[0])
    assert api.call("POST", f"/api/invitations/{token}/rsvp", {"response": "yes"})[0] == 200
    invitation_id = f"{donor_id_for(donor)}.{action['action_id']}"
    reminder = outbox_item(f"event_reminder#{invitation_id}")
    assert abs((reminder.due_at - (starts - timedelta(days=1))).total_seconds()) < 1
    drain_at(starts - timedelta(hours=23))
    mail = sent_to(mailbox, donor)
    assert [m["Subject"] for m in mail][-1] == "Tomorrow: Rally. Are you still coming?"
    reminded = token_of(links(mail[-1], "i")[0])
    page = api.client.http.get(f"/i/{reminded}")  # the choice, shown
    assert b'value="confirm"' in page.body and b'value="cancel"' in page.body
    assert api.call("POST", f"/api/invitations/{reminded}/rsvp", {"response": "confirm"})[1]["status"] \
        == "confirmed"


# --- RSVPs ----------------------------------------------------------------------------------------
def test_rsvp_takes_and_gives_back_a_seat_and_a_full_action_says_waitlist(api, actions, mailbox) -> None:
    zip_ = fresh_zip()
    action = actions(capacity=1, **near(zip_))
    slug = api.create_page()["slug"]
    first, second = unique_email(), unique_email()
    tokens = []
    for donor in (first, second):
        started = give(api, slug, donor, zip_)
        drain_until(delivered(f"thanks#{started['donation_id']}"))
        tokens.append(token_of(links(sent_to(mailbox, donor)[0], "i")[0]))
    assert api.call("POST", f"/api/invitations/{tokens[0]}/rsvp", {"response": "yes"})[1]["status"] == "yes"
    assert api.call("POST", f"/api/invitations/{tokens[0]}/rsvp", {"response": "yes"})[0] == 200  # again
    status, body = api.call("POST", f"/api/invitations/{tokens[1]}/rsvp", {"response": "yes"})
    assert (status, body["status"], body["position"]) == (200, "waitlisted", 1)
    assert api.call("POST", f"/api/invitations/{tokens[1]}/rsvp", {"response": "no"})[1]["status"] == "no"
    assert api.call("POST", f"/api/invitations/{tokens[0]}/rsvp", {"response": "no"})[0] == 200
    assert api.call("POST", f"/api/invitations/{tokens[1]}/rsvp", {"response": "yes"})[1]["status"] == "yes"
    detail = api.call("GET", f"/api/admin/actions/{action['action_id']}", headers=staff(ORGANIZER_KEY))[1]
    assert detail["seats_taken"] == 1 and detail["waiting"] == 0
    assert (detail["rsvps"]["yes"], detail["rsvps"]["no"], detail["rsvps"]["unanswered"]) == (1, 1, 0)
    page = api.client.http.get(f"/i/{tokens[0]}")
    assert page.status_code == 200 and action["title"].encode() in page.body
    assert b"put me on the waitlist" in page.body
    form = api.client.http.post(f"/i/{tokens[0]}", body="response=yes",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and b"number 1 on the waitlist" in form.body


def test_a_cancellation_seats_the_first_waiting_who_is_told_once(api, actions, mailbox) -> None:
    action = actions(capacity=2, title="House meeting")
    (_, ta), (_, tb), (c, tc), (d, td) = invite(action["action_id"], 4, "wait")
    rsvp = lambda token, response: api.call(  # noqa: E731
        "POST", f"/api/invitations/{token}/rsvp", {"response": response})
    assert [rsvp(t, "yes")[1]["status"] for t in (ta, tb)] == ["yes", "yes"]
    assert [(s, body["status"], body["position"]) for s, body in (rsvp(tc, "yes"), rsvp(td, "yes"))] \
        == [(200, "waitlisted", 1), (200, "waitlisted", 2)]
    assert rsvp(tc, "confirm")[1]["error"]["code"] == "waitlisted"

    status, body = rsvp(ta, "cancel")
    assert (status, body["status"], body["action"]["seats_left"]) == (200, "cancelled", 0)
    detail = api.call("GET", f"/api/admin/actions/{action['action_id']}", headers=staff(ORGANIZER_KEY))[1]
    assert (detail["seats_taken"], detail["waiting"]) == (2, 1)
    assert (detail["rsvps"]["yes"], detail["rsvps"]["waitlisted"], detail["rsvps"]["cancelled"]) == (2, 1, 1)
    assert rsvp(td, "yes")[1]["position"] == 1  # moved up the line

    def stored() -> dict[str, Any]:  # the action and its invitations (the host link is fresh each time)
        found = api.call("GET", f"/api/admin/actions/{action['action_id']}", headers=staff(ORGANIZER_KEY))[1]
        return {k: v for k, v in found.items() if k != "host_url"}

    before = stored()
    shown = api.client.http.get(f"/i/{tc}")  # the promoted person's link: confirm or cancel
    assert shown.status_code == 200 and b'value="confirm"' in shown.body and b'value="cancel"' in shown.body
    assert stored() == before  # the GET changed nothing

    drain_at(now())
    drain_at(now())  # a second drain sends nothing more
    told = [m for m in sent_to(mailbox, c) if m["Subject"] == "A seat opened up: House meeting"]
    assert len(told) == 1 and links(told[0], "i")
    assert not sent_to(mailbox, d)  # still waiting: nothing to tell

    form = api.client.http.post(f"/i/{tc}", body="response=confirm",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and b"You confirmed" in form.body
    assert rsvp(td, "cancel")[1]["status"] == "cancelled"  # leaving the line frees no seat
    assert rsvp(tb, "no")[1]["action"]["seats_left"] == 1  # nobody waits now: the seat is free
    detail = api.call("GET", f"/api/admin/actions/{action['action_id']}", headers=staff(ORGANIZER_KEY))[1]
    assert (detail["seats_taken"], detail["waiting"], detail["rsvps"]["confirmed"]) == (1, 0, 1)
    assert rsvp(ta, "confirm")[1]["error"]["code"] == "not_attending"


def test_raising_the_capacity_seats_the_waiting_first_come_first(api, actions, mailbox) -> None:
    action = actions(capacity=1, title="Debate watch party")
    (_, ta), (b, tb), (c, tc) = invite(action["action_id"], 3, "raise")
    statuses = [api.call("POST", f"/api/invitations/{t}/rsvp", {"response": "yes"})[1]["status"]
                for t in (ta, tb, tc)]
    assert statuses == ["yes", "waitlisted", "waitlisted"]
    path = f"/api/admin/actions/{action['action_id']}"
    status, raised = api.call("PUT", path, {"capacity": 2}, staff(ORGANIZER_KEY))
    assert (status, raised["seats_taken"], raised["waiting"]) == (200, 2, 1)
    assert api.call("POST", f"/api/invitations/{tb}/rsvp", {"response": "yes"})[1]["status"] == "yes"
    unlimited = api.call("PUT", path, {"capacity": None}, staff(ORGANIZER_KEY))[1]
    assert (unlimited["seats_taken"], unlimited["waiting"]) == (3, 0)
    drain_at(now())
    for email in (b, c):
        assert [m["Subject"] for m in sent_to(mailbox, email)] == ["A seat opened up: Debate watch party"]


# --- unsubscribe ----------------------------------------------------------------------------------
def deps_person(email: str) -> Any:
    from chalicelib import deps

    return deps.followup_store().get_person(donor_id_for(email))


@pytest.mark.parametrize("how", ["one_click_post", "page"])
def test_unsubscribe_stops_invitations_and_keeps_receipts(api, actions, mailbox, how: str) -> None:
    zip_ = fresh_zip()
    actions(**near(zip_))
    slug = api.create_page()["slug"]
    donor = unique_email()
    first = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{first['donation_id']}"))
    (message,) = sent_to(mailbox, donor)
    if how == "one_click_post":  # what a mail client does with List-Unsubscribe-Post (RFC 8058)
        path = "/api/unsubscribe/" + message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[-1]
        response = api.client.http.post(path, body="List-Unsubscribe=One-Click",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
    else:  # the link in the body: opening it asks, only its button acts
        path = links(message, "u")[0]
        response = api.client.http.get(path)
        assert response.status_code == 200 and f'action="{path}"'.encode() in response.body
        assert deps_person(donor).unsubscribed_at is None
        response = api.client.http.post(path, body="",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200 and b"unsubscribed" in response.body
    source = deps_person(donor).consents["invitations"].source
    assert source == ("one_click" if how == "one_click_post" else "unsubscribe_page")
    second = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{second['donation_id']}"))
    drain_at(now() + timedelta(days=3))
    (_, receipt) = sent_to(mailbox, donor)  # the receipt is transactional: it still goes
    assert outbox_item(f"thanks#{second['donation_id']}").status == "sent" and not links(receipt, "i")
    item = outbox_item(f"reminder#{first['donation_id']}")  # an invitation does not
    assert (item.status, item.last_error) == ("failed", "unsubscribed")


# --- tokens ---------------------------------------------------------------------------------------
def test_tampered_and_expired_tokens_are_refused_and_change_nothing(api, actions, mailbox) -> None:
    from chalicelib import deps
    from chalicelib import tokens as purposes
    from chalicelib.tokens import Tokens

    zip_ = fresh_zip()
    action = actions(capacity=5, **near(zip_))
    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, zip_)
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    good = token_of(links(sent_to(mailbox, donor)[0], "i")[0])
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    person_id = donor_id_for(donor)
    invitation_id = f"{person_id}.{action['action_id']}"
    past = Tokens(deps.settings().token_secret, clock=lambda: now() - timedelta(days=400))
    expired_rsvp = past.issue(purposes.RSVP, invitation_id)
    expired_unsub = past.issue(purposes.UNSUBSCRIBE, person_id)
    other_purpose = deps.tokens().issue(purposes.UNSUBSCRIBE, person_id)
    cases = [
        ("POST", f"/api/invitations/{tampered}/rsvp", 400),
        ("POST", f"/api/invitations/{expired_rsvp}/rsvp", 410),
        ("POST", f"/api/invitations/{other_purpose}/rsvp", 400),
        ("POST", f"/api/unsubscribe/{tampered}", 400),
        ("POST", f"/api/unsubscribe/{expired_unsub}", 410), ("GET", f"/u/{expired_unsub}", 410),
        ("GET", f"/i/{tampered}", 400), ("GET", f"/i/{expired_rsvp}", 410),
        ("POST", f"/api/signups/confirm/{tampered}", 400), ("GET", f"/s/{other_purpose}", 400),
    ]
    for method, path, expected in cases:
        status, body = api.call(method, path, {"response": "yes"} if "rsvp" in path else None)
        assert status == expected, (path, body)
        if path.startswith("/api/"):
            assert body["error"]["code"] == ("bad_token" if expected == 400 else "token_expired")
    detail = api.call("GET", f"/api/admin/actions/{action['action_id']}", headers=staff(ORGANIZER_KEY))[1]
    assert detail["seats_taken"] == 0 and detail["rsvps"]["yes"] == 0
    person = deps.followup_store().get_person(person_id)
    assert person.unsubscribed_at is None and person.subscribed


# --- share links ----------------------------------------------------------------------------------
def test_a_share_link_credits_the_sharer_once_and_their_next_thank_you_says_so(
        api, mailbox) -> None:
    slug = api.create_page()["slug"]
    sharer, friend = unique_email(), unique_email()
    zip_ = fresh_zip()
    mine = give(api, slug, sharer, zip_)
    drain_until(delivered(f"thanks#{mine['donation_id']}"))
    share_path = links(sent_to(mailbox, sharer)[0], "r")[0]
    redirect = api.client.http.get(share_path)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    refcode = location.split("refcode=")[1]
    assert location.endswith(f"/donate/{slug}?refcode={refcode}") and refcode.startswith("sh-")
    assert api.client.http.get("/r/nosuchcode").status_code == 404

    theirs = api.donate(slug, amount_cents=5000, email=friend, refcode=refcode)
    event = succeeded(theirs)
    for _ in range(3):
        api.webhook(event)
    drain_until(delivered(f"credit#{theirs['donation_id']}"))
    drain_until(lambda: True)
    sharer_id = donor_id_for(sharer)
    status, view = api.call("GET", f"/api/admin/donors/{sharer_id}", headers=staff(FINANCE_KEY))
    assert status == 200 and (view["recruited_count"], view["recruited_cents"]) == (1, 5000)
    assert view["contact"]["email"] == sharer and view["share_url"].endswith(share_path)
    status, organizer_view = api.call("GET", f"/api/admin/donors/{sharer_id}", headers=staff(ORGANIZER_KEY))
    assert status == 200 and "contact" not in organizer_view and organizer_view["recruited_count"] == 1
    assert api.call("GET", "/api/admin/donors/dnr_nobody", headers=staff(FINANCE_KEY))[0] == 404

    again = give(api, slug, sharer, zip_)
    drain_until(delivered(f"thanks#{again['donation_id']}"))
    latest = sent_to(mailbox, sharer)[-1]
    assert "brought in 1 contribution ($50)" in text_of(latest)
    # Using one's own link credits nobody.
    own = give(api, slug, sharer, zip_, refcode=refcode)
    drain_until(delivered(f"credit#{own['donation_id']}"))
    assert outbox_item(f"credit#{own['donation_id']}").result == "skipped: own share link"


# --- signups --------------------------------------------------------------------------------------
def test_signup_is_double_opt_in_without_duplicates_or_resends(api, actions, mailbox) -> None:
    from chalicelib import deps

    zip_ = fresh_zip()
    action = actions(**near(zip_, kind="canvass"))
    person = unique_email()
    body = {"email": person, "first_name": "Sam", "zip": zip_, "interests": ["canvass"]}
    for _ in range(3):
        status, answer = api.call("POST", "/api/signups", body)
        assert (status, answer) == (202, {"status": "accepted"})
    drain_until(lambda: sent_to(mailbox, person))
    drain_until(lambda: True)
    (confirmation,) = sent_to(mailbox, person)
    assert confirmation["Subject"] == "Please confirm your signup" and confirmation["List-Unsubscribe"]
    stored = deps.followup_store().get_person(donor_id_for(person))
    assert stored.subscribed is False and stored.pending_signup["zip"] == zip_
    (confirm_path,) = links(confirmation, "s")
    page = api.client.http.get(confirm_path)
    assert page.status_code == 200 and b"Yes, sign me up" in page.body
    assert deps.followup_store().get_person(donor_id_for(person)).subscribed is False  # GET changes nothing
    confirmed = api.client.http.post(confirm_path, body="",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert confirmed.status_code == 200 and b"You are in" in confirmed.body
    status, answer = api.call("POST", f"/api/signups/confirm/{token_of(confirm_path)}")  # again
    assert (status, answer) == (200, {"confirmed": True, "subscribed": True})
    drain_until(delivered(f"welcome#{donor_id_for(person)}"))
    drain_until(lambda: True)
    _confirmation, welcome = sent_to(mailbox, person)
    assert welcome["Subject"].startswith("Welcome") and action["title"] in text_of(welcome)
    assert "Sam" in text_of(welcome)
    bad = api.call("POST", "/api/signups", {"email": "not-an-email"})
    assert bad[0] == 400 and "email" in bad[1]["error"]["fields"]
    nowhere = api.call("POST", "/api/signups", {"email": unique_email(), "page": "no-such-page"})
    assert nowhere[0] == 400 and "page" in nowhere[1]["error"]["fields"]


def test_signups_are_limited_per_ip_and_per_network(api) -> None:
    """Each signup mails a confirmation in our name: one address, or one /24 (IPv6 /64), cannot
    send more than its share (here 3 and 5 an hour); a refused signup writes nothing."""
    from chalicelib import deps

    def signup(ip: str) -> tuple[int, Any, str]:
        email = unique_email()
        status, body = api.call("POST", "/api/signups", {"email": email}, {"X-Forwarded-For": ip})
        return status, body, email

    with environment(SIGNUPS_PER_IP="3", SIGNUPS_PER_NETWORK="5"):
        # an IPv6 address inside the same /64 is the same subscriber: its own count is shared
        for first, neighbour, neighbours_share, elsewhere in (
                ("198.51.100.7", "198.51.100.200", [202, 202, 429], "198.51.101.7"),
                ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", [429], "2001:db8:1:3::1")):
            assert [signup(first)[0] for _ in range(3)] == [202, 202, 202]
            status, body, refused = signup(first)
            assert (status, body["error"]["code"]) == (429, "rate_limited")
            assert 0 < int(api.last_headers["Retry-After"]) <= 3600
            assert deps.followup_store().get_person(donor_id_for(refused)) is None
            # the same /24 shares five; another network is not held up
            assert [signup(neighbour)[0] for _ in neighbours_share] == neighbours_share
            assert signup(elsewhere)[0] == 202


def test_a_repeated_signup_after_an_hour_sends_one_more_confirmation(api, mailbox) -> None:
    from chalicelib import deps
    from chalicelib.followups.input import SignupRequest
    from tests.followups_kit import audience_at

    person = unique_email()
    assert api.call("POST", "/api/signups", {"email": person})[0] == 202
    assert deps.audience().signup(SignupRequest(email=person)) is False  # within the hour
    later = now() + timedelta(minutes=61)
    assert audience_at(later).signup(SignupRequest(email=person)) is True
    assert audience_at(later).signup(SignupRequest(email=person)) is False
    drain_at(later + timedelta(minutes=1))
    assert len(sent_to(mailbox, person)) == 2


# --- SES feedback ---------------------------------------------------------------------------------
@pytest.fixture()
def local_sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSns]:
    """SNS's certificate host, reached through the verifier's fetch seam; our topic allowed."""
    with signing_sns(monkeypatch, SES_NOTIFICATION_TOPICS=SNS_TOPIC) as sns:
        yield sns


def post_sns(client, message: dict[str, Any]) -> tuple[int, Any]:
    import json

    response = client.http.post("/webhooks/ses", body=json.dumps(message),
                                headers={"Content-Type": "text/plain; charset=UTF-8"})
    return response.status_code, json.loads(response.body)


def test_ses_bounces_and_complaints_suppress_after_the_signature_checks(
        api, client, local_sns, mailbox) -> None:
    from chalicelib import deps

    status, body = post_sns(client, local_sns.message("SubscriptionConfirmation", "confirm please"))
    assert (status, body["outcome"]) == (200, "subscribed")
    assert any("Action=ConfirmSubscription" in path for path in local_sns.visited)

    bounced, complained, soft = unique_email(), unique_email(), unique_email()
    forged = local_sns.message("Notification", bounce(bounced))
    forged["Message"] = bounce(soft)
    assert post_sns(client, forged)[0] == 400
    elsewhere = local_sns.message("Notification", bounce(bounced),
                                  cert_url="https://example.com/SimpleNotificationService-x.pem")
    assert post_sns(client, elsewhere)[0] == 400
    assert deps.followup_store().get_person(donor_id_for(soft)) is None

    def notify(message: str) -> int:
        status, body = post_sns(client, local_sns.message("Notification", message))
        assert status == 200, body
        return int(body["suppressed"])

    assert notify(bounce(bounced)) == 1
    assert notify(complaint(complained)) == 1
    assert notify(bounce(soft, "Transient")) == 0
    assert deps.followup_store().get_person(donor_id_for(bounced)).suppressed == "bounce"
    assert deps.followup_store().get_person(donor_id_for(complained)).suppressed == "complaint"

    slug = api.create_page()["slug"]
    started = give(api, slug, bounced, fresh_zip())
    item = drain_until(delivered(f"thanks#{started['donation_id']}"))
    assert (item.status, item.last_error) == ("failed", "address suppressed (bounce)")
    assert api.call("POST", "/api/signups", {"email": complained})[0] == 202
    assert sent_to(mailbox, bounced) == [] and sent_to(mailbox, complained) == []


@pytest.mark.parametrize(("attack", "status", "code"), [
    ({"topic": "arn:aws:sns:us-east-1:999999999999:attacker"}, 403, "unknown_topic"),
    ({"cert_url": "https://sns.s3.amazonaws.com/SimpleNotificationService-x.pem"}, 400,
     "untrusted_certificate"),
    ({"cert_url": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem"}, 400,
     "untrusted_certificate"),
    ({"cert_url": LocalSns.cert_url(path="/redirect/SimpleNotificationService-test.pem")}, 400,
     "untrusted_certificate"),
    ({"sent": now() - timedelta(minutes=61)}, 400, "stale_message"),
    ({"version": "1"}, 400, "signature_version"),
])
def test_sns_attacks_are_refused_and_suppress_no_one(client, local_sns, attack, status, code) -> None:
    """Each forged or replayed bounce is signed with the certificate's own key: only the
    verifier's checks stand between it and suppressing a donor's address."""
    from chalicelib import deps

    victim = unique_email()
    answer = post_sns(client, local_sns.message("Notification", bounce(victim), **attack))
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert deps.followup_store().get_person(donor_id_for(victim)) is None
    redirected = "/redirect/" in attack.get("cert_url", "")
    assert local_sns.fetched == ([attack["cert_url"]] if redirected else [])


# --- sends that survive crashes -------------------------------------------------------------------
class Mailer:
    """The real mailer, with a fault for one recipient."""

    def __init__(self, real: Any, victim: str, fault: str) -> None:
        self.real, self.victim, self.fault = real, victim, fault

    def send(self, email: Any) -> str:
        if email.to == self.victim and self.fault == "refused":
            from chalicelib.followups.errors import SendRefused

            raise SendRefused("Throttling")
        message_id = self.real.send(email)
        if email.to == self.victim and self.fault == "crash_after_send":
            raise Crash("the worker died before recording the send")
        return message_id


def test_a_crash_between_claim_and_send_neither_loses_nor_repeats_the_message(api, mailbox) -> None:
    from chalicelib import deps
    from chalicelib.outbox.dispatcher import Dispatcher

    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, fresh_zip())
    message_id = f"thanks#{started['donation_id']}"

    def crash_after_claim(message: Any) -> Any:
        if message.message_id == message_id:
            raise Crash("the worker died after claiming")
        return deps.outbox_handlers()[message.kind](message)

    handlers = {kind: crash_after_claim for kind in deps.outbox_handlers()}
    with pytest.raises(Crash):
        Dispatcher(deps.outbox_store(), handlers, now).drain(limit=1000)
    assert outbox_item(message_id).status == "pending" and outbox_item(message_id).attempts == 1
    assert sent_to(mailbox, donor) == []
    deps.dispatcher().drain(limit=1000)  # the lease still holds it
    assert sent_to(mailbox, donor) == []
    drain_at(now() + timedelta(minutes=6))  # the lease ran out: delivered
    assert len(sent_to(mailbox, donor)) == 1
    drain_at(now() + timedelta(minutes=12))
    assert len(sent_to(mailbox, donor)) == 1 and outbox_item(message_id).status == "sent"


def test_a_crash_after_sending_before_recording_does_not_send_twice(api, mailbox) -> None:
    from chalicelib import deps

    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, fresh_zip())
    message_id = f"thanks#{started['donation_id']}"
    with pytest.raises(Crash):
        drain_at(now(), mailer=Mailer(deps.mailer(), donor, "crash_after_send"))
    assert len(sent_to(mailbox, donor)) == 1
    drain_at(now() + timedelta(minutes=6))
    item = outbox_item(message_id)
    assert len(sent_to(mailbox, donor)) == 1
    assert item.status == "sent" and item.result.startswith("unconfirmed")


def test_a_refused_send_is_retried_and_sent_once(api, mailbox) -> None:
    from chalicelib import deps

    slug = api.create_page()["slug"]
    donor = unique_email()
    started = give(api, slug, donor, fresh_zip())
    message_id = f"thanks#{started['donation_id']}"
    drain_at(now(), mailer=Mailer(deps.mailer(), donor, "refused"))
    item = outbox_item(message_id)
    assert item.status == "pending" and "SendRefused" in item.last_error
    drain_at(now() + timedelta(minutes=2))
    assert len(sent_to(mailbox, donor)) == 1 and outbox_item(message_id).status == "sent"


def alarm(state: str) -> str:
    import json

    return json.dumps({"AlarmName": "groundswell-prod-ses-complaint-rate", "NewStateValue": state,
                       "OldStateValue": "OK" if state == "ALARM" else "ALARM",
                       "Trigger": {"MetricName": "Reputation.ComplaintRate", "Namespace": "AWS/SES"}})


def test_the_complaint_alarm_pauses_invitations_never_receipts(api, client, actions, local_sns,
                                                              mailbox) -> None:
    """Issue 18: the complaint-rate alarm's notification (the alarms topic subscribed to
    /webhooks/ses) pauses invitations; thank-yous still go, without invitations; a welcome
    waits, using no attempt, and goes once the alarm is back to OK."""
    zip_ = fresh_zip()
    actions(**near(zip_, kind="canvass"))
    status, body = post_sns(client, local_sns.message("Notification", alarm("ALARM")))
    assert (status, body["outcome"]) == (200, "invitations_paused")
    try:
        slug = api.create_page()["slug"]
        donor = unique_email()
        started = give(api, slug, donor, zip_, interests=["canvass"])
        drain_until(delivered(f"thanks#{started['donation_id']}"))
        (receipt,) = sent_to(mailbox, donor)
        assert receipt["Subject"].startswith("Thank you") and links(receipt, "i") == []
        # A confirmed supporter's welcome (invitations only) waits while paused.
        person = unique_email()
        api.call("POST", "/api/signups", {"email": person, "zip": zip_, "interests": ["canvass"]})
        drain_until(lambda: sent_to(mailbox, person))
        (confirmation,) = sent_to(mailbox, person)
        (confirm_path,) = links(confirmation, "s")
        assert api.call("POST", f"/api/signups/confirm/{token_of(confirm_path)}")[0] == 200
        welcome = f"welcome#{donor_id_for(person)}"
        drain_until(lambda: (outbox_item(welcome).last_error or "").startswith("deferred"))
        held = outbox_item(welcome)
        assert (held.status, int(held.attempts)) == ("pending", 0)
    finally:
        status, body = post_sns(client, local_sns.message("Notification", alarm("OK")))
    assert (status, body["outcome"]) == (200, "invitations_resumed")
    drain_at(now() + timedelta(minutes=16))
    drain_until(delivered(welcome))
    assert outbox_item(welcome).status == "sent" and len(sent_to(mailbox, person)) == 2
