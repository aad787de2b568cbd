"""FEC rows: every row validates against the FEC's own JSON Schema, and each `.fec` line (format
8.4, ASCII 28 separators) reads back through `fecfile` to the same values."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import fecfile
import pytest
from jsonschema import Draft7Validator

from chalicelib.exports import fec
from chalicelib.exports.model import DonationFacts, DonorFacts, ExportEntry, LedgerMovement

SCHEMAS = Path(__file__).resolve().parent.parent / "fixtures" / "fec"
RECEIPT = Draft7Validator(json.loads((SCHEMAS / "INDIVIDUAL_RECEIPT.json").read_text()))
REFUND = Draft7Validator(json.loads((SCHEMAS / "INDIVIDUAL_REFUNDS.json").read_text()))
WHEN = datetime(2026, 2, 3, 17, 0, tzinfo=timezone.utc)


def entry(kind: str = "contribution", cents: int = 25000, aggregate: int = 30000,
          **donor: Any) -> ExportEntry:
    facts = {"first_name": "José", "last_name": "Núñez", "email": "jose@example.org",
             "address_line1": "1 Main St", "address_line2": "Apt 4B", "city": "San José",
             "state": "CA", "zip": "951121234", "employer": "Café Ñandú", "occupation": "Chef",
             **donor}
    movement = LedgerMovement(f"evt_1#{kind}", kind, cents, WHEN, "don_1", "dnr_1",  # type: ignore[arg-type]
                              "C00123456", "P2026", "page", "evt_1")
    donation = DonationFacts("don_1", DonorFacts(**facts), 25000, 0, "succeeded", "P2026", "page",
                             paid_at=WHEN)
    return ExportEntry(movement, donation, aggregate, kind == "contribution" and aggregate > 20000)


def errors(validator: Draft7Validator, row: dict[str, Any]) -> list[str]:
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(row)]


def assert_reads_back(row: dict[str, Any], parsed: dict[str, Any]) -> None:
    """Every value of the JSON row is the value fecfile reads from its `.fec` line."""
    renamed = {"contributor_zip": "contributor_zip_code", "payee_zip": "payee_zip_code"}
    if row["form_type"] == "SB28A":
        renamed["transaction_id"] = "transaction_id_number"
    for name, value in row.items():
        fec_name = renamed.get(name, name)
        if fec_name not in parsed:
            continue  # JSON-only fields: transaction_type_identifier, aggregation_group, ...
        got = parsed[fec_name]
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=0.001), name
        elif value is True:  # a memo entry: the .fec file marks it X
            assert got == "X", name
        elif name.endswith("_date"):
            assert got.strftime("%Y-%m-%d") == value, name
        else:
            assert got == ("" if value is None else value), name


def test_an_itemized_contribution_is_ascii_trimmed_and_valid() -> None:
    row = fec.schedule_a(entry(), "C00123456", "candidate")
    assert errors(RECEIPT, row) == []
    assert (row["contributor_first_name"], row["contributor_last_name"]) == ("Jose", "Nunez")
    assert (row["contributor_street_1"], row["contributor_street_2"]) == ("1 Main St", "Apt 4B")
    assert row["contributor_city"] == "San Jose" and row["contributor_zip"] == "951121234"
    assert row["contributor_employer"] == "Cafe Nandu"
    assert (row["contribution_amount"], row["contribution_aggregate"]) == (250.0, 300.0)
    assert row["contribution_date"] == "2026-02-03" and row["election_code"] == "P2026"
    assert row["transaction_id"] == fec.transaction_id("SA", "don_1")
    assert len(row["transaction_id"]) == 20 and row["transaction_id"].isupper()


def test_hard_cases_stay_valid() -> None:
    long = entry(first_name="Maria Guadalupe Fernanda Esperanza",
                 last_name="Wolfeschlegelsteinhausenbergerdorff",
                 address_line1="12345 North Martin Luther King Junior Boulevard",
                 address_line2="Apartment 1234",
                 city="Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", zip="62701",
                 employer="The International Brotherhood of Electrical Workers", occupation=None)
    row = fec.schedule_a(long, "C00123456", "pac")
    assert errors(RECEIPT, row) == []
    assert row["contributor_occupation"] == "INFORMATION REQUESTED"
    assert "election_code" not in row  # Form 3X does not report an election per receipt


def test_an_invalid_row_is_caught_by_the_schema() -> None:
    row = fec.schedule_a(entry(), "C00123456", "candidate")
    assert errors(RECEIPT, {**row, "contributor_last_name": "Núñez"})  # not ASCII
    assert errors(RECEIPT, {**row, "contributor_employer": None})  # aggregate over $200


def test_a_pac_refund_is_a_valid_sb28a_row() -> None:
    row = fec.schedule_b_refund(entry("refund", -7000, 23000), "C00123456")
    assert errors(REFUND, row) == []
    assert row["expenditure_amount"] == 70.0 and row["payee_last_name"] == "Nunez"
    assert row["memo_text_description"] == "Contribution received 2026-02-03"


@pytest.mark.parametrize("kind", ["contribution", "refund"])
def test_a_fec_line_reads_back_through_fecfile(kind: str) -> None:
    if kind == "contribution":
        row = fec.schedule_a(entry(), "C00123456", "candidate")
    else:
        row = fec.schedule_b_refund(entry("refund", -7000, 23000), "C00123456")
    line = fec.fec_line(row)
    assert line.isascii() and "\n" not in line
    assert len(line.split(fec.SEPARATOR)) == len(fec.SB28A_FIELDS if kind == "refund" else fec.SA11AI_FIELDS)
    assert_reads_back(row, fecfile.parse_line(line, fec.FEC_VERSION))


@pytest.mark.parametrize("committee_type", ["candidate", "pac"])
def test_a_whole_file_reads_back(committee_type: str) -> None:
    rows = [fec.schedule_a(entry(), "C00123456", committee_type),
            fec.schedule_a(entry(cents=100, aggregate=30100, first_name="Zoë"), "C00123456", committee_type)]
    if committee_type == "pac":
        rows.append(fec.schedule_b_refund(entry("refund", -500, 29600), "C00123456"))
    text = fec.lines_bytes([
        fec.header_line("Schedule A 2026-01-01 to 2026-03-31"),
        fec.summary_line("C00123456", "Rivera for Congress", committee_type, date(2026, 1, 1),
                         date(2026, 3, 31), 25100, 123456, 500),
        *[fec.fec_line(r) for r in rows],
    ]).decode("ascii")
    parsed = fecfile.loads(text)
    assert parsed["header"]["fec_version"] == "8.4" and parsed["header"]["soft_name"] == "Groundswell"
    filing = parsed["filing"]
    assert filing["form_type"] == ("F3XN" if committee_type == "pac" else "F3N")
    assert filing["filer_committee_id_number"] == "C00123456"
    assert filing["coverage_from_date"].date() == date(2026, 1, 1)
    assert filing["coverage_through_date"].date() == date(2026, 3, 31)
    unitemized = "col_a_individuals_unitemized" if committee_type == "pac" else \
        "col_a_individual_contributions_unitemized"
    assert filing[unitemized] == 1234.56
    assert filing["col_a_refunds_to_individuals"] == 5.0
    schedule_a = parsed["itemizations"]["Schedule A"]
    assert len(schedule_a) == 2
    for row, back in zip(rows, schedule_a, strict=False):
        assert_reads_back(row, back)
    if committee_type == "pac":
        assert_reads_back(rows[2], parsed["itemizations"]["Schedule B"][0])


def test_dollars_are_exact() -> None:
    assert fec.dollars_text(2700) == "27.00"
    assert fec.dollars_text(-70) == "-0.70"
    assert fec.dollars_text(123456789) == "1234567.89"
    assert fec.dollars(123456789) == 1234567.89
    assert fec.dollars(1) == 0.01


def test_the_separator_never_appears_inside_a_field() -> None:
    row = fec.schedule_a(entry(city="Split\x1cCity"), "C00123456", "candidate")
    assert len(fec.fec_line(row).split(fec.SEPARATOR)) == len(fec.SA11AI_FIELDS)


def test_the_export_shows_each_remedy_with_the_reports_memo_rows() -> None:
    """Issue 13: a standing redesignation and a confirmed reattribution reach the export as the
    report writes them: the gift's row tagged, then the two memo entries of each, valid against
    the FEC's schema and read back by fecfile."""
    from dataclasses import replace

    from chalicelib.filing.ids import transaction_id

    base = entry(cents=40_000, aggregate=40_000)
    hal = DonorFacts("Hal", "Núñez", "hal@example.org", "1 Main St", "San José", "CA", "95112",
                     "Library", "Librarian")
    donation = replace(base.donation, redesignated_cents=5_000, redesignated_to="G2026",
                       redesignated_on=date(2026, 2, 4), reattributed_cents=10_000, reattributed_to=hal,
                       reattributed_donor_id="dnr_hal", reattributed_on=date(2026, 2, 5))
    rows = fec.schedule_a_rows(replace(base, donation=donation), "C00123456", "candidate",
                               their_aggregate_cents=2_500)
    tags = [r.get("reattribution_redesignation_tag") for r in rows]
    assert tags == ["REDESIGNATED", "REDESIGNATION_FROM", "REDESIGNATION_TO",
                    "REATTRIBUTION_FROM", "REATTRIBUTION_TO"]
    gift = rows[0]
    assert gift["transaction_id"] == transaction_id("SA", "don_1") and not gift.get("memo_code")
    assert all(r["memo_code"] and r["back_reference_tran_id_number"] == gift["transaction_id"]
               for r in rows[1:])
    assert [r["contribution_amount"] for r in rows[1:]] == [-50.0, 50.0, -100.0, 100.0]
    assert (rows[2]["election_code"], rows[2]["memo_text_description"]) == \
        ("G2026", "REDESIGNATION FROM PRIMARY")
    # Each person's aggregate after the move: José's 400 less Hal's 100; Hal's 25 and the 100.
    assert (rows[3]["contribution_aggregate"], rows[4]["contribution_aggregate"]) == (300.0, 125.0)
    assert rows[4]["contributor_first_name"] == "Hal"
    for row in rows:
        assert errors(RECEIPT, row) == [], row.get("reattribution_redesignation_tag")
        assert_reads_back(row, fecfile.parse_line(fec.fec_line(row), fec.FEC_VERSION))
