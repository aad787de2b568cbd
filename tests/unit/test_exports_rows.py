"""The contributions CSV: spreadsheet-safe text cells, numeric money, a fixed header."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from chalicelib.exports.model import DonationFacts, DonorFacts, ExportEntry, LedgerMovement
from chalicelib.exports.rows import CSV_COLUMNS, CsvEncoder, cell, csv_values, neutralize


@pytest.mark.parametrize(("raw", "safe"), [
    ("=1+1", "'=1+1"),
    ("+15550100", "'+15550100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=cmd", "'\t=cmd"),
    ("\r=cmd", "'\r=cmd"),
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("Ana", "Ana"),
    ("1 Main St", "1 Main St"),
    ("a=b", "a=b"),
    ("", ""),
])
def test_text_that_a_spreadsheet_would_run_is_neutralized(raw: str, safe: str) -> None:
    assert neutralize(raw) == safe


def test_numbers_stay_numbers_and_booleans_and_blanks_are_plain() -> None:
    assert cell(-700) == -700
    assert cell(0) == 0
    assert cell(True) == "true" and cell(False) == "false"
    assert cell(None) == ""
    assert cell("-700") == "'-700"  # text that looks like a number is still text


def entry(**donor: str) -> ExportEntry:
    facts = {"first_name": "Ana", "last_name": "Rivera", "email": "ana@example.org",
             "address_line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701",
             "employer": "City Library", "occupation": "Librarian", **donor}
    movement = LedgerMovement("evt_1#refund", "refund", -700,
                              datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "don_1", "dnr_1",
                              "C00123456", "P2026", "rivera", "evt_1")
    donation = DonationFacts("don_1", DonorFacts(**facts), 2700, 700, "succeeded", "P2026",  # type: ignore[arg-type]
                             "rivera", "pi_1", "ch_1", "-email", excess_refund_reason="over_limit")
    return ExportEntry(movement, donation, 2000, False)


def test_a_refund_row_is_negative_numeric_and_hostile_text_is_neutralized() -> None:
    encoder = CsvEncoder()
    text = (encoder.header() + encoder.encode(csv_values(entry(employer="=cmd|' /C calc'!A0")))).decode()
    header, row = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == CSV_COLUMNS
    values = dict(zip(header, row, strict=True))
    assert values["row_type"] == "refund"
    assert values["amount_cents"] == "-700"
    assert values["occurred_at"] == "2026-01-02T03:04:05Z"
    assert values["employer"] == "'=cmd|' /C calc'!A0"
    assert values["refcode"] == "'-email"
    assert values["itemized"] == ""  # only contributions are itemized or not
    assert values["aggregate_cents"] == "2000"
    assert values["excess_refund_reason"] == "over_limit"
    assert (values["payment_intent_id"], values["charge_id"]) == ("pi_1", "ch_1")
    assert text.endswith("\r\n")


def test_text_is_utf8_and_quoted_where_needed() -> None:
    line = CsvEncoder().encode(csv_values(entry(last_name="Núñez, Jr.", address_line1='12 "B" St')))
    assert "Núñez".encode() in line
    row = next(csv.reader(io.StringIO(line.decode())))
    assert row[CSV_COLUMNS.index("last_name")] == "Núñez, Jr."
    assert row[CSV_COLUMNS.index("address_line1")] == '12 "B" St'


def test_an_entered_gift_names_its_method_reference_and_deposit_and_an_online_one_says_online() -> None:
    from dataclasses import replace

    online = entry()
    check = replace(online, donation=replace(online.donation, method="check", reference="1042",
                                             deposit_batch="dep-7"))
    rows = [dict(zip(CSV_COLUMNS, next(csv.reader(io.StringIO(CsvEncoder().encode(
        csv_values(e)).decode()))), strict=True)) for e in (online, check)]
    assert [(r["method"], r["reference"], r["deposit_batch"]) for r in rows] == [
        ("online", "", ""), ("check", "1042", "dep-7")]
