"""Monthly gifts the donor controls from /me, over moto's server and the Stripe stand-in: an amount
above what the law still allows is refused with nothing written or queued, one below is applied
to the subscription at the stand-in (a double POST changes once); pause and resume; an end date;
a new charge day moves the next charge without charging;
another donor's plan is 404; the webhook keeps the plan in step; the 7-day notice once."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import stripe

from chalicelib import deps
from chalicelib.clock import utcnow
from chalicelib.storage.models import OutboxModel, RecurringPlanModel
from tests.console_kit import Console, text
from tests.followups_kit import delivered, drain_until
from tests.helpers import donation_body, stripe_event
from tests.integration.test_portal import ask, emailed_link, give, signed_in
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory):
    with mirrored(tmp_path_factory.mktemp("monthly-mail")) as folder:
        yield folder


@pytest.fixture()
def stripe_api(local_stack: dict[str, Any]) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local_standin", base_addresses={"api": local_stack["stripe_url"]})


def monthly_donor(client: Any, api: Any, stripe_api: Any, folder: Any, cents: int = 1_900
                  ) -> tuple[Console, str, str]:
    """A donor whose monthly gift's first invoice is paid at the stand-in, signed in to /me."""
    email = f"mo.{uuid.uuid4().hex[:10]}@example.org"
    donation_id = give(api, api.create_page()["slug"], cents, email, recurring="monthly",
                       recurring_consent=True)
    subscription_id = api.donation(donation_id)["subscription_id"]
    sub = stripe_api.v1.subscriptions.retrieve(subscription_id,
                                               params={"expand": ["latest_invoice.payments"]})
    intent = sub.latest_invoice.payments.data[0].payment.payment_intent
    stripe_api.v1.payment_intents.confirm(intent if isinstance(intent, str) else intent.id,
                                          params={"payment_method": "pm_card_visa"})
    ask(api, email)
    return signed_in(client, emailed_link(folder, email)), email, subscription_id


def changes_queued(subscription_id: str) -> list[str]:
    return sorted(m.message_id for m in OutboxModel.scan(OutboxModel.message_id.startswith(
        f"plan_changed#{subscription_id}#")))


def post(browser: Console, path: str, **form: str) -> Any:
    return browser.post(path, form, csrf=browser.csrf("/me"))


def test_the_amount_is_refused_above_the_limit_and_applied_below(client, api, stripe_api, mailbox) -> None:
    browser, email, sub = monthly_donor(client, api, stripe_api, mailbox)
    refused = post(browser, f"/me/monthly/{sub}/amount", amount="3500.00")
    assert refused.status_code == 400 and "Federal law lets you give at most" in text(refused)
    assert changes_queued(sub) == [] and RecurringPlanModel.get(sub).version is None
    item = stripe_api.v1.subscriptions.retrieve(sub)["items"]["data"][0]
    assert item["price"]["unit_amount"] == 1_900
    for _ in range(2):  # pressed twice: changed once, one email
        done = post(browser, f"/me/monthly/{sub}/amount", amount="25")
        assert done.status_code == 303 and done.headers["Location"] == "/me?done=amount"
    item = stripe_api.v1.subscriptions.retrieve(sub)["items"]["data"][0]
    assert item["price"]["unit_amount"] == 2_500
    assert changes_queued(sub) == [f"plan_changed#{sub}#v1"]
    assert "$25 a month" in text(browser.get("/me"))
    drain_until(delivered(f"plan_changed#{sub}#v1"))
    (mail,) = [m for m in sent_to(mailbox, email) if "is now $25" in text_of(m)]
    assert "/c/" in text_of(mail)


def test_pause_resume_and_an_end_date_at_the_standin(client, api, stripe_api, mailbox) -> None:
    browser, _, sub = monthly_donor(client, api, stripe_api, mailbox)
    assert post(browser, f"/me/monthly/{sub}/pause").status_code == 303
    assert stripe_api.v1.subscriptions.retrieve(sub).pause_collection.behavior == "void"
    assert RecurringPlanModel.get(sub).status == "paused"
    assert "Resume this monthly gift" in text(browser.get("/me"))
    assert post(browser, f"/me/monthly/{sub}/resume").status_code == 303
    assert stripe_api.v1.subscriptions.retrieve(sub).pause_collection is None
    committee = deps.committees().get(RecurringPlanModel.get(sub).committee_id)
    day = committee.local_date(utcnow()) + timedelta(days=20)
    assert post(browser, f"/me/monthly/{sub}/end", ends_on=day.isoformat()).status_code == 303
    cancel_at = stripe_api.v1.subscriptions.retrieve(sub).cancel_at
    assert committee.local_date(datetime.fromtimestamp(cancel_at, timezone.utc)) == day
    assert f"Ends on {day.isoformat()}" in text(browser.get("/me"))
    assert len(changes_queued(sub)) == 3
    past = post(browser, f"/me/monthly/{sub}/end", ends_on="2020-01-01")
    assert past.status_code == 400 and "after today" in text(past) and len(changes_queued(sub)) == 3


