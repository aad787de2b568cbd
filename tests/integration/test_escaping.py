"""Hostile text in every text field, checked in every output that shows it: `<script>`, a
spreadsheet formula and a template expression, planted in the page's copy (title, headline,
body), the donor's names, address, employer and occupation, and an action's title and
description (shown in invitations).

Outputs: the donation page and the thank-you page (HTML, autoescaped), the thank-you email (its
HTML and text parts) and the invitation page it links to, and the contributions CSV export
(formulas neutralized with a leading apostrophe). A refcode only takes `[A-Za-z0-9_.-]`, so
there the payload is refused at intake, with nothing written.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from tests.conftest import Api
from tests.followups_kit import action_body, delivered, drain_until
from tests.helpers import ORGANIZER_KEY, donation_body, run_export, staff, stripe_event
from tests.mail import html_of, links, mirrored, sent_to, text_of

pytestmark = pytest.mark.stack

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "formula": '=HYPERLINK("http://x","y")',
    # Wrapped in sentinels, so that an evaluated expression (`qz49qz`) cannot hide among numbers.
    "template": "qz{{7*7}}qz",
}
DONOR_TEXT = ("first_name", "last_name", "employer", "occupation")
ADDRESS_TEXT = ("line1", "line2", "city")
CSV_COLUMNS = ("first_name", "last_name", "address_line1", "address_line2", "city", "employer",
               "occupation")


@dataclass(frozen=True)
class Planted:
    payload: str
    slug: str
    donation_id: str
    email: str


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


@pytest.fixture(scope="module")
def site(mailbox: Path) -> Iterator[tuple[Api, dict[str, Planted], list[dict[str, str]]]]:
    """Each payload planted in a page, an action and a paid donation of one committee; the
    thank-yous sent; the committee's contributions CSV exported once."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        api = Api(client)
        committee_id = "C" + "".join(random.choices("0123456789", k=8))
        planted, actions = {}, []
        for name, payload in PAYLOADS.items():
            planted[name], action_id = plant(api, payload, committee_id)
            actions.append(action_id)
        for p in planted.values():
            drain_until(delivered(f"thanks#{p.donation_id}"))
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        rows = list(csv.DictReader(io.StringIO(run_export(api, committee_id, day))))
        yield api, planted, rows
        for action_id in actions:  # later tests match only their own actions
            api.call("PUT", f"/api/admin/actions/{action_id}", {"active": False}, staff(ORGANIZER_KEY))


def plant(api: Api, payload: str, committee_id: str) -> tuple[Planted, str]:
    zip_ = f"{random.randint(100, 999)}{random.randint(10, 99)}"
    slug = api.create_page(title=payload, headline=payload, body=payload, committee_id=committee_id)["slug"]
    status, action = api.call("POST", "/api/admin/actions", action_body(
        kind="canvass", title=payload, description=payload, pages=[slug], virtual=False,
        location={"city": "Springfield", "state": "IL", "zip": zip_}), staff(ORGANIZER_KEY))
    assert status == 201, action
    email = f"esc.{uuid.uuid4().hex[:10]}@example.org"
    body = donation_body(2700, email=email, interests=["canvass"], email_opt_in=True)
    body["donor"].update({field: payload for field in DONOR_TEXT})
    body["donor"]["address"].update({field: payload for field in ADDRESS_TEXT}, zip=zip_)
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    paid = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                        amount=2700, amount_received=2700, metadata={"donation_id": started["donation_id"]})
    assert api.webhook(paid)[1]["outcome"] == "applied"
    return Planted(payload, slug, started["donation_id"], email), action["action_id"]


def check_inert(output: str, payload: str, where: str, *, html: bool) -> None:
    """The payload shows as text: escaped in HTML, never evaluated as a template."""
    assert "qz49qz" not in output, f"template evaluated in {where}"
    if html:
        assert "<script>alert(1)</script>" not in output, f"raw script in {where}"
        assert str(escape(payload)) in output, f"payload not shown (escaped) in {where}"
    else:
        assert payload in output, f"payload not shown in {where}"


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_donation_and_thank_you_pages_escape_planted_text(site: Any, name: str) -> None:
    api, planted, _ = site
    p = planted[name]
    status, donate = api.call("GET", f"/donate/{p.slug}")
    assert status == 200
    check_inert(donate, p.payload, "the donation page", html=True)
    assert donate.count(str(escape(p.payload))) >= 3  # the title, the headline and the body
    status, thanks = api.call("GET", f"/donate/{p.slug}/thanks?donation_id={p.donation_id}")
    assert status == 200
    check_inert(thanks, p.payload, "the thank-you page", html=True)


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_thank_you_email_and_its_invitation_escape_planted_text(site: Any, mailbox: Path,
                                                                   name: str) -> None:
    api, planted, _ = site
    p = planted[name]
    [message] = sent_to(mailbox, p.email)
    check_inert(html_of(message), p.payload, "the email's HTML part", html=True)
    check_inert(text_of(message), p.payload, "the email's text part", html=False)
    assert "qz49qz" not in str(message["Subject"])
    shown = []
    for invitation in links(message, "i"):  # ours, and maybe other open actions that match
        status, page = api.call("GET", invitation)
        assert status == 200 and "qz49qz" not in page and "<script>alert(1)" not in page
        shown.append(page)
    check_inert("".join(shown), p.payload, "the invitation page", html=True)


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_contributions_export_neutralizes_formulas(site: Any, name: str) -> None:
    _, planted, rows = site
    p = planted[name]
    [row] = [r for r in rows if r["donation_id"] == p.donation_id]
    expected = "'" + p.payload if p.payload.startswith("=") else p.payload
    for column in CSV_COLUMNS:
        assert row[column] == expected, (column, row[column])
    for r in rows:
        for column, value in r.items():
            assert not value.startswith(("=", "+", "@")) and "qz49qz" not in value, (column, value)


def test_a_refcode_takes_no_markup_and_nothing_is_written(api) -> None:
    from chalicelib.storage.models import DonationModel

    slug = api.create_page()["slug"]
    before = DonationModel.count()
    for payload in PAYLOADS.values():
        status, refused = api.call("POST", f"/api/pages/{slug}/donations",
                                   donation_body(refcode=payload))
        assert status == 400 and "refcode" in refused["error"]["fields"]
    assert DonationModel.count() == before
