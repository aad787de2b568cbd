"""Payout reconciliation through the running stack: `chalice local`, a Stripe stand-in of its own
(so its balance holds only this module's charges) delivering signed webhooks, moto's server, and
the local worker draining the payouts and exports queues."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from devtools import stack
from tests.helpers import (
    FINANCE_KEY,
    ORGANIZER_KEY,
    WEBHOOK_SECRET,
    donation_body,
    page_body,
    run_queues,
    sign,
    staff,
    wait_for,
)


class PayoutStack:
    def __init__(self, api: str, stripe_url: str) -> None:
        self.api = api
        self.stripe_url = stripe_url
        self.stripe = stripe.StripeClient("sk_test_local_standin", base_addresses={"api": stripe_url})

    def get(self, path: str) -> Any:
        response = requests.get(self.api + path, headers=staff(FINANCE_KEY), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def give(self, slug: str, cents: int, card: str = "pm_card_visa") -> tuple[str, str]:
        started = requests.post(f"{self.api}/api/pages/{slug}/donations",
                                json=donation_body(cents), timeout=10)
        assert started.status_code == 201, started.text
        intent_id = started.json()["client_secret"].split("_secret_")[0]
        self.stripe.v1.payment_intents.confirm(intent_id, params={"payment_method": card})
        return started.json()["donation_id"], intent_id

    def donation(self, donation_id: str) -> dict[str, Any]:
        return self.get(f"/api/admin/donations/{donation_id}")

    def pay_out(self) -> str:
        requests.post(f"{self.stripe_url}/_standin/balance/settle", timeout=10).raise_for_status()
        return str(self.stripe.v1.payouts.create(params={"currency": "usd"}).id)

    def payout_when_reconciled(self, payout_id: str) -> dict[str, Any]:
        def reconciled() -> dict[str, Any] | None:
            run_queues()
            response = requests.get(f"{self.api}/api/admin/payouts/{payout_id}",
                                    headers=staff(FINANCE_KEY), timeout=10)
            body = response.json() if response.status_code == 200 else None
            return body if body and body["reconciled_at"] else None

        return wait_for(reconciled, timeout=30, interval=0.2)


@pytest.fixture(scope="module")
def payouts(local_stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayoutStack]:
    logs = tmp_path_factory.mktemp("payout-logs")
    stripe_port, api_port = stack.free_port(), stack.free_port()
    env = {**local_stack["env"], "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}"}
    api = f"http://127.0.0.1:{api_port}"
    standin = stack.start_standin(stripe_port, env, f"{api}/webhooks/stripe", logs / "standin.log")
    server = None
    saved = os.environ["STRIPE_API_BASE"]
    try:
        server = stack.start_api(api_port, env, logs / "api.log")
        os.environ["STRIPE_API_BASE"] = env["STRIPE_API_BASE"]  # the worker's Stripe, in here
        from chalicelib import deps

        deps.reset()
        yield PayoutStack(api, env["STRIPE_API_BASE"])
    finally:
        os.environ["STRIPE_API_BASE"] = saved
        from chalicelib import deps

        deps.reset()
        stack.stop(server, standin)


COMMITTEE = "C" + "".join(random.choices("0123456789", k=8))  # this module's money only


@pytest.fixture(scope="module")
def page(payouts: PayoutStack) -> str:
    body = page_body(committee_id=COMMITTEE)
    response = requests.post(f"{payouts.api}/api/admin/pages", json=body,
                             headers=staff(ORGANIZER_KEY), timeout=10)
    assert response.status_code == 201, response.text
    return str(body["slug"])


def export(stack_: PayoutStack, kind: str) -> list[dict[str, str]]:
    from datetime import datetime, timezone

    today = datetime.now(timezone.utc).date().isoformat()
    response = requests.post(f"{stack_.api}/api/exports", headers=staff(FINANCE_KEY), timeout=10,
                             json={"kind": kind, "from": today, "to": today, "committee_id": COMMITTEE})
    assert response.status_code == 202, response.text
    export_id = response.json()["export_id"]

    def done() -> dict[str, Any] | None:
        run_queues()
        job = stack_.get(f"/api/exports/{export_id}")
        assert job["status"] != "failed", job
        return job if job["status"] == "succeeded" else None

    job = wait_for(done, timeout=60, interval=0.2)
    text = requests.get(job["download_url"], timeout=30).content.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_payout_reconciles_to_the_cent_with_fees_and_nets_on_every_movement(
        payouts: PayoutStack, page: str) -> None:
    first, first_intent = payouts.give(page, 2700)
    second, _ = payouts.give(page, 5000)
    third, _ = payouts.give(page, 10000)
    disputed, _ = payouts.give(page, 3500, card="pm_card_createDispute")
    wait_for(lambda: payouts.donation(third)["status"] == "succeeded", timeout=15)
    wait_for(lambda: payouts.donation(disputed)["status"] == "disputed", timeout=15)
    payouts.stripe.v1.refunds.create(params={"payment_intent": first_intent, "amount": 700})
    wait_for(lambda: payouts.donation(first)["refunded_cents"] == 700, timeout=15)

    payout_id = payouts.pay_out()
    payout = payouts.payout_when_reconciled(payout_id)

    stripe_payout = payouts.stripe.v1.payouts.retrieve(payout_id)
    fees = sum(round(c * 0.029) + 30 for c in (2700, 5000, 10000, 3500)) + 1500  # + the dispute fee
    assert payout["amount_cents"] == stripe_payout.amount == 2700 + 5000 + 10000 + 3500 - 700 - 3500 - fees
    assert payout["reconciled"] is True and payout["unmatched"] == []
    assert payout["status"] == "paid"
    assert payout["contributions"] == {"count": 4, "gross_cents": 21200,
                                       "fee_cents": fees - 1500, "net_cents": 21200 - fees + 1500}
    assert payout["refunds"] == {"count": 1, "gross_cents": -700, "fee_cents": 0, "net_cents": -700}
    assert payout["disputes"] == {"count": 1, "gross_cents": -3500, "fee_cents": 1500,
                                  "net_cents": -5000}
    assert payout["fees_cents"] == fees
    listed = payouts.get("/api/admin/payouts")["payouts"]
    assert [p["payout_id"] for p in listed][:1] == [payout_id] and "unmatched" not in listed[0]

    ours = {first, second, third, disputed}
    ledger = [row for row in export(payouts, "ledger_csv") if row["payout_id"] == payout_id]
    movements = [row for row in ledger if row["type"] != "payout"]
    assert sorted(row["type"] for row in movements) == ["contribution"] * 4 + ["dispute", "refund"]
    assert {row["donation_id"] for row in movements} == ours
    assert all(row["fee_cents"] != "" and row["net_cents"] != "" for row in movements)
    assert sum(int(row["net_cents"]) for row in movements) == payout["amount_cents"]
    (withdrawal,) = [row for row in ledger if row["type"] == "payout"]
    assert int(withdrawal["net_cents"]) == -payout["amount_cents"]

    contributions = [row for row in export(payouts, "contributions_csv") if row["donation_id"] in ours]
    assert len(contributions) == 6
    assert {row["payout_id"] for row in contributions} == {payout_id}
    for row in contributions:
        assert int(row["net_cents"]) == int(row["amount_cents"]) - int(row["fee_cents"])


def test_payout_paid_delivered_twice_records_everything_once(payouts: PayoutStack, page: str) -> None:
    donation_id, _ = payouts.give(page, 4200)
    wait_for(lambda: payouts.donation(donation_id)["status"] == "succeeded", timeout=15)
    payout_id = payouts.pay_out()
    before = payouts.payout_when_reconciled(payout_id)
    assert before["reconciled"] is True and before["contributions"]["count"] == 1

    (event,) = [e for e in payouts.stripe.v1.events.list(params={"type": "payout.paid"}).data
                if e.data.object["id"] == payout_id]
    payload = json.dumps(event.to_dict())
    again = requests.post(f"{payouts.api}/webhooks/stripe", data=payload, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign(payload)})
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    run_queues()  # the duplicate's job message, and a second run of the job, change nothing
    from chalicelib import deps

    deps.payout_service().reconcile(payout_id)
    after = payouts.get(f"/api/admin/payouts/{payout_id}")
    assert {k: v for k, v in after.items() if k != "reconciled_at"} == \
           {k: v for k, v in before.items() if k != "reconciled_at"}
    rows = [row for row in export(payouts, "ledger_csv") if row["payout_id"] == payout_id]
    assert sorted(row["type"] for row in rows) == ["contribution", "payout"]


def test_a_charge_the_backend_never_recorded_leaves_the_payout_unreconciled_and_named(
        payouts: PayoutStack, page: str) -> None:
    donation_id, _ = payouts.give(page, 2500)
    wait_for(lambda: payouts.donation(donation_id)["status"] == "succeeded", timeout=15)
    stranger = payouts.stripe.v1.payment_intents.create(params={
        "amount": 9900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "payment_method_types": ["card"], "description": f"not ours {uuid.uuid4().hex[:6]}"})
    payout_id = payouts.pay_out()
    payout = payouts.payout_when_reconciled(payout_id)
    assert payout["reconciled"] is False
    (unmatched,) = payout["unmatched"]
    assert unmatched["source"] == stranger.latest_charge and unmatched["amount_cents"] == 9900
    assert unmatched["reason"] == "no donation for this payment"
    assert payout["contributions"]["count"] == 1 and payout["other"]["count"] == 1


def test_a_failed_payout_comes_back_in_the_next_one(payouts: PayoutStack, page: str) -> None:
    donation_id, _ = payouts.give(page, 6000)
    wait_for(lambda: payouts.donation(donation_id)["status"] == "succeeded", timeout=15)
    failed_id = payouts.pay_out()
    payouts.payout_when_reconciled(failed_id)
    requests.post(f"{payouts.stripe_url}/_standin/payouts/{failed_id}/fail",
                  json={"failure_code": "account_closed"}, timeout=10).raise_for_status()

    def failed() -> dict[str, Any] | None:
        run_queues()
        body = payouts.get(f"/api/admin/payouts/{failed_id}")
        return body if body["status"] == "failed" else None

    failed_view = wait_for(failed, timeout=30, interval=0.2)
    assert failed_view["failure_code"] == "account_closed"
    second, _ = payouts.give(page, 1000)
    wait_for(lambda: payouts.donation(second)["status"] == "succeeded", timeout=15)
    next_id = payouts.pay_out()
    following = payouts.payout_when_reconciled(next_id)
    assert following["reconciled"] is True
    assert following["returned_payouts"]["net_cents"] == failed_view["amount_cents"]
    assert payouts.get(f"/api/admin/payouts/{failed_id}")["returned_in"] == next_id


def test_the_webhook_acknowledges_a_payout_without_calling_stripe(payouts: PayoutStack, page: str) -> None:
    donation_id, _ = payouts.give(page, 1500)
    wait_for(lambda: payouts.donation(donation_id)["status"] == "succeeded", timeout=15)
    payout_id = payouts.pay_out()
    payouts.payout_when_reconciled(payout_id)
    (event,) = [e.to_dict() for e in payouts.stripe.v1.events.list(params={"type": "payout.paid"}).data
                if e.data.object["id"] == payout_id]
    event["id"] = f"evt_{uuid.uuid4().hex[:24]}"  # a new event, so it is applied, not a duplicate
    payload = json.dumps(event)
    faults = f"{payouts.stripe_url}/_standin/faults"
    requests.post(faults, json={"error_rate": 1.0}, timeout=10).raise_for_status()  # every /v1/ call fails
    try:
        answer = requests.post(f"{payouts.api}/webhooks/stripe", data=payload, timeout=10, headers={
            "Content-Type": "application/json", "Stripe-Signature": sign(payload)})
        counts = requests.get(faults, timeout=10).json()["counts"]
    finally:
        requests.post(faults, json={}, timeout=10).raise_for_status()
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    assert counts["requests"] == 0
    run_queues()  # the job it queued runs once Stripe answers again, and finds nothing new
    assert payouts.get(f"/api/admin/payouts/{payout_id}")["reconciled"] is True


def test_a_payout_left_unreconciled_by_a_late_webhook_heals_on_the_hourly_recheck(
        payouts: PayoutStack, page: str) -> None:
    hook = f"{payouts.stripe_url}/_standin/webhook"
    requests.post(hook, json={"url": None}, timeout=10).raise_for_status()  # Stripe's delivery stalls
    try:
        donation_id, intent_id = payouts.give(page, 3100)
    finally:
        requests.post(hook, json={"url": f"{payouts.api}/webhooks/stripe", "secret": WEBHOOK_SECRET},
                      timeout=10).raise_for_status()
    payout_id = payouts.pay_out()
    assert payouts.payout_when_reconciled(payout_id)["reconciled"] is False  # the charge is unknown yet

    (late,) = [e for e in payouts.stripe.v1.events.list(params={"type": "payment_intent.succeeded"}).data
               if e.data.object["id"] == intent_id]
    payload = json.dumps(late.to_dict())
    assert requests.post(f"{payouts.api}/webhooks/stripe", data=payload, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign(payload)}).status_code == 200
    assert payouts.donation(donation_id)["status"] == "succeeded"

    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:  # the hourly schedule, as Lambda would run it
        queued = client.lambda_.invoke("recheck_payouts", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])).payload
    assert queued["queued"] >= 1

    def healed() -> dict[str, Any] | None:
        run_queues()
        body = payouts.get(f"/api/admin/payouts/{payout_id}")
        return body if body["reconciled"] else None

    assert wait_for(healed, timeout=30, interval=0.2)["unmatched"] == []


def test_the_treasurers_report_counts_stripes_fees_and_its_cash_is_the_ledgers(
        payouts: PayoutStack, page: str) -> None:
    """Once a payout reconciles, its fees are operating expenditures on line 17 of the
    committee's report, and line 27 is the ledger's own balance (no opening cash set: zero)."""
    from datetime import datetime, timezone

    from chalicelib import deps
    from chalicelib.fec_reports.committee import filing_committee
    from chalicelib.filing.calendar import filing_calendar

    donation_id, _ = payouts.give(page, 8800)
    wait_for(lambda: payouts.donation(donation_id)["status"] == "succeeded", timeout=15)
    payouts.payout_when_reconciled(payouts.pay_out())
    moved = [row for row in export(payouts, "ledger_csv")
             if row["committee_id"] == COMMITTEE and row["type"] not in ("payout", "payout_failure")]
    fees = sum(int(row["fee_cents"] or 0) for row in moved)
    assert fees >= round(8800 * 0.029) + 30
    gross = sum(int(row["gross_cents"]) for row in moved)

    committee = filing_committee(deps.committees().get(COMMITTEE))
    today = committee.local_date(datetime.now(timezone.utc))
    period = next(p for p in filing_calendar(committee, today.year) if p.covers(today))
    response = requests.post(f"{payouts.api}/api/admin/reports", headers=staff(FINANCE_KEY), timeout=10,
                             json={"committee_id": COMMITTEE, "report_code": period.report_code,
                                   "from": period.coverage_from.isoformat(),
                                   "to": period.coverage_through.isoformat()})
    assert response.status_code == 202, response.text
    report_id = response.json()["report_id"]

    def built() -> dict[str, Any] | None:
        run_queues()
        body = payouts.get(f"/api/admin/reports/{report_id}")
        assert body["status"] != "failed", body
        return body if body["status"] == "draft" else None

    lines = wait_for(built, timeout=30, interval=0.2)["lines"]
    assert lines["L17_operating_expenditures_period"] == fees / 100
    assert lines["L27_cash_on_hand_at_close_period"] == (gross - fees) / 100
