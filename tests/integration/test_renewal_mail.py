"""A monthly gift's mail through the running stack (issue 17): a failed renewal tells the donor
once per invoice, with a signed link into the portal to replace the card, however often Stripe
delivers or retries it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.followups_kit import delivered, drain_until, outbox_item
from tests.helpers import ElectionCalendar, donation_body, stripe_event
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("renewals")) as folder:
        yield folder


def _events(stripe_api: Any, event_type: str, subscription_id: str) -> list[dict[str, Any]]:
    """The stand-in's recorded events of `event_type` for the subscription, oldest first."""
    listed = stripe_api.get(f"{stripe_api.base_url}/v1/events", params={"type": event_type, "limit": 100},
                            timeout=5).json()["data"]
    ours = [e for e in listed
            if e["data"]["object"]["parent"]["subscription_details"]["subscription"] == subscription_id]
    return sorted(ours, key=lambda e: (e["created"], e["id"]))


def monthly_gift(api: Any, stripe_api: Any, local_stack: Any,
                 slug: str | None = None) -> tuple[str, dict[str, Any], Any]:
    """A $15 monthly gift whose first invoice is paid and receipted; its donor's email, the
    donation and a Stripe client of the stand-in."""
    email = f"m.{uuid.uuid4().hex[:10]}@example.org"
    slug = slug or api.create_page()["slug"]
    status, started = api.call("POST", f"/api/pages/{slug}/donations", donation_body(
        1500, email=email, recurring="monthly", recurring_consent=True))
    assert status == 201, started
    donation = api.donation(started["donation_id"])
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                      params={"payment_method": "pm_card_visa"})
    [paid] = _events(stripe_api, "invoice.paid", donation["subscription_id"])
    assert api.webhook(paid)[1]["outcome"] == "applied"
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    return email, donation, client


def fail_next_renewal(client: Any, stripe_api: Any, donation: dict[str, Any]) -> None:
    """The card on the subscription now declines when charged; the next cycle starts."""
    customer = client.v1.subscriptions.retrieve(donation["subscription_id"]).customer
    card = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer})
    client.v1.subscriptions.update(donation["subscription_id"], params={"default_payment_method": card.id})
    stripe_api.post(f"{stripe_api.base_url}/_standin/subscriptions/{donation['subscription_id']}/advance",
                    timeout=10).raise_for_status()


def test_a_failed_renewal_tells_the_donor_once_with_a_link_to_replace_the_card(
        api, stripe_api, local_stack, mailbox: Path) -> None:
    from chalicelib import deps
    from chalicelib.tokens import CARD
    from tests.dynamo_counter import dynamodb_requests

    email, donation, client = monthly_gift(api, stripe_api, local_stack)
    fail_next_renewal(client, stripe_api, donation)
    [failed] = _events(stripe_api, "invoice.payment_failed", donation["subscription_id"])
    assert failed["data"]["object"]["billing_reason"] == "subscription_cycle"
    invoice_id = failed["data"]["object"]["id"]

    with dynamodb_requests() as first:  # the webhook's budget: one TransactWriteItems
        assert api.webhook(failed)[1]["outcome"] == "applied"
    assert sum(first.values()) == 1, first
    assert api.webhook(failed)[1]["outcome"] == "duplicate"  # Stripe delivers it again
    # Stripe's next automatic try of the same invoice fails too: its event is new, its invoice not.
    stripe_api.post(f"{stripe_api.base_url}/_standin/subscriptions/{donation['subscription_id']}/advance",
                    timeout=10).raise_for_status()
    retried = _events(stripe_api, "invoice.payment_failed", donation["subscription_id"])
    [again] = [e for e in retried if e["id"] != failed["id"]]
    assert again["data"]["object"]["id"] == invoice_id
    assert api.webhook(again)[1]["outcome"] == "duplicate"

    drain_until(delivered(f"renewal_failed#{invoice_id}"))
    assert outbox_item(f"renewal_failed#{invoice_id}").status == "sent"
    mail = sent_to(mailbox, email)
    notices = [m for m in mail if "did not go through" in m["Subject"]]
    assert len(mail) == 2 and len(notices) == 1, [m["Subject"] for m in mail]
    text = text_of(notices[0])
    assert "$15" in text and re.search(r"https?://[^/\s]+/c/[A-Za-z0-9_.=-]+", text), text
    link = re.search(r"https?://[^/\s]+(/me\?t=([A-Za-z0-9_.=-]+))", text)
    assert link, text
    assert deps.tokens().claims(link[2], CARD).subject == donation["donor_id"]
    # The link opens the donor's portal sign-in (a GET only shows its button).
    status, page = api.call("GET", link[1])
    assert status == 200 and 'action="/me/signin"' in page, page


