"""A quarter of a House campaign, built into its Form 3 report: online and offline gifts, a
partial refund, an excess refund, a chargeback, a best-efforts answer after the first report, a
redesignation and a reattribution. The arithmetic holds, line 27 is the opening cash plus the
transactions, every record validates against the FEC's schemas and parses back through
`fecfile`, and the amendment keeps every transaction id."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from chalicelib.filing.calendar import report_period
from chalicelib.filing.forms import Amendment, Signature
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import (
    Address,
    BestEffortsAnswer,
    OpeningCash,
    Organization,
    ProcessingFee,
    Reattribution,
    Receipt,
    Redesignation,
    Refund,
    ReturnedContribution,
    Transaction,
)
from chalicelib.filing.report import Report, build_report, earliest_needed
from chalicelib.filing.schemas import schema
from chalicelib.filing.summary import field_name
from tests.helpers import assert_fec_round_trip, contributor, filing_committee, filing_receipt

D = date.fromisoformat
COMMITTEE = filing_committee()
OPENING = OpeningCash(500_000, D("2024-11-06"))
SIGNED = Signature(D("2026-07-10"))
ACTBLUE = Organization("ActBlue", Address("PO Box 441146", "Somerville", "MA", "02144"), "C00401224")

ana = contributor("Ana", "Alvarez")
bo = contributor("Bo", "Brown")
cy = contributor("Cy", "Cole")
dee = contributor("Dee", "Diaz")
eve = contributor("Eve", "Evans")
fay = contributor("Fay", "Fox")
gil = contributor("Gil", "Garcia")
hal = contributor("Hal", "Hughes")
ivy = contributor("Ivy", "Ito")
jo = contributor("Jo", "Jones")
kim = contributor("Kim", "Kato", employer="N/A", occupation="N/A")
lee = contributor("Lee", "Lopez")
max_ = contributor("Max", "Lopez", employer="Springfield Schools", occupation="Teacher")
nan = contributor("Nan", "Novak")

# Before the quarter: last year, and the pre-primary report's period (April 1 - May 13).
NAN = filing_receipt("nan", D("2025-06-01"), 100_000, 100_000, nan)
ANA_APRIL = filing_receipt("ana-1", D("2026-04-10"), 15_000, 15_000, ana)
KIM = filing_receipt("kim", D("2026-04-20"), 25_000, 25_000, kim)
# The quarter (May 14 - June 30).
ANA = filing_receipt("ana-2", D("2026-05-20"), 10_000, 25_000, ana)
BO = filing_receipt("bo", D("2026-05-15"), 5_000, 5_000, bo, method="check")
CY = filing_receipt("cy", D("2026-05-16"), 8_000, 8_000, cy, method="cash")
DEE = filing_receipt("dee", D("2026-05-18"), 50_000, 50_000, dee, method="wire")
EVE = filing_receipt("eve", D("2026-05-19"), 30_000, 30_000, eve, method="in_kind",
                     in_kind_description="Catering for the May 19 house party")
FAY = filing_receipt("fay", D("2026-05-21"), 25_000, 25_000, fay, method="conduit", conduit=ACTBLUE)
GIL = filing_receipt("gil", D("2026-05-22"), 40_000, 40_000, gil)
HAL = filing_receipt("hal", D("2026-05-23"), 360_000, 360_000, hal)
IVY = filing_receipt("ivy", D("2026-05-24"), 370_000, 370_000, ivy)
JO = filing_receipt("jo", D("2026-05-27"), 30_000, 30_000, jo)
LEE = filing_receipt("lee", D("2026-06-03"), 400_000, 400_000, lee, election="G2026")
GIL_REFUND = Refund(transaction_id("SB", "gil-refund"), D("2026-05-25"), 10_000, gil, GIL.date, "P2026")
IVY_EXCESS = Refund(transaction_id("SB", "ivy-excess"), D("2026-05-26"), 20_000, ivy, IVY.date, "P2026",
                    excess=True)
JO_CHARGEBACK = ReturnedContribution(transaction_id("SA", "jo-dispute"), D("2026-05-30"), 30_000, jo, 0,
                                     JO.date, "P2026")
HAL_REDESIGNATION = Redesignation(transaction_id("SA", "hal-redesignation"), D("2026-05-23"), HAL, 10_000,
                                  "P2026", "G2026")
LEE_REATTRIBUTION = Reattribution(transaction_id("SA", "lee-reattribution"), D("2026-06-10"), LEE, 50_000,
                                  max_, 350_000, 50_000)
KIM_ANSWER = BestEffortsAnswer(transaction_id("SA", "kim-answer"), D("2026-06-01"), KIM,
                               "Springfield Clinic", "Nurse")
FEES = [ProcessingFee(f"fee-{n}", day, cents) for n, (day, cents) in enumerate([
    (D("2025-06-01"), 2_930), (D("2026-04-10"), 465), (D("2026-04-20"), 755), (D("2026-05-20"), 320),
    (D("2026-05-22"), 1_190), (D("2026-05-23"), 10_470), (D("2026-05-24"), 10_760), (D("2026-05-27"), 900),
    (D("2026-05-30"), 1_500), (D("2026-06-03"), 11_630)])]
TRANSACTIONS: list[Transaction] = [
    NAN, ANA_APRIL, KIM, ANA, BO, CY, DEE, EVE, FAY, GIL, HAL, IVY, JO, LEE, GIL_REFUND, IVY_EXCESS,
    JO_CHARGEBACK, HAL_REDESIGNATION, LEE_REATTRIBUTION, KIM_ANSWER, *FEES]
QUARTER = [t for t in TRANSACTIONS if D("2026-05-14") <= t.date <= D("2026-06-30")]


def build(transactions: list[Transaction] = TRANSACTIONS, **kwargs: Any) -> Report:
    period = report_period(COMMITTEE, "Q2", D("2026-05-14"), D("2026-06-30"))
    return build_report(COMMITTEE, period, transactions, OPENING, signature=SIGNED, **kwargs)


def cents(report: Report, line: str, column: str = "period") -> int:
    return report.summary.fields()[field_name("F3", line, column)]


def rows(report: Report, form_type: str, memo: bool | None = False) -> list[dict[str, Any]]:
    return [r for r in report.rows if r["form_type"] == form_type
            and (memo is None or bool(r.get("memo_code")) == memo)]


def row_cents(rows_: list[dict[str, Any]], field: str) -> int:
    return sum(round(r[field] * 100) for r in rows_)


def test_every_sum_of_the_form_holds_in_both_columns() -> None:
    report = build()
    for column in ("period", "ytd"):
        def line(name: str, col: str = column) -> int:
            return cents(report, name, col)
        assert line("11aiii") == line("11ai") + line("11aii")
        assert line("11e") == line("11aiii") + line("11b") + line("11c") + line("11d")
        assert line("13c") == line("13a") + line("13b")
        assert line("16") == line("11e") + line("12") + line("13c") + line("14") + line("15")
        assert line("19c") == line("19a") + line("19b")
        assert line("20d") == line("20a") + line("20b") + line("20c")
        assert line("22") == line("17") + line("18") + line("19c") + line("20d") + line("21")
        assert line("6a") == line("11e") and line("6b") == line("20d")
        assert line("6c") == line("6a") - line("6b")
        assert line("7a") == line("17") and line("7b") == line("14")
        assert line("7c") == line("7a") - line("7b")
    assert cents(report, "24") == cents(report, "16") and cents(report, "26") == cents(report, "22")
    assert cents(report, "25") == cents(report, "23") + cents(report, "24")
    assert cents(report, "27") == cents(report, "25") - cents(report, "26")
    assert cents(report, "8") == cents(report, "27")


def test_the_lines_are_the_quarters_transactions() -> None:
    report = build()
    receipts = [t for t in QUARTER if isinstance(t, Receipt)]
    unitemized = [t for t in receipts if t.aggregate_cents <= 20_000]
    assert {t.transaction_id for t in unitemized} == {BO.transaction_id, CY.transaction_id}
    assert cents(report, "11aii") == 13_000
    assert cents(report, "11ai") == sum(t.amount_cents for t in receipts if t not in unitemized) - 30_000
    assert cents(report, "20a") == 30_000  # the partial refund and the excess refund
    fees = sum(f.amount_cents for f in FEES if f in QUARTER)
    assert cents(report, "17") == fees + EVE.amount_cents  # the in-kind gift is spent as given
    assert report.counts == {"SA11AI": 16, "SA11AII": 2, "SB17": 3, "SB20A": 2}


def test_itemized_rows_add_up_to_their_lines() -> None:
    report = build()
    assert row_cents(rows(report, "SA11AI"), "contribution_amount") == cents(report, "11ai")
    assert row_cents(rows(report, "SB20A"), "expenditure_amount") == cents(report, "20a")
    operating = rows(report, "SB17")
    assert row_cents(operating, "expenditure_amount") == cents(report, "17")  # every fee row itemized
    # Memo entries never count: they restate money already counted.
    memos = rows(report, "SA11AI", memo=True)
    assert len(memos) == 6 and all(r["memo_code"] is True for r in memos)


def test_cash_on_hand_is_the_opening_cash_plus_every_transaction() -> None:
    report = build()
    money_in = sum(t.amount_cents for t in TRANSACTIONS if isinstance(t, Receipt))
    money_back = sum(t.amount_cents for t in TRANSACTIONS if isinstance(t, ReturnedContribution))
    money_out = (sum(t.amount_cents for t in TRANSACTIONS if isinstance(t, Refund | ProcessingFee))
                 + EVE.amount_cents)
    assert cents(report, "27") == OPENING.cents + money_in - money_back - money_out
    before = [t for t in TRANSACTIONS if t.date < D("2026-05-14")]
    came_in = sum(t.amount_cents for t in before if isinstance(t, Receipt))
    went_out = sum(t.amount_cents for t in before if isinstance(t, ProcessingFee))
    assert cents(report, "23") == OPENING.cents + came_in - went_out
    assert report.form["L27_cash_on_hand_at_close_period"] == cents(report, "27") / 100


def test_column_b_is_the_cycle_to_date() -> None:
    report = build()
    every_receipt = sum(t.amount_cents for t in TRANSACTIONS if isinstance(t, Receipt))
    assert cents(report, "11aiii", "ytd") == every_receipt - JO_CHARGEBACK.amount_cents
    assert cents(report, "11aii", "ytd") == 13_000 + ANA_APRIL.amount_cents  # Ana was under $200 then
    # A transaction of the previous cycle is outside column B.
    old = filing_receipt("old", D("2024-10-01"), 99_900, 99_900)
    assert cents(build([old, *TRANSACTIONS]), "11ai", "ytd") == cents(report, "11ai", "ytd")


def test_the_offline_gifts_have_their_own_transaction_types() -> None:
    report = build()
    by_id = {r["transaction_id"]: r for r in report.rows}
    assert by_id[DEE.transaction_id]["transaction_type_identifier"] == "INDIVIDUAL_RECEIPT"
    kind = by_id[EVE.transaction_id]
    assert kind["transaction_type_identifier"] == "IN_KIND_RECEIPT"
    assert kind["contribution_purpose_descrip"] == "In-Kind: Catering for the May 19 house party"
    spent = next(r for r in report.rows if r.get("transaction_type_identifier") == "IN_KIND_OUT")
    assert (spent["form_type"], spent["back_reference_tran_id_number"]) == ("SB17", EVE.transaction_id)
    assert spent["payee_last_name"] == "Evans" and spent["expenditure_amount"] == 300.0
    earmark = by_id[FAY.transaction_id]
    assert earmark["transaction_type_identifier"] == "EARMARK_RECEIPT"
    assert earmark["contribution_purpose_descrip"] == "Earmarked through ActBlue"
    memo = report.rows[report.rows.index(earmark) + 1]
    assert memo["transaction_type_identifier"] == "EARMARK_MEMO" and memo["memo_code"] is True
    assert (memo["back_reference_tran_id_number"], memo["donor_committee_fec_id"]) == (
        FAY.transaction_id, "C00401224")


def test_refunds_and_the_chargeback() -> None:
    report = build()
    by_id = {r["transaction_id"]: r for r in report.rows}
    partial, excess = by_id[GIL_REFUND.transaction_id], by_id[IVY_EXCESS.transaction_id]
    assert (partial["form_type"], partial["expenditure_amount"]) == ("SB20A", 100.0)
    assert partial["expenditure_purpose_descrip"] == "Refund of contribution"
    assert excess["expenditure_purpose_descrip"] == "Refund of excess contribution"
    assert excess["memo_text_description"] == "Contribution received 2026-05-24"
    chargeback = by_id[JO_CHARGEBACK.transaction_id]
    assert chargeback["transaction_type_identifier"] == "RETURN_RECEIPT"
    assert (chargeback["contribution_amount"], chargeback["contribution_purpose_descrip"]) == (
        -300.0, "Chargeback")


def test_the_best_efforts_answer_after_the_first_report_is_a_memo_entry() -> None:
    report = build()
    memo = next(r for r in report.rows if r["transaction_id"] == KIM_ANSWER.transaction_id)
    assert memo["memo_code"] is True and memo["contribution_date"] == "2026-04-20"
    assert (memo["contributor_employer"], memo["contributor_occupation"]) == ("Springfield Clinic", "Nurse")
    assert KIM.transaction_id in memo["memo_text_description"]
    # In the pre-primary report, before the answer, the row said INFORMATION REQUESTED (never N/A).
    first = build_report(COMMITTEE, report_period(COMMITTEE, "12P", D("2026-04-01"), D("2026-05-13")),
                         TRANSACTIONS, OPENING, signature=SIGNED)
    original = next(r for r in first.rows if r["transaction_id"] == KIM.transaction_id)
    assert original["contributor_employer"] == "INFORMATION REQUESTED"
    assert {(w.field, w.rule, w.transaction_id) for w in first.findings.warnings} >= {
        ("contributor_employer", "best_efforts", KIM.transaction_id)}


def test_an_answer_in_the_same_report_shows_on_the_row_itself() -> None:
    answer = BestEffortsAnswer(transaction_id("SA", "bo-answer"), D("2026-06-02"), DEE, "Acme", "Welder")
    report = build([*TRANSACTIONS, answer])
    row = next(r for r in report.rows if r["transaction_id"] == DEE.transaction_id)
    assert row["contributor_employer"] == "Acme"
    assert answer.transaction_id not in report.transaction_ids()


def test_the_redesignation_and_the_reattribution() -> None:
    report = build()
    by_id = {r["transaction_id"]: r for r in report.rows}
    assert by_id[HAL.transaction_id]["reattribution_redesignation_tag"] == "REDESIGNATED"
    pair = [r for r in report.rows if r.get("back_reference_tran_id_number") == HAL.transaction_id]
    assert [(r["reattribution_redesignation_tag"], r["election_code"], r["contribution_amount"],
             r["memo_text_description"]) for r in pair] == [
        ("REDESIGNATION_FROM", "P2026", -100.0, "REDESIGNATION TO GENERAL"),
        ("REDESIGNATION_TO", "G2026", 100.0, "REDESIGNATION FROM PRIMARY")]
    assert by_id[LEE.transaction_id]["reattribution_redesignation_tag"] == "REATTRIBUTED"
    moved = [r for r in report.rows if r.get("back_reference_tran_id_number") == LEE.transaction_id]
    assert [(r["reattribution_redesignation_tag"], r["contributor_first_name"], r["contribution_amount"],
             r["contribution_aggregate"], r["memo_text_description"]) for r in moved] == [
        ("REATTRIBUTION_FROM", "Lee", -500.0, 3500.0, "REATTRIBUTION TO MAX LOPEZ"),
        ("REATTRIBUTION_TO", "Max", 500.0, 500.0, "REATTRIBUTION FROM LEE LOPEZ")]


def test_a_redesignation_of_an_earlier_reports_gift_restates_the_original() -> None:
    later = Redesignation(transaction_id("SA", "kim-redesignation"), D("2026-06-05"), KIM, 5_000,
                          "P2026", "G2026")
    report = build([*TRANSACTIONS, later])
    restated = [r for r in report.rows if r.get("reattribution_redesignation_tag") == "REDESIGNATED"
                and r.get("memo_code")]
    assert len(restated) == 1 and restated[0]["contribution_date"] == "2026-04-20"
    assert KIM.transaction_id in restated[0]["memo_text_description"]


def test_stripes_fees_are_one_row_a_month_once_past_200_dollars() -> None:
    report = build()
    fees = [r for r in rows(report, "SB17") if r["transaction_type_identifier"] == "OPERATING_EXPENDITURE"]
    assert [(r["payee_organization_name"], r["expenditure_date"], r["expenditure_amount"],
             r["aggregate_amount"]) for r in fees] == [
        ("Stripe, Inc.", "2026-05-30", 251.40, 292.90),  # $41.50 before the quarter, $251.40 in May
        ("Stripe, Inc.", "2026-06-03", 116.30, 409.20)]
    # In the pre-primary report Stripe's fees were under $200 in the cycle: counted, not itemized.
    first = build_report(COMMITTEE, report_period(COMMITTEE, "12P", D("2026-04-01"), D("2026-05-13")),
                         TRANSACTIONS, OPENING, signature=SIGNED)
    assert rows(first, "SB17") == [] and cents_of(first, "17") == 1_220


def cents_of(report: Report, line: str) -> int:
    return cents(report, line)


def test_every_record_validates_against_the_fecs_schemas() -> None:
    report = build()
    assert report.findings.errors == ()
    assert {(w.rule, w.field) for w in report.findings.warnings} <= {
        ("best_efforts", "contributor_employer"), ("best_efforts", "contributor_occupation")}
    own = {"INDIVIDUAL_RECEIPT": "INDIVIDUAL_RECEIPT", "IN_KIND_RECEIPT": "IN_KIND_RECEIPT",
           "EARMARK_RECEIPT": "EARMARK_RECEIPT", "EARMARK_MEMO": "EARMARK_MEMO",
           "RETURN_RECEIPT": "RETURN_RECEIPT"}
    for record in [report.header, report.form, *report.rows]:
        kind = record.get("transaction_type_identifier")
        names = [own[kind]] if kind in own else []
        names += {"H": ["HDR"], "F": ["F3"], "SA": ["SchA"], "SB": []}[
            next(p for p in ("SA", "SB", "H", "F") if str(record.get("form_type", "H")).startswith(p))]
        for name in names:
            problems = [e.message for e in Draft7Validator(schema(name)).iter_errors(record)
                        if not (name == "SchA" and e.validator == "required")]
            assert problems == [], (name, record)


def test_the_fec_file_parses_back_to_the_same_values() -> None:
    report = build()
    text = report.fec_bytes().decode("ascii")
    parsed = assert_fec_round_trip([report.header, *report.records], text)
    filing = parsed["filing"]
    assert filing["form_type"] == "F3N" and filing["report_code"] == "Q2"
    assert (filing["treasurer_last_name"], filing["treasurer_first_name"]) == ("Okafor", "Dana")
    assert filing["date_signed"].date() == D("2026-07-10")
    assert filing["col_a_cash_on_hand_close"] == pytest.approx(cents(report, "27") / 100)
    assert filing["col_b_total_contributions"] == pytest.approx(cents(report, "11e", "ytd") / 100)
    assert len(parsed["itemizations"]["Schedule A"]) == len(rows(report, "SA11AI", None))


def test_json_lines_has_the_form_record_first() -> None:
    report = build()
    lines = [json.loads(line) for line in report.jsonl_bytes().splitlines()]
    assert lines[0]["form_type"] == "F3N" and len(lines) == 1 + len(report.rows)
    every_line = {name for name in schema("F3")["properties"] if name.startswith("L")}
    assert every_line <= set(lines[0])
    assert lines[1:] == report.rows
    view = report.view()
    assert (view["form"], view["report_code"], view["due"]) == ("F3N", "Q2", "2026-07-15")
    assert view["lines"]["L27_cash_on_hand_at_close_period"] == cents(report, "27") / 100
    assert view["errors"] == [] and view["counts"] == report.counts


def test_a_pre_election_report_names_its_election() -> None:
    period = report_period(COMMITTEE, "12G", D("2026-10-01"), D("2026-10-14"))
    report = build_report(COMMITTEE, period, TRANSACTIONS, OPENING, signature=SIGNED)
    assert (report.form["election_code"], report.form["date_of_election"],
            report.form["state_of_election"]) == ("G2026", "2026-11-03", "IL")
    assert report.findings.errors == ()


def test_the_amendment_keeps_every_transaction_id() -> None:
    original = build()
    moved = Address("9 Oak Ave", "Springfield", "IL", "62704")
    corrected = replace(DEE, contributor=replace(dee, address=moved))
    amended = build([corrected if t is DEE else t for t in TRANSACTIONS],
                    amendment=Amendment("FEC-1234567"))
    assert amended.form["form_type"] == "F3A"
    assert (amended.header["rpt_id"], amended.header["rpt_number"]) == ("FEC-1234567", "1")
    assert amended.transaction_ids() == original.transaction_ids()
    changed = [a for o, a in zip(original.rows, amended.rows, strict=True) if o != a]
    assert [r["transaction_id"] for r in changed] == [DEE.transaction_id]
    assert amended.findings.errors == ()
    parsed = assert_fec_round_trip([amended.header, *amended.records], amended.fec_bytes().decode())
    assert parsed["header"]["report_id"] == "FEC-1234567" and parsed["filing"]["form_type"] == "F3A"


def test_a_pac_files_form_3x_with_its_own_lines() -> None:
    pac = filing_committee("pac")
    gifts = [filing_receipt("p1", D("2026-02-01"), 30_000, 30_000, ana, None),
             filing_receipt("p2", D("2026-02-02"), 5_000, 5_000, bo, None, method="check"),
             Refund(transaction_id("SB", "p-refund"), D("2026-03-01"), 10_000, ana, D("2026-02-01")),
             ReturnedContribution(transaction_id("SA", "p-return"), D("2026-03-02"), 5_000, bo, 0,
                                  D("2026-02-02"), reason="returned"),
             ProcessingFee("pf", D("2026-02-01"), 25_000)]
    period = report_period(pac, "Q1", D("2026-01-01"), D("2026-03-31"))
    report = build_report(pac, period, gifts, OpeningCash(100_000, D("2026-01-01")), signature=SIGNED)
    lines = report.summary.fields()

    def line(name: str, column: str = "period") -> int:
        return lines[field_name("F3X", name, column)]
    assert (line("11ai"), line("11aii"), line("21b"), line("28a")) == (30_000, 0, 25_000, 10_000)
    for column in ("period", "ytd"):
        assert line("11d", column) == line("11aiii", column) + line("11b", column) + line("11c", column)
        assert line("19", column) == line("11d", column) + line("12", column) + line("13", column) \
            + line("14", column) + line("15", column) + line("16", column) + line("17", column) \
            + line("18c", column)
        assert line("21c", column) == line("21ai", column) + line("21aii", column) + line("21b", column)
        assert line("28d", column) == line("28a", column) + line("28b", column) + line("28c", column)
        assert line("31", column) == sum(line(n, column) for n in (
            "21c", "22", "23", "24", "25", "26", "27", "28d", "29", "30c"))
        assert line("35", column) == line("33", column) - line("34", column)
        assert line("7", column) == line("31", column) and line("6c", column) == line("19", column)
        assert line("8", column) == line("6d", column) - line("7", column)
    assert line("6b") == 100_000 and line("6a", "ytd") == 100_000
    assert line("8") == line("8", "ytd") == 100_000 + 35_000 - 5_000 - 25_000 - 10_000
    assert report.form["L6a_year_for_above_ytd"] == "2026"
    # The unitemized check came back: netted in 11(a)(ii), not itemized.
    assert [r["form_type"] for r in report.rows] == ["SA11AI", "SB21B", "SB28A"]
    assert report.findings.errors == ()
    assert_fec_round_trip([report.header, *report.records], report.fec_bytes().decode())


def test_a_pacs_chargeback_of_an_itemized_gift_is_a_negative_return_receipt() -> None:
    pac = filing_committee("pac")
    gift = filing_receipt("p1", D("2026-02-01"), 30_000, 30_000, ana, None)
    charged_back = ReturnedContribution(transaction_id("SA", "p-dispute"), D("2026-03-05"), 30_000,
                                        ana, 0, gift.date)
    period = report_period(pac, "Q1", D("2026-01-01"), D("2026-03-31"))
    report = build_report(pac, period, [gift, charged_back], OpeningCash(0, D("2026-01-01")),
                          signature=SIGNED)
    (row,) = [r for r in report.rows if r["transaction_id"] == charged_back.transaction_id]
    assert (row["form_type"], row["transaction_type_identifier"]) == ("SA11AI", "RETURN_RECEIPT")
    assert (row["contribution_amount"], row["contribution_purpose_descrip"]) == (-300.0, "Chargeback")
    assert [e.message for e in Draft7Validator(schema("RETURN_RECEIPT")).iter_errors(row)] == []
    lines = report.summary.fields()
    assert lines[field_name("F3X", "11ai", "period")] == 0  # $300 itemized, $300 returned
    assert lines[field_name("F3X", "8", "period")] == 0
    assert report.findings.errors == ()
    assert_fec_round_trip([report.header, *report.records], report.fec_bytes().decode())


def test_what_the_transactions_must_cover() -> None:
    period = report_period(COMMITTEE, "Q2", D("2026-05-14"), D("2026-06-30"))
    assert earliest_needed(COMMITTEE, period, OPENING) == D("2024-11-06")
    assert earliest_needed(COMMITTEE, period, OpeningCash(0, D("2023-01-01"))) == D("2023-01-01")


PEOPLE = [ana, bo, cy, dee, eve, max_]
KINDS = ("online", "check", "cash", "wire", "in_kind", "conduit")


@st.composite
def quarters(draw: st.DrawFn) -> list[Transaction]:
    """Random transactions from the cycle's start through the quarter, aggregates as a ledger
    would give them (net per donor in the cycle, in order)."""
    out: list[Transaction] = []
    totals: dict[int, int] = {}
    days = sorted(draw(st.lists(st.dates(D("2025-01-01"), D("2026-06-30")), min_size=1, max_size=30)))
    for n, day in enumerate(days):
        who = draw(st.integers(0, len(PEOPLE) - 1))
        cents = draw(st.integers(100, 400_000))
        kind = draw(st.sampled_from(("gift", "gift", "gift", "refund", "return", "fee")))
        given = totals.get(who, 0)
        if kind == "fee":
            out.append(ProcessingFee(f"fee-{n}", day, cents // 30))
        elif kind in ("refund", "return") and given >= 100:
            amount = draw(st.integers(1, given))
            totals[who] = given - amount
            if kind == "refund":
                out.append(Refund(transaction_id("SB", f"r{n}"), day, amount, PEOPLE[who], day, "P2026"))
            else:
                out.append(ReturnedContribution(transaction_id("SA", f"x{n}"), day, amount, PEOPLE[who],
                                                totals[who], day, "P2026"))
        else:
            method = draw(st.sampled_from(KINDS))
            totals[who] = given + cents
            out.append(filing_receipt(f"g{n}", day, cents, totals[who], PEOPLE[who], method=method,
                                      in_kind_description="Printing" if method == "in_kind" else None,
                                      conduit=ACTBLUE if method == "conduit" else None))
    return out


@settings(max_examples=40, deadline=None)
@given(quarters())
def test_any_quarter_adds_up_validates_and_reads_back(transactions: list[Transaction]) -> None:
    report = build(transactions)
    quarter = [t for t in transactions if t.date >= D("2026-05-14")]
    gifts = [t for t in quarter if isinstance(t, Receipt)]
    returned = sum(t.amount_cents for t in quarter if isinstance(t, ReturnedContribution))
    assert cents(report, "11aiii") == sum(t.amount_cents for t in gifts) - returned
    assert row_cents(rows(report, "SA11AI"), "contribution_amount") == cents(report, "11ai")
    assert row_cents(rows(report, "SB20A"), "expenditure_amount") == cents(report, "20a")
    in_kind = sum(t.amount_cents for t in gifts if t.method == "in_kind")
    fees = sum(t.amount_cents for t in quarter if isinstance(t, ProcessingFee))
    assert cents(report, "17") == in_kind + fees
    net = sum(t.amount_cents if isinstance(t, Receipt) else -t.amount_cents for t in transactions
              if not isinstance(t, Receipt) or t.method != "in_kind")
    assert cents(report, "27") == OPENING.cents + net
    assert cents(report, "27") == cents(report, "23") + cents(report, "16") - cents(report, "22")
    # Random money can leave a line negative (more refunded than raised, cash below zero): the
    # FEC's minimum of 0 says so. Nothing else may be wrong.
    assert [e for e in report.findings.errors if not (e.rule == "minimum" and e.field.startswith("L"))] == []
    assert_fec_round_trip([report.header, *report.records], report.fec_bytes().decode("ascii"))
