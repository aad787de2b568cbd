"""Balance transactions, fees and payouts on the stand-in, through the real stripe SDK."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import stripe

from devtools.stripe_standin import RunningStandin, serve

from .helpers import dev_post, event_types, paid_pi, sdk, wait_for


def txn_for(client: stripe.StripeClient, txn_id: str) -> Any:
    return client.v1.balance_transactions.retrieve(txn_id)


# ------------------------------------------------------ balance transactions


def test_charge_creates_balance_transaction(
    client: stripe.StripeClient, stripe_fixtures: dict[str, Any]
) -> None:
    pi = paid_pi(client, amount=1000, description="Donation")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    txn = txn_for(client, charge.balance_transaction)
    assert txn.id.startswith("txn_") and txn.object == "balance_transaction"
    assert (txn.type, txn.reporting_category, txn.source) == ("charge", "charge", charge.id)
    assert (txn.amount, txn.fee, txn.net) == (1000, 59, 941)  # 2.9% of 1000 = 29, + 30
    assert [d.to_dict() for d in txn.fee_details] == [
        {
            "amount": 59,
            "application": None,
            "currency": "usd",
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    assert txn.status == "available" and txn.available_on >= txn.created
    assert txn.currency == "usd" and txn.description == "Donation"
    assert not set(stripe_fixtures["balance_transaction"]) - set(txn.to_dict())
    expanded = client.v1.charges.retrieve(charge.id, params={"expand": ["balance_transaction"]})
    assert expanded.balance_transaction.id == txn.id


def test_manual_capture_moves_funds_at_capture(client: stripe.StripeClient) -> None:
    pi = paid_pi(client, amount=2000, capture_method="manual")
    assert client.v1.charges.retrieve(pi.latest_charge).balance_transaction is None
    client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1500})
    charge = client.v1.charges.retrieve(pi.latest_charge)
    txn = txn_for(client, charge.balance_transaction)
    assert (txn.amount, txn.fee, txn.net) == (1500, 74, 1426)  # 43.5 -> 44, + 30


def test_fee_rule_is_a_setting_rounding_half_up() -> None:
    standin = serve(port=0, fee_percent=1, fee_fixed_cents=0)
    try:
        client = sdk(standin)
        fees = {}
        for amount in (250, 150, 1049):  # 2.5 -> 3 (not banker's 2), 1.5 -> 2, 10.49 -> 10
            charge = client.v1.charges.retrieve(paid_pi(client, amount=amount).latest_charge)
            fees[amount] = txn_for(client, charge.balance_transaction).fee
        assert fees == {250: 3, 150: 2, 1049: 10}
    finally:
        standin.shutdown()


def test_refund_transaction_keeps_the_fee(client: stripe.StripeClient) -> None:
    pi = paid_pi(client, amount=1000)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 300})
    txn = txn_for(client, refund.balance_transaction)
    assert (txn.type, txn.reporting_category, txn.source) == ("refund", "refund", refund.id)
    assert (txn.amount, txn.fee, txn.net, txn.fee_details) == (-300, 0, -300, [])
    assert txn.status == "available"
    expanded = client.v1.refunds.retrieve(refund.id, params={"expand": ["balance_transaction"]})
    assert expanded.balance_transaction.amount == -300


def dispute_of(client: stripe.StripeClient, pi_id: str) -> Any:
    return next(
        e.data.object
        for e in client.v1.events.list(params={"type": "charge.dispute.created", "limit": 100}).data
        if e.data.object.payment_intent == pi_id
    )


def test_dispute_transactions_and_reversal(client: stripe.StripeClient) -> None:
    pi = paid_pi(client, amount=1000, pm="pm_card_createDispute")
    dispute = dispute_of(client, pi.id)
    [withdrawal] = dispute.balance_transactions
    assert withdrawal.type == "adjustment" and withdrawal.reporting_category == "dispute"
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-1000, 1500, -2500)
    assert withdrawal.fee_details[0].description == "Dispute fee" and withdrawal.source == dispute.id
    assert txn_for(client, withdrawal.id).to_dict() == withdrawal.to_dict()
    won = client.v1.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    assert won.status == "won" and len(won.balance_transactions) == 2
    reversal = won.balance_transactions[1]
    assert reversal.type == "adjustment" and reversal.reporting_category == "dispute_reversal"
    assert (reversal.amount, reversal.fee, reversal.net) == (1000, -1500, 2500)
    assert reversal.source == dispute.id
    by_source = client.v1.balance_transactions.list(params={"source": dispute.id}).data
    assert [t.id for t in by_source] == [reversal.id, withdrawal.id]


def test_list_filters_and_pagination(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    charges = [
        client.v1.charges.retrieve(paid_pi(client, amount=a).latest_charge) for a in (1000, 2000, 3000)
    ]
    client.v1.refunds.create(params={"charge": charges[0].id, "amount": 100})
    everything = client.v1.balance_transactions.list(params={"limit": 100})
    assert [t.type for t in everything.data] == ["refund", "charge", "charge", "charge"]  # newest first
    assert everything.has_more is False and everything.url == "/v1/balance_transactions"
    only_charges = client.v1.balance_transactions.list(params={"type": "charge"}).data
    assert [t.source for t in only_charges] == [c.id for c in reversed(charges)]
    page = client.v1.balance_transactions.list(params={"limit": 2})
    assert len(page.data) == 2 and page.has_more is True
    rest = client.v1.balance_transactions.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert [t.id for t in rest.data] == [t.id for t in everything.data[2:]] and rest.has_more is False
    before = client.v1.balance_transactions.list(params={"ending_before": rest.data[0].id, "limit": 1})
    assert [t.id for t in before.data] == [page.data[-1].id] and before.has_more is True
    assert [t.source for t in client.v1.balance_transactions.list(params={"source": charges[1].id}).data] == [
        charges[1].id
    ]
    created = everything.data[0].created
    assert len(client.v1.balance_transactions.list(params={"created": {"gte": created}}).data) >= 1
    assert client.v1.balance_transactions.list(params={"created": {"lte": created - 3600}}).data == []
    assert len(client.v1.balance_transactions.list(params={"created": {"gte": created - 3600}}).data) == 4
    paged = client.v1.balance_transactions.list(params={"limit": 1}).auto_paging_iter()
    assert [t.id for t in paged] == [t.id for t in everything.data]
    for bad in ({"limit": 0}, {"limit": 101}, {"bogus": "1"}, {"starting_after": "txn_missing"}):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.balance_transactions.list(params=bad)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.balance_transactions.retrieve("txn_missing")
    assert exc.value.http_status == 404


def test_funds_pending_until_available() -> None:
    standin = serve(port=0, available_delay_seconds=3600)
    try:
        client = sdk(standin)
        charge = client.v1.charges.retrieve(paid_pi(client, amount=1000).latest_charge)
        txn = txn_for(client, charge.balance_transaction)
        assert txn.status == "pending" and txn.available_on >= txn.created + 3600
        balance = client.v1.balance.retrieve()
        assert balance.pending[0].amount == 941 and balance.available[0].amount == 0
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.payouts.create(params={"currency": "usd"})
        assert exc.value.code == "balance_insufficient"
        refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
        assert txn_for(client, refund.balance_transaction).status == "available"  # debits are immediate
        assert dev_post(standin, "balance/settle").json() == {"settled": 1}
        txn = txn_for(client, charge.balance_transaction)
        assert txn.status == "available" and txn.available_on <= int(time.time())
        assert client.v1.payouts.create(params={"currency": "usd"}).amount == 841
    finally:
        standin.shutdown()


def test_funds_become_available_when_their_time_comes() -> None:
    standin = serve(port=0, available_delay_seconds=0.3)
    try:
        client = sdk(standin)
        txn_id = client.v1.charges.retrieve(paid_pi(client).latest_charge).balance_transaction
        assert txn_for(client, txn_id).status == "pending"
        wait_for(lambda: txn_for(client, txn_id).status == "available")
    finally:
        standin.shutdown()


# ------------------------------------------------------------------ payouts


def test_payout_sweeps_the_available_balance(fresh: RunningStandin, stripe_fixtures: dict[str, Any]) -> None:
    client = sdk(fresh)
    first = paid_pi(client, amount=1000)
    second = paid_pi(client, amount=2000)
    refund = client.v1.refunds.create(params={"payment_intent": first.id, "amount": 500})
    dispute_pi = paid_pi(client, amount=1500, pm="pm_card_createDispute")
    dispute = dispute_of(client, dispute_pi.id)
    # 941 + 1912 - 500 + (1500 - 74) - 3000 (dispute: -1500 amount, 1500 fee)
    expected = 941 + 1912 - 500 + 1426 - 3000
    assert client.v1.balance.retrieve().available[0].amount == expected

    payout = client.v1.payouts.create(
        params={"currency": "usd", "description": "Weekly", "metadata": {"run": "r1"}}
    )
    assert payout.id.startswith("po_") and payout.amount == expected and payout.status == "paid"
    assert payout.metadata.to_dict() == {"run": "r1"} and payout.description == "Weekly"
    assert payout.livemode is False and isinstance(payout.arrival_date, int)
    assert not set(stripe_fixtures["payout"]) - set(payout.to_dict())
    assert event_types(client, payout.id) == ["payout.created", "payout.paid"]

    swept = client.v1.balance_transactions.list(params={"payout": payout.id, "limit": 100}).data
    own = txn_for(client, payout.balance_transaction)
    assert (own.type, own.reporting_category, own.amount, own.source) == (
        "payout",
        "payout",
        -expected,
        payout.id,
    )
    assert swept[0].id == own.id
    sources = {t.source for t in swept[1:]}
    charge_ids = {
        client.v1.payment_intents.retrieve(pi.id).latest_charge for pi in (first, second, dispute_pi)
    }
    assert sources == charge_ids | {refund.id, dispute.id}
    assert sum(t.net for t in swept[1:]) == payout.amount
    assert client.v1.balance.retrieve().available[0].amount == 0
    # reconciliation in one call: each swept transaction's source and its PaymentIntent
    expanded = client.v1.balance_transactions.list(
        params={"payout": payout.id, "limit": 100, "expand": ["data.source.payment_intent"]}
    ).data
    intents = {t.source.payment_intent.id for t in expanded if t.source.object in ("charge", "refund")}
    assert intents == {first.id, second.id, dispute_pi.id}
    assert expanded[0].source.object == "payout" and expanded[0].source.id == payout.id
    assert {t.source.object for t in expanded} == {"payout", "charge", "refund", "dispute"}

    later = paid_pi(client, amount=5000)
    second_payout = client.v1.payouts.create(params={"currency": "usd"})
    assert second_payout.amount == 4825
    later_sources = [
        t.source for t in client.v1.balance_transactions.list(params={"payout": second_payout.id}).data
    ]
    assert later_sources == [second_payout.id, client.v1.payment_intents.retrieve(later.id).latest_charge]
    assert client.v1.payouts.retrieve(payout.id).id == payout.id
    listed = client.v1.payouts.list(params={"limit": 1})
    assert [p.id for p in listed.data] == [second_payout.id] and listed.has_more is True
    assert [p.id for p in client.v1.payouts.list(params={"status": "paid"}).data] == [
        second_payout.id,
        payout.id,
    ]


def test_payout_amount_sweeps_oldest_first(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    for amount in (1000, 2000, 3000):
        paid_pi(client, amount=amount)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"currency": "usd", "amount": 941 + 1912 + 2883 + 1})
    assert exc.value.code == "balance_insufficient" and exc.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"amount": 100})
    assert exc.value.code == "parameter_missing" and exc.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"currency": "usd", "amount": 0})
    assert exc.value.param == "amount"

    key = str(uuid.uuid4())
    payout = client.v1.payouts.create(
        params={"currency": "usd", "amount": 941 + 1912}, options={"idempotency_key": key}
    )
    again = client.v1.payouts.create(
        params={"currency": "usd", "amount": 941 + 1912}, options={"idempotency_key": key}
    )
    assert again.id == payout.id and again.last_response.headers["Idempotent-Replayed"] == "true"
    swept = client.v1.balance_transactions.list(params={"payout": payout.id, "type": "charge"}).data
    assert [t.amount for t in swept] == [2000, 1000]
    assert len(client.v1.payouts.list().data) == 1
    rest = client.v1.payouts.create(params={"currency": "usd"})
    assert rest.amount == 2883
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"currency": "usd"})
    assert exc.value.code == "balance_insufficient"


def test_payout_failure_returns_the_money(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    paid_pi(client, amount=1000)
    payout = client.v1.payouts.create(params={"currency": "usd"})
    r = dev_post(fresh, f"payouts/{payout.id}/fail", {"failure_code": "no_account"})
    assert r.status_code == 200, r.text
    failed = client.v1.payouts.retrieve(payout.id)
    assert failed.status == "failed" and failed.failure_code == "no_account"
    assert failed.failure_message and failed.failure_balance_transaction.startswith("txn_")
    events = client.v1.events.list(params={"type": "payout.failed"}).data
    assert events[0].data.object.id == payout.id and events[0].data.previous_attributes.status == "paid"
    back = txn_for(client, failed.failure_balance_transaction)
    assert (back.type, back.reporting_category, back.amount, back.source) == (
        "payout_failure",
        "payout_reversal",
        941,
        payout.id,
    )
    assert client.v1.balance.retrieve().available[0].amount == 941
    retry = client.v1.payouts.create(params={"currency": "usd"})
    assert retry.amount == 941
    assert [t.type for t in client.v1.balance_transactions.list(params={"payout": retry.id}).data] == [
        "payout",
        "payout_failure",
    ]
    assert dev_post(fresh, f"payouts/{payout.id}/fail").status_code == 400  # already failed
    assert dev_post(fresh, "payouts/po_missing/fail").status_code == 404
    assert dev_post(fresh, f"payouts/{retry.id}/fail", {"failure_code": "nope"}).status_code == 400


def test_payout_params_are_strict(client: stripe.StripeClient, standin: RunningStandin) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"currency": "usd", "destination": "ba_123"})
    assert exc.value.code == "parameter_unknown"
    r = requests.get(
        f"{standin.url}/v1/payouts", params={"limit": "x"}, headers={"Authorization": "Bearer sk_test_1"}
    )
    assert r.status_code == 400


def test_partial_payouts_keep_the_books_balanced(fresh: RunningStandin) -> None:
    client = sdk(fresh)
    paid_pi(client, amount=1000)  # net 941
    paid_pi(client, amount=2000)  # net 1912
    odd = client.v1.payouts.create(params={"currency": "usd", "amount": 1000})  # not a run of whole txns
    assert [t.amount for t in client.v1.balance_transactions.list(params={"payout": odd.id}).data] == [
        -1000,
        1000,
    ]
    assert client.v1.balance.retrieve().available[0].amount == 941 + 1912 - 1000
    rest = client.v1.payouts.create(params={"currency": "usd"})
    assert rest.amount == 1853
    swept = [
        t.net
        for po in (odd, rest)
        for t in client.v1.balance_transactions.list(params={"payout": po.id}).data
        if t.type != "payout"
    ]
    assert sum(swept) == odd.amount + rest.amount  # every swept txn is paid out exactly once
    assert client.v1.balance.retrieve().available[0].amount == 0