def test_a_failed_renewal_of_a_gift_joined_by_name_and_zip_carries_no_signed_link(
        api, stripe_api, local_stack, mailbox: Path) -> None:
    """A monthly gift typed with someone's name and ZIP from another address joins their donor
    record; when its renewal fails, its email points that address to /me to ask for a link (mailed
    to the record's own address), never a signed link into the record."""
    owner, other = (f"{n}.{uuid.uuid4().hex[:10]}@example.org" for n in ("own", "other"))
    person = donation_body(email=owner)["donor"]
    slug = api.create_page()["slug"]
    status, first = api.call("POST", f"/api/pages/{slug}/donations", {
        **donation_body(2_000, email=owner), "donor": person})
    assert status == 201, first
    assert api.webhook(stripe_event(
        "payment_intent.succeeded", id=first["client_secret"].split("_secret_")[0], amount=2_000,
        amount_received=2_000, metadata={"donation_id": first["donation_id"]}))[0] == 200
    status, started = api.call("POST", f"/api/pages/{slug}/donations", {
        **donation_body(1500, email=other, recurring="monthly", recurring_consent=True),
        "donor": {**person, "email": other}})
    assert status == 201, started
    donation = api.donation(started["donation_id"])
    assert donation["donor_id"] == api.donation(first["donation_id"])["donor_id"]
    client = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})
    client.v1.payment_intents.confirm(started["client_secret"].split("_secret_")[0],
                                      params={"payment_method": "pm_card_visa"})
    [paid] = _events(stripe_api, "invoice.paid", donation["subscription_id"])
    assert api.webhook(paid)[1]["outcome"] == "applied"
    fail_next_renewal(client, stripe_api, donation)
    [failed] = _events(stripe_api, "invoice.payment_failed", donation["subscription_id"])
    assert api.webhook(failed)[1]["outcome"] == "applied"
    drain_until(delivered(f"renewal_failed#{failed['data']['object']['id']}"))
    [notice] = [m for m in sent_to(mailbox, other) if "did not go through" in m["Subject"]]
    text = text_of(notice)
    assert "/me?t=" not in text and "ask for a link to your giving page" in text, text
    assert re.search(r"https?://[^/\s]+/me\b", text) and "/c/" in text


def test_a_failed_invoice_of_a_plan_not_ours_queues_nothing(api, stripe_api, local_stack) -> None:
    _, donation, client = monthly_gift(api, stripe_api, local_stack)
    fail_next_renewal(client, stripe_api, donation)
    [failed] = _events(stripe_api, "invoice.payment_failed", donation["subscription_id"])
    failed["id"] = "evt_" + uuid.uuid4().hex[:24]
    failed["data"]["object"]["id"] = "in_" + uuid.uuid4().hex[:24]
    failed["data"]["object"]["parent"]["subscription_details"]["subscription"] = "sub_not_ours"
    assert api.webhook(failed)[1]["outcome"] == "unmatched"
    assert outbox_item(f"renewal_failed#{failed['data']['object']['id']}") is None