def test_a_new_charge_day_moves_the_next_charge_at_the_standin_and_charges_nothing(
        client, api, stripe_api, mailbox, local_stack) -> None:
    browser, email, sub = monthly_donor(client, api, stripe_api, mailbox)
    committee = deps.committees().get(RecurringPlanModel.get(sub).committee_id)
    period_end = stripe_api.v1.subscriptions.retrieve(sub)["items"]["data"][0]["current_period_end"]
    current = committee.local_date(datetime.fromtimestamp(period_end, timezone.utc))
    day = current.day % 28 + 1  # never the day it falls on now
    invoice = stripe_api.v1.subscriptions.retrieve(sub).latest_invoice
    refused = post(browser, f"/me/monthly/{sub}/day", day="29")
    assert refused.status_code == 400 and changes_queued(sub) == []
    done = post(browser, f"/me/monthly/{sub}/day", day=str(day))
    assert done.status_code == 303 and done.headers["Location"] == "/me?done=day"
    moved = stripe_api.v1.subscriptions.retrieve(sub)
    next_charge = committee.local_date(datetime.fromtimestamp(moved.trial_end, timezone.utc))
    assert next_charge.day == day and moved.trial_end > period_end  # later, never sooner
    assert moved.latest_invoice == invoice  # no invoice now
    assert moved.status == "trialing"  # as Stripe has a subscription whose trial_end was set
    assert RecurringPlanModel.get(sub).charge_day == day
    assert changes_queued(sub) == [f"plan_changed#{sub}#v1"]
    drain_until(delivered(f"plan_changed#{sub}#v1"))
    (mail,) = [m for m in sent_to(mailbox, email) if f"charged on day {day} of each month" in text_of(m)]
    assert "nothing extra is charged" in text_of(mail)
    # Stripe's update (status trialing) keeps the gift running on our side and on /me.
    events = requests.get(f"{local_stack['stripe_url']}/v1/events", timeout=5,
                          params={"type": "customer.subscription.updated", "limit": 20},
                          headers={"Authorization": "Bearer sk_test_local_standin"}).json()
    event = next(e for e in events["data"] if e["data"]["object"]["id"] == sub
                 and e["data"]["object"]["status"] == "trialing")
    assert api.webhook(event)[0] == 200
    assert RecurringPlanModel.get(sub).status == "active"
    assert "Pause this monthly gift" in text(browser.get("/me"))


def test_another_donors_plan_is_not_found(client, api, stripe_api, mailbox) -> None:
    _, _, theirs = monthly_donor(client, api, stripe_api, mailbox)
    browser, _, _ = monthly_donor(client, api, stripe_api, mailbox)
    for action, form in (("amount", {"amount": "10"}), ("pause", {}), ("day", {"day": "5"})):
        assert post(browser, f"/me/monthly/{theirs}/{action}", **form).status_code == 404
    assert changes_queued(theirs) == []
    assert stripe_api.v1.subscriptions.retrieve(theirs).pause_collection is None


def test_subscription_updated_keeps_the_plan_in_step(client, api, stripe_api, mailbox, local_stack) -> None:
    _, _, sub = monthly_donor(client, api, stripe_api, mailbox)
    stripe_api.v1.subscriptions.update(sub, params={"pause_collection": {"behavior": "void"}})
    events = requests.get(f"{local_stack['stripe_url']}/v1/events", timeout=5,
                          params={"type": "customer.subscription.updated", "limit": 20},
                          headers={"Authorization": "Bearer sk_test_local_standin"}).json()
    event = next(e for e in events["data"]
                 if e["data"]["object"]["id"] == sub and e["data"]["object"]["pause_collection"])
    for _ in range(2):  # signed as Stripe signs it, delivered twice
        status, _ = api.webhook(event)
        assert status == 200
    assert RecurringPlanModel.get(sub).status == "paused"


def test_the_seven_day_notice_is_sent_once_when_the_job_runs_twice(client, api, stripe_api, mailbox) -> None:
    browser, email, sub = monthly_donor(client, api, stripe_api, mailbox)
    committee = deps.committees().get(RecurringPlanModel.get(sub).committee_id)
    day = committee.local_date(utcnow()) + timedelta(days=7)
    assert post(browser, f"/me/monthly/{sub}/end", ends_on=day.isoformat()).status_code == 303
    def run_job() -> None:  # the hourly scheduled Lambda
        tick = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                               detail={}, resources=[])
        assert client.lambda_.invoke("notify_ending_plans", tick).payload["due"] >= 1

    for _ in range(2):
        run_job()
    message_id = f"plan_ending#{sub}#{day.isoformat()}"
    drain_until(delivered(message_id))
    run_job()
    drain_until(delivered(message_id))
    queued = OutboxModel.scan(OutboxModel.message_id.startswith(f"plan_ending#{sub}"))
    assert [m.message_id for m in queued] == [message_id]
    assert len([m for m in sent_to(mailbox, email) if "ends in 7 days" in text_of(m)]) == 1
    assert f'"ends_on": "{day.isoformat()}"' in text(browser.get("/me/data.json"))


