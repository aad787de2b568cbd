"""Validation against the FEC's schemas: each error and warning names the schema, the field, the
rule and the transaction it concerns; the schemas the package ships are the FEC's own."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from chalicelib.filing.calendar import report_period
from chalicelib.filing.forms import Signature
from chalicelib.filing.model import Address, FilingCommittee, OpeningCash, Organization, Transaction
from chalicelib.filing.report import Report, build_report
from chalicelib.filing.schemas import schema
from chalicelib.filing.validation import check
from tests.helpers import contributor, filing_committee, filing_receipt

D = date.fromisoformat
COMMITTEE = filing_committee()
OPENING = OpeningCash(0, D("2026-01-01"))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fec"


def q1(transactions: list[Transaction], committee: FilingCommittee = COMMITTEE,
       signature: Signature | None = None) -> Report:
    period = report_period(committee, "Q1", D("2026-01-01"), D("2026-03-31"))
    return build_report(committee, period, transactions, OPENING, signature=signature)


def findings(report: Report, severity: str) -> set[tuple[str, str, str, str | None]]:
    found = report.findings.errors if severity == "error" else report.findings.warnings
    return {(f.schema, f.field, f.rule, f.transaction_id) for f in found}


def test_an_unsigned_report_cannot_be_filed() -> None:
    report = q1([])
    assert findings(report, "error") == {("F3", "date_signed", "required", None)}
    assert not report.findings.ok
    assert q1([], signature=Signature(D("2026-04-10"))).findings.ok


def test_a_conduit_without_its_fec_id_is_an_error_on_the_gift() -> None:
    conduit = Organization("Some Platform", Address("1 Way", "Austin", "TX", "78701"))
    gift = filing_receipt("earmarked", D("2026-02-01"), 30_000, method="conduit", conduit=conduit)
    report = q1([gift], signature=Signature(D("2026-04-10")))
    assert ("EARMARK_MEMO", "donor_committee_fec_id", "required",
            gift.transaction_id) in findings(report, "error")
    error = next(e for e in report.findings.errors if e.field == "donor_committee_fec_id")
    assert error.record_id != gift.transaction_id and error.form_type == "SA11AI"


def test_recommended_fields_are_warnings() -> None:
    bare = replace(COMMITTEE, address=Address("", "", "IL", "62701"))
    report = q1([], committee=bare, signature=Signature(D("2026-04-10")))
    assert findings(report, "warning") == {("F3", "street_1", "fec_recommended", None),
                                           ("F3", "city", "fec_recommended", None)}
    assert report.findings.ok


def test_a_missing_employer_is_a_warning_naming_the_gift() -> None:
    gift = filing_receipt("asked", D("2026-02-01"), 30_000,
                          person=contributor("Al", "Able", employer=None, occupation="Self"))
    report = q1([gift], signature=Signature(D("2026-04-10")))
    assert findings(report, "warning") == {
        ("INDIVIDUAL_RECEIPT", "contributor_employer", "best_efforts", gift.transaction_id),
        ("INDIVIDUAL_RECEIPT", "contributor_occupation", "best_efforts", gift.transaction_id)}


def test_a_row_breaking_the_schema_is_caught_with_its_rule() -> None:
    gift = filing_receipt("bad", D("2026-02-01"), 30_000)
    row = q1([gift], signature=Signature(D("2026-04-10"))).rows[0]
    problems = {(f.schema, f.field, f.rule) for f in check({**row, "contributor_state": "Illinois",
                                                              "entity_type": "ORG"})}
    assert ("INDIVIDUAL_RECEIPT", "entity_type", "const") in problems
    assert ("SchA", "contributor_state", "maxLength") in problems
    unknown = check({**row, "transaction_type_identifier": "LOAN_RECEIVED"})
    assert [(f.field, f.rule) for f in unknown] == [("transaction_type_identifier", "transaction_type")]
    negative_cash = {**q1([]).form, "L27_cash_on_hand_at_close_period": -1.0}
    assert ("F3", "L27_cash_on_hand_at_close_period", "minimum") in {
        (f.schema, f.field, f.rule) for f in check(negative_cash)}


def test_the_shipped_schemas_are_the_fecs() -> None:
    for name in ("INDIVIDUAL_RECEIPT", "INDIVIDUAL_REFUNDS"):
        assert schema(name) == __import__("json").loads((FIXTURES / f"{name}.json").read_text())
    assert schema("F3")["$id"].endswith("fecfile-validate/blob/main/schema/F3.json")
