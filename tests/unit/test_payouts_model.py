"""Matching a payout's balance transactions to movements, and the ledger's payout rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.exports.ledger import payout_rows
from chalicelib.payouts.model import (
    BalanceTxn,
    Line,
    PaidMovement,
    PayoutFacts,
    PayoutRecord,
    line_kind,
    pick,
    read_balance_transaction,
    read_payout,
    reconcile,
)

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


def txn(txn_id: str, type_: str, amount: int, fee: int = 0, source: str = "ch_1") -> BalanceTxn:
    return BalanceTxn(txn_id, type_, amount, fee, amount - fee, source, "pi_1", T0)


def movement(n: int, kind: str, cents: int, bt: str | None = None) -> PaidMovement:
    return PaidMovement(f"evt_{n}#{kind}", "don_1", kind, cents, T0 + timedelta(minutes=n), bt)


def payout(amount: int) -> PayoutFacts:
    return PayoutFacts("po_1", amount, "usd", "paid", T0, T0)


@pytest.mark.parametrize(("type_", "amount", "source", "kind"), [
    ("charge", 2700, "ch_1", "contribution"),
    ("payment", 2700, "py_1", "contribution"),
    ("refund", -700, "re_1", "refund"),
    ("adjustment", -2700, "du_1", "dispute"),
    ("adjustment", 2700, "dp_1", "dispute_reversal"),
    ("payout_failure", 5000, "po_0", "payout_failure"),
    ("adjustment", -100, "ia_1", None),  # an adjustment that is not a dispute
    ("stripe_fee", -200, None, None),
])
def test_each_transaction_type_stands_for_one_kind_of_movement(type_: str, amount: int, source: str | None,
                                                                kind: str | None) -> None:
    assert line_kind(txn("txn_1", type_, amount, source=source or "")) == kind


def test_two_equal_partial_refunds_take_one_movement_each_and_a_rerun_finds_its_own() -> None:
    first, second = movement(1, "refund", -500), movement(2, "refund", -500)
    assert pick(txn("txn_a", "refund", -500), "refund", [second, first]) == first
    taken = movement(1, "refund", -500, bt="txn_a")
    assert pick(txn("txn_b", "refund", -500), "refund", [taken, second]) == second
    assert pick(txn("txn_a", "refund", -500), "refund", [second, taken]) == taken


def test_a_transaction_matches_nothing_of_another_kind_or_amount() -> None:
    candidates = [movement(1, "contribution", 2700), movement(2, "refund", -700)]
    assert pick(txn("txn_a", "refund", -800), "refund", candidates) is None
    assert pick(txn("txn_a", "charge", 2700, fee=108), "contribution", candidates) == candidates[0]


def test_reconciled_only_when_everything_matched_and_the_nets_make_the_amount() -> None:
    charge, refund = txn("txn_1", "charge", 2700, fee=108), txn("txn_2", "refund", -700)
    lines = [Line(charge, "contribution", "m1", "don_1"), Line(refund, "refund", "m2", "don_1")]
    result = reconcile(payout(2592 - 700), lines)
    assert result.reconciled and result.unmatched == []
    assert result.summary["contributions"] == {"count": 1, "gross_cents": 2700, "fee_cents": 108,
                                               "net_cents": 2592}
    assert result.summary["fees_cents"] == 108

    stray = Line(txn("txn_3", "charge", 1000, fee=59), "contribution", reason="no donation for this payment")
    result = reconcile(payout(2592 - 700 + 941), [*lines, stray])
    assert not result.reconciled
    assert [u["balance_transaction_id"] for u in result.unmatched] == ["txn_3"]
    assert result.summary["other"]["net_cents"] == 941

    assert not reconcile(payout(2592), lines).reconciled  # matched, but not the payout's amount


def test_a_payout_object_is_read_strictly() -> None:
    obj = {"object": "payout", "id": "po_1", "amount": 100, "currency": "usd", "status": "paid",
           "arrival_date": 1793577600, "created": 1793577600}
    assert read_payout(obj).arrival_date == datetime(2026, 11, 2, tzinfo=timezone.utc)
    for broken in ({**obj, "amount": "100"}, {**obj, "object": "charge"}, {**obj, "created": None}):
        with pytest.raises(InvalidInput):
            read_payout(broken)


def test_an_expanded_source_gives_the_payment_intent() -> None:
    listed = {"id": "txn_1", "type": "refund", "amount": -700, "fee": 0, "net": -700,
              "created": 1793577600, "source": {"id": "re_1", "object": "refund", "payment_intent": "pi_9"}}
    read = read_balance_transaction(listed)
    assert (read.source_id, read.payment_intent_id) == ("re_1", "pi_9")
    assert read_balance_transaction({**listed, "source": "re_1"}).payment_intent_id is None


def test_a_failed_payout_leaves_and_comes_back_in_the_ledger() -> None:
    facts = PayoutFacts("po_1", 5000, "usd", "failed", T0, T0, "account_closed", "closed")
    record = PayoutRecord(facts, failed_at=T0 + timedelta(days=1), returned_in="po_2")
    rows = payout_rows(record, T0, T0 + timedelta(days=2))
    assert [(r.type, r.net_cents, r.payout_id) for r in rows] == [
        ("payout", -5000, "po_1"), ("payout_failure", 5000, "po_2")]
    # A range that starts after the payout left holds only its return.
    later = payout_rows(record, T0 + timedelta(hours=12), T0 + timedelta(days=2))
    assert [r.type for r in later] == ["payout_failure"]
