"""Texts, with consent (issue 16), through moto's server and the Stripe stand-in: the opt-in at
intake and signup, stored with the disclosure's version, time and source."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import delivered, drain_until, fresh_zip, now
from tests.helpers import donation_body, stripe_event
from tests.mail import links, mirrored, sent_to

pytestmark = pytest.mark.stack
PHONE = "(217) 555-0142"


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


def person(email: str) -> Any:
    from chalicelib import deps

    return deps.followups().store.get_person(donor_id_for(email))


def give(api: Any, slug: str, email: str, phone: str | None = PHONE, **top: Any) -> dict[str, Any]:
    body = donation_body(2500, email=email, **top)
    body["donor"]["phone"] = phone
    body["donor"]["address"]["zip"] = fresh_zip()
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    intent = started["client_secret"].split("_secret_")[0]
    event = stripe_event("payment_intent.succeeded", id=intent, amount=2500, amount_received=2500,
                         metadata={"donation_id": started["donation_id"]})
    assert api.webhook(event)[1]["outcome"] == "applied"
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    return started


def test_the_texts_box_at_intake_needs_a_phone_and_records_the_consent(api, mailbox: Path) -> None:
    from chalicelib.followups.texts import DISCLOSURE_VERSION

    slug = api.create_page()["slug"]
    page = api.client.http.get(f"/donate/{slug}").body.decode()
    assert 'name="sms_opt_in"' in page and "checked" not in page.split('name="sms_opt_in"')[1][:40]
    assert "Msg &amp; data rates may apply. Reply STOP to stop, HELP for help." in page

    email = f"texts.{uuid.uuid4().hex[:10]}@example.org"
    for phone in (None, "+1 555 010 0000", "12"):  # none, not textable, not a number: 400, nothing kept
        body = donation_body(2500, email=email, sms_opt_in=True)
        body["donor"]["phone"] = phone
        status, refused = api.call("POST", f"/api/pages/{slug}/donations", body)
        assert status == 400 and refused["error"]["code"] == "invalid_request", refused
        assert "donor" in str(refused["error"]["fields"])

    give(api, slug, email, sms_opt_in=True)
    known = person(email)
    assert known.phone == "+12175550142" and known.textable
    consent = known.consents["sms"]
    assert (consent.given, consent.source, consent.version) == (True, "donation_opt_in", DISCLOSURE_VERSION)
    assert abs((consent.at - now()).total_seconds()) < 60
    assert sent_to(mailbox, email)  # the thank-you went as before

    other = f"texts.{uuid.uuid4().hex[:10]}@example.org"
    give(api, slug, other)  # a phone, but the box left unticked: no texts
    assert not person(other).textable and "sms" not in person(other).consents


def test_a_signup_ticks_the_box_with_its_phone_and_the_consent_counts_once_confirmed(
        api, mailbox: Path) -> None:
    email = f"texts.signup.{uuid.uuid4().hex[:10]}@example.org"
    status, refused = api.call("POST", "/api/signups", {"email": email, "sms_opt_in": True})
    assert status == 400 and "phone" in refused["error"]["fields"]
    assert person(email) is None
    status, _ = api.call("POST", "/api/signups", {"email": email, "sms_opt_in": True, "phone": PHONE})
    assert status == 202
    assert not person(email).textable  # not before the double opt-in
    drain_until(lambda: sent_to(mailbox, email))
    confirm = links(sent_to(mailbox, email)[0], "s")[0]
    assert api.client.http.post(confirm, body="", headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
    known = person(email)
    assert known.textable and known.phone == "+12175550142"
    assert known.consents["sms"].source == "signup_confirmed"
