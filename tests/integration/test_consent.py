"""Consent per purpose; transactional mail always goes (issue 12, finding 3).

Unsubscribing from invitations stopped receipts. Done as a donor does it, against moto's SES and
the stand-in: unsubscribe through the link in a thank-you (`/u/`, its button), then a receipt
and the email confirming a cancelled monthly gift still arrive; the invitation reminder does not;
and nothing at all goes to a suppressed address."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.giving.model import donor_id_for
from tests.followups_kit import action_body, delivered, drain_at, drain_until, fresh_zip, now, outbox_item
from tests.helpers import ORGANIZER_KEY, donation_body, staff, stripe_event
from tests.mail import links, mirrored, sent_to, text_of

pytestmark = pytest.mark.stack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


@pytest.fixture()
def nearby(api) -> Iterator[str]:
    """A ZIP with an action nearby (so every donor there is invited); closed afterwards."""
    zip_ = fresh_zip()
    status, action = api.call("POST", "/api/admin/actions", action_body(
        virtual=False, location={"city": "Springfield", "state": "IL", "zip": zip_}),
        staff(ORGANIZER_KEY))
    assert status == 201, action
    yield zip_
    api.call("PUT", f"/api/admin/actions/{action['action_id']}", {"active": False}, staff(ORGANIZER_KEY))


def give(api, slug: str, email: str, zip_: str, cents: int = 2500, employer: str = "City Library",
         **top: Any) -> dict[str, Any]:
    body = donation_body(cents, email=email, **top)
    body["donor"]["address"]["zip"] = zip_
    body["donor"]["employer"] = employer
    status, started = api.call("POST", f"/api/pages/{slug}/donations", body)
    assert status == 201, started
    intent = started["client_secret"].split("_secret_")[0]
    event = stripe_event("payment_intent.succeeded", id=intent, amount=cents, amount_received=cents,
                         metadata={"donation_id": started["donation_id"]})
    assert api.webhook(event)[1]["outcome"] == "applied"
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    return started


def test_unsubscribed_from_invitations_a_donor_still_gets_receipts_and_a_cancel_confirmation(
        api, mailbox: Path, nearby: str) -> None:
    from chalicelib import deps

    slug = api.create_page()["slug"]
    email = f"consent.{uuid.uuid4().hex[:10]}@example.org"
    first = give(api, slug, email, nearby, recurring="monthly", recurring_consent=True)
    (receipt,) = sent_to(mailbox, email)
    assert links(receipt, "i"), "the first thank-you invites (the donor opted in)"
    person = deps.followup_store().get_person(donor_id_for(email))
    assert person.consents["invitations"].given and person.consents["invitations"].source == "donation_opt_in"

    # Unsubscribe as the donor does: open the link (nothing changes), press its button.
    unsubscribe = links(receipt, "u")[0]
    assert api.client.http.get(unsubscribe).status_code == 200
    assert deps.followup_store().get_person(donor_id_for(email)).unsubscribed_at is None
    pressed = api.client.http.post(unsubscribe, body="", headers=FORM)
    assert pressed.status_code == 200 and b"Receipts for your gifts" in pressed.body
    consent = deps.followup_store().get_person(donor_id_for(email)).consents["invitations"]
    assert (consent.given, consent.source) == (False, "unsubscribe_page")
    assert abs((consent.at - now()).total_seconds()) < 60

    # A receipt still arrives, with no invitation in it.
    second = give(api, slug, email, nearby, cents=1800)
    receipts = sent_to(mailbox, email)
    assert len(receipts) == 2 and "$18" in text_of(receipts[1]) and not links(receipts[1], "i")
    assert outbox_item(f"thanks#{second['donation_id']}").status == "sent"

    # The invitation reminder of the first gift does not go.
    drain_at(now() + timedelta(days=3))
    reminder = outbox_item(f"reminder#{first['donation_id']}")
    assert (reminder.status, reminder.last_error) == ("failed", "unsubscribed")
    assert len(sent_to(mailbox, email)) == 2

    # Cancelling the monthly gift from the receipt: its confirmation arrives (once, even when
    # Stripe's customer.subscription.deleted follows).
    cancel = re.search(r"https?://[^/\s]+(/c/[A-Za-z0-9_.=-]+)", text_of(receipt))
    assert cancel, text_of(receipt)
    assert api.client.http.post(cancel[1], body="", headers=FORM).status_code == 200
    subscription_id = deps.tokens().read(cancel[1].rsplit("/", 1)[1], "cancel")
    deleted = stripe_event("customer.created")
    deleted.update(type="customer.subscription.deleted",
                   data={"object": {"id": subscription_id, "object": "subscription", "status": "canceled"}})
    assert api.webhook(deleted)[0] == 200
    drain_until(delivered(f"plan_ended#{subscription_id}"))
    drain_at(now() + timedelta(days=3))
    mail = sent_to(mailbox, email)
    assert len(mail) == 3 and "monthly gift is cancelled" in text_of(mail[2]).lower()


def test_nothing_goes_to_a_suppressed_address_not_even_a_receipt(api, mailbox: Path) -> None:
    from chalicelib import deps

    slug = api.create_page()["slug"]
    email = f"bounced.{uuid.uuid4().hex[:10]}@example.org"
    deps.followup_store().suppress(donor_id_for(email), email, "bounce", now())
    started = give(api, slug, email, fresh_zip(), employer="N/A")  # flagged: best efforts too
    drain_until(delivered(f"best_efforts#{started['donation_id']}"))
    for message_id in (f"thanks#{started['donation_id']}", f"best_efforts#{started['donation_id']}"):
        item = outbox_item(message_id)
        assert (item.status, item.last_error) == ("failed", "address suppressed (bounce)"), message_id
    assert sent_to(mailbox, email) == []