def _long(day: Any) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def test_each_monthly_receipt_states_the_amount_the_next_charge_and_how_to_cancel(
        api, stripe_api, local_stack, mailbox: Path) -> None:
    from datetime import datetime, timezone

    from chalicelib import deps
    from chalicelib.compliance.elections import local_date
    from chalicelib.giving.model import invoice_donation_id

    email, donation, client = monthly_gift(api, stripe_api, local_stack)
    subscription_id = donation["subscription_id"]
    zone = deps.committees().get(donation["committee_id"]).zone

    def next_charge() -> str:
        end = client.v1.subscriptions.retrieve(subscription_id)["items"]["data"][0]["current_period_end"]
        return _long(local_date(datetime.fromtimestamp(end, timezone.utc), zone))

    first_next = next_charge()
    stripe_api.post(f"{stripe_api.base_url}/_standin/subscriptions/{subscription_id}/advance",
                    timeout=10).raise_for_status()
    renewal = next(e for e in _events(stripe_api, "invoice.paid", subscription_id)
                   if e["data"]["object"]["billing_reason"] == "subscription_cycle")
    for _ in range(2):  # delivered twice: one contribution, one receipt
        assert api.webhook(renewal)[0] == 200
    renewal_id = invoice_donation_id(renewal["data"]["object"]["id"])
    drain_until(delivered(f"thanks#{renewal_id}"))
    second_next = next_charge()
    assert second_next != first_next

    receipts = sent_to(mailbox, email)
    assert len(receipts) == 2, [m["Subject"] for m in receipts]
    for receipt, when in zip(receipts, (first_next, second_next), strict=True):
        text = text_of(receipt)
        assert f"monthly gift of $15 a month; the next charge is on {when}." in text, text
        assert re.search(r"https?://[^/\s]+/c/[A-Za-z0-9_.=-]+", text), text


def test_monthly_gifts_end_with_the_election_and_their_receipt_says_so(
        api, stripe_api, local_stack, mailbox: Path) -> None:
    from datetime import date, datetime, timedelta, timezone

    calendar = ElectionCalendar(api)  # time zone UTC; the general 300 days ahead
    general = date.fromisoformat(next(e["date"] for e in calendar.body["elections"]
                                      if e["code"] == calendar.general))
    default_end = general + timedelta(days=30)
    email, donation, client = monthly_gift(api, stripe_api, local_stack, calendar.page(calendar.primary))
    subscription = client.v1.subscriptions.retrieve(donation["subscription_id"])
    midnight = datetime(default_end.year, default_end.month, default_end.day, tzinfo=timezone.utc)
    assert subscription.cancel_at == int(midnight.timestamp())
    [receipt] = sent_to(mailbox, email)
    assert f"It ends by itself on {_long(default_end)}, after the election" in text_of(receipt)

    # Finance sets the day itself: new gifts end then (a gift already made keeps its own).
    chosen = date.today() + timedelta(days=45)
    saved = calendar.configure(recurring_ends_at=chosen.isoformat())
    assert saved["recurring_ends_at"] == chosen.isoformat()
    email, later, client = monthly_gift(api, stripe_api, local_stack, calendar.page(calendar.primary))
    chosen_midnight = datetime(chosen.year, chosen.month, chosen.day, tzinfo=timezone.utc)
    assert client.v1.subscriptions.retrieve(later["subscription_id"]).cancel_at == int(
        chosen_midnight.timestamp())
    first = client.v1.subscriptions.retrieve(donation["subscription_id"])
    assert first.cancel_at == int(midnight.timestamp())
    [receipt] = sent_to(mailbox, email)
    assert f"It ends by itself on {_long(chosen)}" in text_of(receipt), text_of(receipt)
    status, error = api.call("PUT", f"/api/admin/committees/{calendar.committee_id}",
                             {**calendar.body, "recurring_ends_at": "next spring"},
                             {"Authorization": "Bearer dev-finance-key", "Content-Type": "application/json"})
    assert status == 400 and "recurring_ends_at" in str(error), error
