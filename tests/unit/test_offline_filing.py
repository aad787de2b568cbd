"""What finance entered reaches the report to the FEC as what it was: the ledger adapter gives
an in-kind gift the Schedule A type IN_KIND_RECEIPT (with what was given) and its offsetting
operating expenditure, validated against the FEC's schema; a check stays an individual receipt;
a gift forwarded by a conduit is an EARMARK_RECEIPT with its EARMARK_MEMO naming the conduit."""

from __future__ import annotations

from datetime import date, datetime, timezone

from jsonschema import Draft7Validator

from chalicelib.exports.model import DonationFacts
from chalicelib.fec_reports.committee import filing_committee
from chalicelib.fec_reports.ledger import transactions
from chalicelib.filing.calendar import report_period
from chalicelib.filing.forms import Signature
from chalicelib.filing.model import OpeningCash, Receipt
from chalicelib.filing.report import build_report
from chalicelib.filing.schemas import schema
from chalicelib.giving.model import Conduit
from tests.helpers import assert_fec_round_trip
from tests.reports_kit import Ledger, donor_facts, house_committee, ledger_movement

AT = datetime(2026, 5, 20, 17, tzinfo=timezone.utc)


def facts(donation_id: str, cents: int, method: str, description: str | None = None,
          conduit: Conduit | None = None) -> DonationFacts:
    return DonationFacts(donation_id, donor_facts(donation_id.removeprefix("don_")), cents, 0,
                         "succeeded", "P2026", "offline", paid_at=AT, method=method,
                         in_kind_description=description, conduit=conduit)


def test_an_in_kind_gift_is_an_in_kind_receipt_and_a_check_an_individual_one() -> None:
    committee = filing_committee(house_committee())
    movements = [ledger_movement("evt_1", "contribution", 30_000, AT, "don_ana", "ana"),
                 ledger_movement("evt_2", "contribution", 25_000, AT, "don_bo", "bo")]
    ledger = Ledger(movements, {"don_ana": facts("don_ana", 30_000, "in_kind", "Printing of yard signs"),
                                "don_bo": facts("don_bo", 25_000, "check")})
    found = transactions(committee, ledger, date(2026, 5, 14), date(2026, 6, 30))
    receipts = {t.transaction_id: t for t in found if isinstance(t, Receipt)}
    assert sorted(r.method for r in receipts.values()) == ["check", "in_kind"]
    period = report_period(committee, "Q2", date(2026, 5, 14), date(2026, 6, 30))
    report = build_report(committee, period, found, OpeningCash(0, date(2026, 1, 1)),
                          signature=Signature(date(2026, 7, 10)))
    kinds = {r.get("transaction_type_identifier"): r for r in report.rows}
    in_kind = kinds["IN_KIND_RECEIPT"]
    assert in_kind["contribution_purpose_descrip"] == "In-Kind: Printing of yard signs"
    assert in_kind["contribution_amount"] == 300.0
    assert kinds["INDIVIDUAL_RECEIPT"]["contribution_amount"] == 250.0
    for name, record in (("IN_KIND_RECEIPT", in_kind), ("INDIVIDUAL_RECEIPT", kinds["INDIVIDUAL_RECEIPT"])):
        assert [e.message for e in Draft7Validator(schema(name)).iter_errors(record)] == []
    # The in-kind gift is spent as it is received: an operating expenditure of the same amount.
    assert any(r["form_type"].startswith("SB") and r.get("expenditure_amount") == 300.0
               for r in report.rows)


def test_a_conduit_gift_is_an_earmark_receipt_with_its_memo_and_reads_back_through_fecfile() -> None:
    committee = filing_committee(house_committee())
    actblue = Conduit("ActBlue", "PO Box 441146", "Somerville", "MA", "02144", fec_id="C00401224")
    ledger = Ledger([ledger_movement("evt_1", "contribution", 25_000, AT, "don_cy", "cy")],
                    {"don_cy": facts("don_cy", 25_000, "conduit", conduit=actblue)})
    found = transactions(committee, ledger, date(2026, 5, 14), date(2026, 6, 30))
    period = report_period(committee, "Q2", date(2026, 5, 14), date(2026, 6, 30))
    report = build_report(committee, period, found, OpeningCash(0, date(2026, 1, 1)),
                          signature=Signature(date(2026, 7, 10)))
    kinds = {r.get("transaction_type_identifier"): r for r in report.rows}
    earmark, memo = kinds["EARMARK_RECEIPT"], kinds["EARMARK_MEMO"]
    assert earmark["contribution_amount"] == 250.0 and earmark["conduit_name"] == "ActBlue"
    assert earmark["contribution_purpose_descrip"] == "Earmarked through ActBlue"
    assert earmark["conduit_city"] == "Somerville" and earmark["conduit_zip"] == "02144"
    assert memo["memo_code"] is True and memo["donor_committee_fec_id"] == "C00401224"
    assert memo["back_reference_tran_id_number"] == earmark["transaction_id"]
    for name, record in (("EARMARK_RECEIPT", earmark), ("EARMARK_MEMO", memo)):
        assert [e.message for e in Draft7Validator(schema(name)).iter_errors(record)] == []
    assert [e for e in report.findings.errors if e.record_id in (earmark["transaction_id"],
                                                                 memo["transaction_id"])] == []
    # The memo counts nothing: line 11(a)(i) is the gift alone.
    assert report.lines["L11ai_individuals_itemized_period"] == 250.0
    parsed = assert_fec_round_trip([report.header, *report.records], report.fec_bytes().decode())
    sa = [i for i in parsed["itemizations"]["Schedule A"]]
    assert [(i["conduit_name"], i["contribution_amount"]) for i in sa][:1] == [("ActBlue", 250.0)]
