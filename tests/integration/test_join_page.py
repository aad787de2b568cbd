"""The signup page for people who have not given (`/join/{slug}`): the form GET shows (the texts
box unticked, its disclosure beside it, the invitations consent), the POST signs up through the
service behind `POST /api/signups` (double opt-in, the texts consent recorded on confirmation),
and bad input answers the form again with each field's error and writes nothing."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from typing import Any

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import delivered, drain_until, fresh_zip
from tests.helpers import unique_ip
from tests.mail import links, mailbox, sent_to  # noqa: F401 - the fixture

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def body_of(response: Any) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def post(api: Any, slug: str, fields: dict[str, str]) -> Any:
    return api.client.http.post(f"/join/{slug}", body=urllib.parse.urlencode(fields),
                                headers={**FORM, "X-Forwarded-For": unique_ip()})


def checkbox(html: str, name: str) -> str:
    (found,) = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    return found


def nothing_written(email: str) -> bool:
    from chalicelib import deps

    return deps.followup_store().get_person(donor_id_for(email)) is None


def test_the_form_shows_the_unticked_texts_box_with_its_disclosure_and_reads_only(api) -> None:
    from html import escape

    from chalicelib import deps
    from chalicelib.followups.texts import disclosure

    page = api.create_page()
    shown = api.client.http.get(f"/join/{page['slug']}?refcode=fair")
    html = body_of(shown)
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/html")
    assert shown.headers["Cache-Control"] == "no-store"
    assert f'action="/join/{page["slug"]}"' in html and 'method="post"' in html
    for name in ("first_name", "email", "zip", "phone"):
        assert f'name="{name}"' in html
    assert "checked" not in checkbox(html, "sms_opt_in") and "checked" not in checkbox(html, "invitations")
    assert 'aria-describedby="sms-disclosure"' in checkbox(html, "sms_opt_in")
    committee = deps.page_service().sponsor(page["slug"])[1]
    assert escape(disclosure(committee)).replace("&#x27;", "&#39;") in html
    assert '<input type="hidden" name="refcode" value="fair">' in html
    missing = api.client.http.get("/join/no-such-page")
    assert missing.status_code == 404 and body_of(missing).lstrip().startswith("<!doctype html>")


def test_a_signup_from_the_page_is_double_opt_in_and_records_the_texts_consent(api, mailbox) -> None:  # noqa: F811
    from chalicelib import deps

    slug = api.create_page()["slug"]
    email = f"join.{uuid.uuid4().hex[:10]}@example.org"
    answer = post(api, slug, {"first_name": "Sam", "email": email, "zip": fresh_zip(),
                              "phone": "(312) 555-0142", "sms_opt_in": "yes", "invitations": "yes",
                              "refcode": "fair"})
    assert answer.status_code == 200 and "Check your inbox" in body_of(answer)
    person_id = donor_id_for(email)
    pending = deps.followup_store().get_person(person_id)
    assert pending is not None and not pending.subscribed and not pending.textable
    assert pending.pending_signup["phone"] == "+13125550142"
    assert pending.pending_signup["page"] == slug and pending.pending_signup["refcode"] == "fair"
    drain_until(lambda: sent_to(mailbox, email))
    (confirmation,) = sent_to(mailbox, email)
    (confirm_path,) = links(confirmation, "s")
    confirmed = api.client.http.post(confirm_path, body="", headers=FORM)
    assert confirmed.status_code == 200
    person = deps.followup_store().get_person(person_id)
    assert person.invitable and person.textable and person.phone == "+13125550142"
    assert person.consents["sms"].source == "signup_confirmed"
    drain_until(delivered(f"welcome#{person_id}"))


@pytest.mark.parametrize(("fields", "errors"), [
    ({"email": "not-an-email", "invitations": "yes"}, {"email": "like name@example.org"}),
    ({"email": "not-an-email", "sms_opt_in": "yes"}, {"email": "like name@example.org",
                                                       "phone": "To get texts", "invitations": "Tick"}),
    ({"email": "{email}", "zip": "6270", "invitations": "yes"}, {"zip": "5-digit ZIP"}),
    ({"email": "{email}", "sms_opt_in": "yes", "invitations": "yes"}, {"phone": "To get texts"}),
    ({"email": "{email}", "phone": "call me", "invitations": "yes"}, {"phone": "a phone number"}),
    ({"email": "{email}", "zip": "62701"}, {"invitations": "Tick this box"}),
    ({"email": "{email}", "first_name": "x" * 101, "invitations": "yes"}, {"first_name": "100 characters"}),
])
def test_bad_input_answers_the_form_with_its_errors_and_writes_nothing(
        api, fields: dict[str, str], errors: dict[str, str]) -> None:
    slug = api.create_page()["slug"]
    email = f"bad.{uuid.uuid4().hex[:10]}@example.org"
    sent = {k: v.replace("{email}", email) for k, v in fields.items()}
    answer = post(api, slug, sent)
    html = body_of(answer)
    assert answer.status_code == 400 and html.lstrip().startswith("<!doctype html>"), html[:300]
    assert 'role="alert"' in html and '{"error"' not in html  # a page, not the JSON error
    for field, says in errors.items():
        assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(says)}', html), (field, html)
        assert f"{field}-error" in (checkbox(html, field) if field == "invitations" else
                                    re.search(rf'<input id="{field}"[^>]*>', html)[0])
    assert f'value="{sent["email"]}"' in html  # what the person typed stays in the form
    assert nothing_written(email)  # the person and the confirmation are one transaction


def test_what_a_person_typed_is_escaped_when_the_form_comes_back(api) -> None:
    slug = api.create_page()["slug"]
    email = f"esc.{uuid.uuid4().hex[:10]}@example.org"
    answer = post(api, slug, {"email": email, "first_name": '"><script>alert(1)</script>'})
    html = body_of(answer)
    assert answer.status_code == 400 and "<script>alert(1)" not in html
    assert "&#34;&gt;&lt;script&gt;" in html and nothing_written(email)


def test_an_unknown_page_is_a_404_page_and_writes_nothing(api) -> None:
    email = f"nowhere.{uuid.uuid4().hex[:10]}@example.org"
    answer = post(api, "no-such-page", {"email": email, "invitations": "yes"})
    assert answer.status_code == 404 and body_of(answer).lstrip().startswith("<!doctype html>")
    assert nothing_written(email)
