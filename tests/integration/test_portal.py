"""The donor portal over real connections (moto's server, the Stripe stand-in): asking for a
link reveals nothing and sends nothing for an unknown address, the emailed link works once, the
session is the portal's own, and a donor sees only their own giving (another donor's receipt
cannot be resent, their data never appears)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.console_kit import Console, text
from tests.followups_kit import delivered, drain_until
from tests.helpers import ElectionCalendar, donation_body, run_queues, stripe_event
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack
LINK = re.compile(r"https?://[^/\s]+(/me\?t=[A-Za-z0-9_.=-]+)")


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory):
    with mirrored(tmp_path_factory.mktemp("portal-mail")) as folder:
        yield folder


def ip() -> str:
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def give(api: Any, slug: str, cents: int, email: str, **body: Any) -> str:
    status, started = api.call("POST", f"/api/pages/{slug}/donations",
                               donation_body(cents, email=email, **body))
    assert status == 201, started
    intent = started["client_secret"].split("_secret_")[0]
    status, _ = api.webhook(stripe_event("payment_intent.succeeded", id=intent, amount=cents,
                                         amount_received=cents,
                                         metadata={"donation_id": started["donation_id"]}))
    assert status == 200
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    return str(started["donation_id"])


def ask(api: Any, email: str, address: str | None = None) -> tuple[int, Any]:
    return api.call("POST", "/api/portal/link", {"email": email},
                    headers={"X-Forwarded-For": address or ip()})


def portal_links() -> int:
    from chalicelib.storage.models import OutboxModel

    return sum(1 for _ in OutboxModel.scan(OutboxModel.kind == "portal_link"))


def emailed_link(mailbox: Path, email: str) -> str:
    (message,) = drain_until(lambda: [m for m in sent_to(mailbox, email) if "/me?t=" in text_of(m)])
    assert "List-Unsubscribe" not in message  # transactional
    return LINK.search(text_of(message))[1]


def signed_in(client: Any, link: str) -> Console:
    browser = Console(client)
    shown = browser.get(link)
    assert shown.status_code == 200 and "Open my giving" in text(shown)
    done = browser.post("/me/signin", {"t": link.split("t=", 1)[1]}, csrf=browser.csrf(link))
    assert done.status_code == 303 and done.headers["Location"] == "/me", text(done)
    return browser


def donor_signed_in(client: Any, api: Any, mailbox: Path, prefix: str) -> tuple[Console, str]:
    """A donor who gave $15 once, signed in to their portal from the emailed link."""
    email = f"{prefix}.{uuid.uuid4().hex[:10]}@example.org"
    give(api, api.create_page()["slug"], 1500, email)
    ask(api, email)
    return signed_in(client, emailed_link(mailbox, email)), email


def test_an_unknown_address_gets_the_same_202_and_nothing_is_queued_or_sent(api, mailbox) -> None:
    nobody = f"nobody.{uuid.uuid4().hex[:8]}@example.org"
    before = portal_links()
    status, body = ask(api, nobody)
    assert status == 202 and body == {"status": "accepted"}
    run_queues()
    assert portal_links() == before and sent_to(mailbox, nobody) == []
    assert ask(api, "not an address")[0] == 400


def test_the_link_works_once_and_opens_a_strict_session_of_its_own(client, api, mailbox) -> None:
    slug = api.create_page()["slug"]
    email = f"p.{uuid.uuid4().hex[:10]}@example.org"
    donation_id = give(api, slug, 2700, email)
    assert ask(api, email)[0] == 202
    assert ask(api, email)[0] == 202  # asked again within the gap: the same answer, one email
    link = emailed_link(mailbox, email)
    token = link.split("t=", 1)[1]

    browser = Console(client)
    assert browser.get(link).status_code == 200 and browser.get(link).status_code == 200  # GETs use nothing
    csrf = browser.csrf(link)
    assert browser.post("/me/signin", {"t": token}).status_code == 403  # no CSRF token: refused
    done = browser.post("/me/signin", {"t": token}, csrf=csrf)
    assert done.status_code == 303
    cookie = next(v for v in done.headers["Set-Cookie"] if v.startswith("gs_portal="))
    assert {"HttpOnly", "SameSite=Strict", "Path=/me"} <= {p.strip() for p in cookie.split(";")}
    page = text(browser.get("/me"))
    assert donation_id in page and "<td>$27</td>" in page

    again = Console(client)
    reused = again.post("/me/signin", {"t": token}, csrf=again.csrf(link))
    assert reused.status_code == 410 and "gs_portal" not in again.cookies
    assert again.get(link[:-3] + "AAA").status_code == 400  # tampered
    # The portal's cookie opens nothing of the console's, and the console's sign-in is elsewhere.
    assert browser.get("/admin/").status_code == 303

    assert browser.post("/me/logout", {}, csrf=browser.csrf("/me")).status_code == 303
    assert "Your giving," not in text(browser.get("/me"))


def test_a_donor_sees_resends_and_downloads_only_their_own_giving(client, api, mailbox) -> None:
    calendar = ElectionCalendar(api)
    slug = calendar.page(calendar.primary)
    mine, theirs = (f"{who}.{uuid.uuid4().hex[:8]}@example.org" for who in ("me", "other"))
    my_gift = give(api, slug, 5000, mine)
    their_gift = give(api, slug, 7700, theirs)
    ask(api, mine)
    browser = signed_in(client, emailed_link(mailbox, mine))

    page = text(browser.get("/me"))
    assert my_gift in page and their_gift not in page and theirs not in page
    assert calendar.primary in page and "$3,450" in page  # $3,500 less the $50 given

    csrf = browser.csrf("/me")
    refused = browser.post(f"/me/receipts/{their_gift}/resend", {}, csrf=csrf)
    assert refused.status_code == 404
    assert browser.post(f"/me/receipts/{my_gift}/resend", {}).status_code == 403  # no CSRF token
    receipts = len(sent_to(mailbox, mine))
    assert browser.post(f"/me/receipts/{my_gift}/resend", {}, csrf=csrf).status_code == 303
    drain_until(lambda: len(sent_to(mailbox, mine)) > receipts)
    run_queues()
    assert len(sent_to(mailbox, theirs)) == 1  # their first receipt only

    download = browser.get("/me/data.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    data = json.loads(text(download))
    assert [c["donation_id"] for c in data["contributions"]] == [my_gift]
    assert data["donor"]["email"] == mine and theirs not in text(download)
    remaining = {r["election"]: r["remaining_cents"] for r in data["remaining"]}
    assert remaining[calendar.primary] == 345_000 and remaining[calendar.general] == 350_000

    assert Console(client).get("/me/data.json").status_code == 303  # no session: back to /me


def test_revoking_express_links_from_the_portal_records_it_on_the_donor(client, api, mailbox) -> None:
    from chalicelib.giving.model import donor_id_for
    from chalicelib.storage.models import DonorModel

    browser, email = donor_signed_in(client, api, mailbox, "x")
    assert DonorModel.get(donor_id_for(email)).express_revoked_at is None
    assert browser.post("/me/express/revoke", {}, csrf=browser.csrf("/me")).status_code == 303
    assert DonorModel.get(donor_id_for(email)).express_revoked_at is not None


def test_links_from_one_ip_are_limited(api) -> None:
    address = ip()
    answers = [ask(api, f"flood.{n}.{uuid.uuid4().hex[:6]}@example.org", address)[0] for n in range(11)]
    assert answers[:10] == [202] * 10 and answers[10] == 429


def test_the_donor_turns_invitations_off_and_on_from_the_portal(client, api, mailbox) -> None:
    from chalicelib import deps
    from chalicelib.giving.model import donor_id_for

    browser, email = donor_signed_in(client, api, mailbox, "c")
    people = deps.followup_store()
    assert "Stop invitations" in text(browser.get("/me"))  # they ticked the gift's opt-in
    assert browser.post("/me/consents/invitations", {"given": "no"}).status_code == 403  # no CSRF
    assert people.get_person(donor_id_for(email)).invitable
    assert browser.post("/me/consents/invitations", {"given": "no"},
                        csrf=browser.csrf("/me")).status_code == 303
    person = people.get_person(donor_id_for(email))
    assert not person.invitable and person.consents["invitations"].source == "portal"
    assert "Send me invitations" in text(browser.get("/me"))
    data = json.loads(text(browser.get("/me/data.json")))
    assert data["consents"]["invitations"]["given"] is False and data["consents"]["sms"]["given"] is False
    assert browser.post("/me/consents/invitations", {"given": "yes"},
                        csrf=browser.csrf("/me")).status_code == 303
    person = people.get_person(donor_id_for(email))
    assert person.invitable and person.consents["invitations"].given is True


def test_a_monthly_gift_is_listed_with_its_cancel_page(client, api, mailbox) -> None:
    email = f"m.{uuid.uuid4().hex[:10]}@example.org"
    give(api, api.create_page()["slug"], 1900, email, recurring="monthly", recurring_consent=True)
    ask(api, email)
    browser = signed_in(client, emailed_link(mailbox, email))
    page = text(browser.get("/me"))
    assert "$19 a month" in page and "active" in page
    cancel = re.search(r'href="(/c/[A-Za-z0-9_.=-]+)"', page)
    assert cancel, page
    shown = browser.get(cancel[1])  # the receipts' cancel page: a button, nothing done yet
    assert shown.status_code == 200 and "Cancel my monthly gift" in text(shown)


def test_the_donor_stops_texts_from_the_portal(client, api, mailbox) -> None:
    from chalicelib import deps
    from chalicelib.giving.model import donor_id_for

    email = f"t.{uuid.uuid4().hex[:10]}@example.org"
    donor = {**donation_body(email=email)["donor"], "phone": "(217) 555-0142"}
    give(api, api.create_page()["slug"], 1500, email, sms_opt_in=True, donor=donor)
    ask(api, email)
    browser = signed_in(client, emailed_link(mailbox, email))
    people = deps.followup_store()
    assert people.get_person(donor_id_for(email)).textable  # they ticked the gift's texts box
    assert "Stop texts" in text(browser.get("/me"))
    assert browser.post("/me/consents/texts/stop", {}).status_code == 403  # no CSRF
    assert people.get_person(donor_id_for(email)).textable
    for _ in range(2):  # pressed twice: still off, the second changes nothing
        assert browser.post("/me/consents/texts/stop", {}, csrf=browser.csrf("/me")).status_code == 303
    person = people.get_person(donor_id_for(email))
    assert not person.textable and person.consents["sms"].source == "portal"
    page = text(browser.get("/me"))
    assert "Stop texts" not in page and "reply START" in page
    assert json.loads(text(browser.get("/me/data.json")))["consents"]["sms"]["given"] is False


def test_the_donor_turns_sharing_with_allied_campaigns_on_and_off(client, api, mailbox) -> None:
    from chalicelib import deps
    from chalicelib.giving.model import donor_id_for

    browser, email = donor_signed_in(client, api, mailbox, "share")
    people = deps.followup_store()
    assert "Share my contact with allied campaigns" in text(browser.get("/me"))  # off by default
    assert "sharing" not in people.get_person(donor_id_for(email)).consents
    assert browser.post("/me/consents/sharing", {"given": "yes"}).status_code == 403  # no CSRF
    assert "sharing" not in people.get_person(donor_id_for(email)).consents
    assert browser.post("/me/consents/sharing", {"given": "yes"},
                        csrf=browser.csrf("/me")).status_code == 303
    consent = people.get_person(donor_id_for(email)).consents["sharing"]
    assert consent.given is True and consent.source == "portal"
    assert "Stop sharing my contact" in text(browser.get("/me"))
    assert json.loads(text(browser.get("/me/data.json")))["consents"]["sharing"]["given"] is True
    assert browser.post("/me/consents/sharing", {"given": "no"},
                        csrf=browser.csrf("/me")).status_code == 303
    assert people.get_person(donor_id_for(email)).consents["sharing"].given is False


def test_every_portal_post_without_its_csrf_token_is_refused_and_writes_nothing(
        client, api, mailbox) -> None:
    """Found in the app's route table, so a new POST under /me is covered without being listed:
    each, sent by a signed-in donor without the form's CSRF token or with another one, is the
    403 page and no DynamoDB write."""
    from app import app
    from tests.dynamo_counter import WRITES, dynamodb_requests_everywhere

    email = f"x.{uuid.uuid4().hex[:10]}@example.org"
    donation_id = give(api, api.create_page()["slug"], 1_900, email, recurring="monthly",
                       recurring_consent=True)
    subscription_id = api.donation(donation_id)["subscription_id"]
    ask(api, email)
    browser = signed_in(client, emailed_link(mailbox, email))
    routes = sorted(p for p, entries in app.routes.items() if p.startswith("/me/") and "POST" in entries)
    assert {"/me/signin", "/me/link", "/me/card/apply", "/me/consents/sharing"} <= set(routes)
    form = {"given": "yes", "amount": "10", "day": "5", "ends_on": "2030-01-01", "email": email,
            "t": "x", "setup_intent": "seti_x", "subscription": subscription_id}
    browser.get("/me")  # warm every client the routes use
    for route in routes:
        path = route.format(subscription_id=subscription_id, donation_id=donation_id)
        for csrf in (None, "not-the-token"):
            with dynamodb_requests_everywhere() as calls:
                response = browser.post(path, form, csrf=csrf)
            assert response.status_code == 403, (route, csrf, response.status_code)
            assert "text/html" in response.headers["Content-Type"], route
            assert not {op: n for op, n in calls.items() if op in WRITES}, (route, csrf, calls)
    assert "Your giving," in text(browser.get("/me"))  # still signed in: logout was refused too


def test_a_person_giving_from_two_addresses_sees_both_gifts_from_the_records_own_address(
        client, api, mailbox) -> None:
    """One person by name and ZIP (README, identity): asked for with the second address, the
    link goes to the address the record began with (not to what was typed, nor to the latest
    gift's) and /me lists every gift."""
    first, second = (f"{n}.{uuid.uuid4().hex[:10]}@example.org" for n in ("home", "work"))
    person = donation_body(email=first)["donor"]
    slug = api.create_page()["slug"]
    at_home = give(api, slug, 1_100, first, donor=person)
    at_work = give(api, slug, 2_200, second, donor={**person, "email": second})
    assert api.donation(at_home)["donor_id"] == api.donation(at_work)["donor_id"]
    assert ask(api, second)[0] == 202
    link = emailed_link(mailbox, first)
    assert [m for m in sent_to(mailbox, second) if "/me?t=" in text_of(m)] == []
    page = text(signed_in(client, link).get("/me"))
    assert at_home in page and at_work in page and "$11" in page and "$22" in page


def test_someone_giving_under_anothers_name_and_zip_gets_no_link_to_their_giving(api, mailbox) -> None:
    """A $1 gift typed with a donor's name and ZIP from the typist's own address joins the
    donor's record; asking for the portal with that address must not hand the record over."""
    victim, intruder = (f"{n}.{uuid.uuid4().hex[:10]}@example.org" for n in ("vic", "intr"))
    person = donation_body(email=victim)["donor"]
    slug = api.create_page()["slug"]
    give(api, slug, 5_000, victim, donor=person)
    give(api, slug, 100, intruder, donor={**person, "email": intruder})
    assert ask(api, intruder)[0] == 202
    emailed_link(mailbox, victim)  # the record's owner is told, at their own address
    assert [m for m in sent_to(mailbox, intruder) if "/me?t=" in text_of(m)] == []


def test_a_card_saved_under_anothers_name_and_zip_gets_no_express_link_to_their_record(
        api, mailbox) -> None:
    """The receipt's express link charges the donor record's saved card: a gift typed with a
    donor's name and ZIP from another address joins their record, so its receipt carries none."""
    owner, intruder = (f"{n}.{uuid.uuid4().hex[:10]}@example.org" for n in ("own", "intr"))
    person = donation_body(email=owner)["donor"]
    slug = api.create_page()["slug"]
    give(api, slug, 2_000, owner, donor=person, save_payment_method=True)
    give(api, slug, 100, intruder, donor={**person, "email": intruder}, save_payment_method=True)
    (mine,) = [text_of(m) for m in sent_to(mailbox, owner) if "/express/" in text_of(m)]
    assert "?t=" in mine
    assert [m for m in sent_to(mailbox, intruder) if "/express/" in text_of(m)] == []
    assert sent_to(mailbox, intruder)  # the receipt itself went