def test_a_new_card_goes_on_the_customer_and_its_monthly_gifts(client, api, stripe_api, mailbox) -> None:
    browser, _, sub = monthly_donor(client, api, stripe_api, mailbox)
    shown = post(browser, "/me/card")
    assert shown.status_code == 200 and 'id="payment-element"' in text(shown)
    secret = re.search(r'data-client-secret="(seti_[^"]+)"', text(shown))[1]
    seti = secret.split("_secret_")[0]
    refused = post(browser, "/me/card/apply", setup_intent=seti)  # not confirmed yet
    assert refused.status_code == 400 and changes_queued(sub) == []
    stripe_api.v1.setup_intents.confirm(seti, params={"payment_method": "pm_card_mastercard"})
    card = stripe_api.v1.setup_intents.retrieve(seti).payment_method
    for _ in range(2):  # pressed twice: one change, one email
        assert post(browser, "/me/card/apply", setup_intent=seti).status_code == 303
    subscription = stripe_api.v1.subscriptions.retrieve(sub)
    assert subscription.default_payment_method == card
    customer = stripe_api.v1.customers.retrieve(subscription.customer)
    assert customer.invoice_settings.default_payment_method == card
    assert changes_queued(sub) == [f"plan_changed#{sub}#v1"]
    _, _, theirs = monthly_donor(client, api, stripe_api, mailbox)
    assert stripe_api.v1.subscriptions.retrieve(theirs).default_payment_method != card


def test_a_donors_monthly_gifts_share_one_customer_and_the_new_card(client, api, stripe_api, mailbox) -> None:
    browser, email, first = monthly_donor(client, api, stripe_api, mailbox)
    second_gift = give(api, api.create_page()["slug"], 2_700, email, recurring="monthly",
                       recurring_consent=True)
    second = api.donation(second_gift)["subscription_id"]
    customer = stripe_api.v1.subscriptions.retrieve(first).customer
    assert stripe_api.v1.subscriptions.retrieve(second).customer == customer
    assert RecurringPlanModel.get(second).customer_id == customer
    shown = post(browser, "/me/card")
    seti = re.search(r'data-client-secret="(seti_[^"]+)"', text(shown))[1].split("_secret_")[0]
    stripe_api.v1.setup_intents.confirm(seti, params={"payment_method": "pm_card_mastercard"})
    card = stripe_api.v1.setup_intents.retrieve(seti).payment_method
    assert post(browser, "/me/card/apply", setup_intent=seti).headers["Location"] == "/me?done=card"
    assert [stripe_api.v1.subscriptions.retrieve(s).default_payment_method
            for s in (first, second)] == [card, card]


def test_gifts_begun_on_two_customers_take_the_new_card_once_per_customer(
        client, api, stripe_api, mailbox) -> None:
    # Both started before either was paid: nothing was recorded to reuse, so two customers
    # (as every donor from before one customer per address has).
    email = f"two.{uuid.uuid4().hex[:10]}@example.org"
    started = []
    for cents in (1_500, 2_000):
        status, gift = api.call("POST", f"/api/pages/{api.create_page()['slug']}/donations",
                                donation_body(cents, email=email, recurring="monthly",
                                              recurring_consent=True))
        assert status == 201, gift
        started.append((gift, cents))
    for gift, cents in started:
        status, _ = api.webhook(stripe_event(
            "payment_intent.succeeded", id=gift["client_secret"].split("_secret_")[0], amount=cents,
            amount_received=cents, metadata={"donation_id": gift["donation_id"]}))
        assert status == 200
    subs = [api.donation(gift["donation_id"])["subscription_id"] for gift, _ in started]
    customers = [stripe_api.v1.subscriptions.retrieve(s).customer for s in subs]
    assert customers[0] != customers[1]
    ask(api, email)
    browser = signed_in(client, emailed_link(mailbox, email))
    me = text(browser.get("/me"))
    assert me.count('name="subscription"') == 2 and "Replace the card for all" not in me
    fingerprints = set()
    for sub in subs:
        shown = post(browser, "/me/card", subscription=sub)
        assert "1 of your 2 monthly gifts" in text(shown)
        seti = re.search(r'data-client-secret="(seti_[^"]+)"', text(shown))[1].split("_secret_")[0]
        owner = stripe_api.v1.subscriptions.retrieve(sub).customer
        assert stripe_api.v1.setup_intents.retrieve(seti).customer == owner
        stripe_api.v1.setup_intents.confirm(seti, params={"payment_method": "pm_card_mastercard"})
        card = stripe_api.v1.setup_intents.retrieve(seti).payment_method
        assert post(browser, "/me/card/apply", setup_intent=seti).status_code == 303
        assert stripe_api.v1.subscriptions.retrieve(sub).default_payment_method == card
        fingerprints.add(stripe_api.v1.payment_methods.retrieve(card).card.fingerprint)
        assert changes_queued(sub) == [f"plan_changed#{sub}#v1"]
    assert len(fingerprints) == 1  # the same card, attached once to each customer
