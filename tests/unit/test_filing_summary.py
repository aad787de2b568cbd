"""Each summary line against fixture transactions: what one transaction adds to which line of
Form 3 and of Form 3X, and cash on hand before and after the opening day."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.filing.calendar import report_period
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import (
    BestEffortsAnswer,
    OpeningCash,
    ProcessingFee,
    Receipt,
    Redesignation,
    Refund,
    ReturnedContribution,
    Transaction,
)
from chalicelib.filing.schemas import schema
from chalicelib.filing.summary import cash_on_hand, column, field_name, line_fields, summarize
from tests.helpers import contributor, filing_committee, filing_receipt

D = date.fromisoformat
DAY = D("2026-02-10")
ITEMIZED = filing_receipt("big", DAY, 25_000, 25_000)
SMALL = filing_receipt("small", DAY, 5_000, 5_000)
KIND = filing_receipt("kind", DAY, 30_000, 30_000, method="in_kind", in_kind_description="Chairs")
RETURNED = ReturnedContribution(transaction_id("SA", "back"), DAY, 25_000, contributor(), 0, DAY)
RETURNED_SMALL = ReturnedContribution(transaction_id("SA", "back-small"), DAY, 5_000, contributor(), 0, DAY)
REFUND = Refund(transaction_id("SB", "refund"), DAY, 7_000, contributor(), DAY)
FEE = ProcessingFee("fee", DAY, 1_234)
MEMO = Redesignation(transaction_id("SA", "memo"), DAY, ITEMIZED, 1_000, "P2026", "G2026")
ANSWER = BestEffortsAnswer(transaction_id("SA", "answer"), DAY, ITEMIZED, "Acme", "Welder")


def base_lines(committee_type: str, txn: Transaction) -> dict[str, int]:
    """The lines `txn` counts in before the form's sums (which the report tests check)."""
    return {line: cents for line, cents in column(filing_committee(committee_type), [txn]).items() if cents}


@pytest.mark.parametrize(("txn", "f3", "f3x"), [
    (ITEMIZED, {"11ai": 25_000}, {"11ai": 25_000}),
    (SMALL, {"11aii": 5_000}, {"11aii": 5_000}),
    (KIND, {"11ai": 30_000, "17": 30_000}, {"11ai": 30_000, "21b": 30_000}),
    (RETURNED, {"11ai": -25_000}, {"11ai": -25_000}),
    (RETURNED_SMALL, {"11aii": -5_000}, {"11aii": -5_000}),
    (REFUND, {"20a": 7_000}, {"28a": 7_000}),
    (FEE, {"17": 1_234}, {"21b": 1_234}),
    (MEMO, {}, {}),
    (ANSWER, {}, {}),
], ids=["itemized", "unitemized", "in_kind", "chargeback", "small_chargeback", "refund", "fee",
        "redesignation", "answer"])
def test_one_transaction_per_line(txn: Transaction, f3: dict[str, int], f3x: dict[str, int]) -> None:
    assert base_lines("candidate", txn) == f3
    assert base_lines("pac", txn) == f3x


def test_the_cash_lines_of_one_receipt() -> None:
    committee = filing_committee()
    period = report_period(committee, "Q1", D("2026-01-01"), D("2026-03-31"))
    summary = summarize(committee, period, [ITEMIZED, FEE], OpeningCash(10_000, D("2026-01-01")))
    assert {line: summary.period[line] for line in ("23", "24", "25", "26", "27", "8")} == {
        "23": 10_000, "24": 25_000, "25": 35_000, "26": 1_234, "27": 33_766, "8": 33_766}


def test_cash_on_hand_counts_forward_and_back_from_the_opening_day() -> None:
    committee = filing_committee()
    opening = OpeningCash(50_000, D("2026-02-10"))
    earlier = filing_receipt("earlier", D("2026-01-15"), 20_000)
    later = filing_receipt("later", D("2026-03-01"), 10_000)
    txns: list[Transaction] = [earlier, ITEMIZED, later]
    assert cash_on_hand(committee, txns, opening, D("2026-02-10")) == 50_000
    assert cash_on_hand(committee, txns, opening, D("2026-02-11")) == 75_000  # the gift of the 10th
    assert cash_on_hand(committee, txns, opening, D("2026-03-02")) == 85_000
    assert cash_on_hand(committee, txns, opening, D("2026-01-01")) == 30_000  # before the earlier gift


@pytest.mark.parametrize("form", ["F3", "F3X"])
def test_every_amount_line_of_the_schema_is_named(form: str) -> None:
    names = {n for n, p in schema(form)["properties"].items()
             if n.startswith("L") and "number" in p["type"]}
    assert set(line_fields(form)) == names  # type: ignore[arg-type]
    assert field_name("F3", "11aii") == "L11aii_individuals_unitemized_period"
    assert field_name("F3X", "26", "ytd") == "L26_loan_repayments_made_ytd"


def test_a_receipt_after_the_period_is_left_out() -> None:
    committee = filing_committee()
    period = report_period(committee, "Q1", D("2026-01-01"), D("2026-03-31"))
    after: Receipt = filing_receipt("april", D("2026-04-01"), 99_000)
    summary = summarize(committee, period, [after], OpeningCash(0, D("2026-01-01")))
    assert not any(summary.period.values()) and not any(summary.ytd.values())
