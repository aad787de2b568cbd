"""A CSV import of offline contributions (giving/imports.py, giving/offline_import.py) against
the in-memory twins: every row checked with the single entry's rules, the limits counted across
the file and against what is already given, each error with its line, nothing written on a dry
run or while any error remains, and a committed file idempotent per row."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.giving.imports import COLUMNS, read_rows
from chalicelib.giving.offline import OfflineContribution
from chalicelib.giving.offline_import import ImportHasErrors, OfflineImport
from tests.giving_twins import GivingWorld, donor_fields
from tests.helpers import import_csv as csv_file
from tests.helpers import import_row as row


def run(world: GivingWorld, data: bytes, dry_run: bool = True) -> Any:
    return OfflineImport(world.giving).run(read_rows(data, 200), dry_run=dry_run)


def test_a_dry_run_with_three_bad_rows_names_each_by_its_line_and_writes_nothing() -> None:
    world = GivingWorld()
    data = csv_file(
        row(10_000, "ana@example.org"),                            # line 2: fine
        row(5_000, "not-an-email"),                                # line 3: the model refuses it
        row(10_100, "bo@example.org", "cash"),                     # line 4: cash over $100
        row(300_000, "cy@example.org"),                            # line 5: fine alone
        row(60_000, "cy@example.org", key="cy-second-check-01"),   # line 6: with line 5, over the limit
    )
    report = run(world, data)
    assert report.dry_run and not report.ok and report.rows == 5
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "invalid_request"), (4, "cash_over_limit"), (6, "over_limit")]
    assert "donor.email" in report.errors[0].fields
    assert "110.4" in (report.errors[1].rule or "")
    assert world.store.donations == {}
    with pytest.raises(ImportHasErrors) as refused:  # committing it is refused whole
        run(world, data, dry_run=False)
    assert [e["line"] for e in refused.value.extra["report"]["errors"]] == [3, 4, 6]  # type: ignore[index]
    assert world.store.donations == {}


def test_committing_twice_writes_once() -> None:
    world = GivingWorld()
    data = csv_file(row(10_000, "ana@example.org"), row(20_000, "bo@example.org", key="bo-check-1042"))
    dry = run(world, data)
    assert dry.ok and [r.status for r in dry.results] == ["new", "new"] and dry.total_cents == 30_000
    assert world.store.donations == {}
    first = run(world, data, dry_run=False)
    assert first.committed and [r.status for r in first.results] == ["recorded", "recorded"]
    assert [r.key_derived for r in first.results] == [True, False]
    again = run(world, data, dry_run=False)
    assert [r.status for r in again.results] == ["already_recorded", "already_recorded"]
    assert [r.donation_id for r in again.results] == [r.donation_id for r in first.results]
    assert again.total_cents == 0 and len(world.store.donations) == 2
    ana = world.store.donations[first.results[0].donation_id]
    assert ana.status == "succeeded" and ana.channel == "check" and ana.reference == "1042"
    assert world.store.aggregate(ana.donor_id, "C00000001#P2026").net_cents == 10_000


def test_the_limit_counts_what_was_already_given() -> None:
    world = GivingWorld()
    world.giving.record_offline(OfflineContribution.model_validate({
        "committee_id": "C00000001", "method": "check", "amount_cents": 340_000,
        "received_on": "2026-03-01", "election": "P2026", "idempotency_key": "earlier-check",
        "donor": donor_fields("ana@example.org")}))
    report = run(world, csv_file(row(20_000, "ana@example.org", last_name="Rivera")))
    assert [(e.line, e.code) for e in report.errors] == [(2, "over_limit")]


def test_two_identical_rows_without_keys_are_one_gift_twice_and_refused() -> None:
    report = run(GivingWorld(), csv_file(row(2_500), row(2_500)))
    assert [(e.line, e.code) for e in report.errors] == [(3, "duplicate_row")]
    assert "line 2" in report.errors[0].message


def test_a_cell_spanning_lines_keeps_the_next_rows_line_numbers_right() -> None:
    data = csv_file(row(2_500, reference="two\nlines"), row(2_500, "x"))
    report = run(GivingWorld(), data)
    # The first row takes lines 2 and 3 (and a reference is one line); the next is line 4.
    assert [(e.line, list(e.fields)) for e in report.errors] == [(2, ["reference"]),
                                                                 (4, ["donor.email"])]


@pytest.mark.parametrize("data, code", [
    (b"", "invalid_csv"),
    (b"committee_id,method,amount_cents,received_on,colour\r\n", "invalid_csv"),
    (b"committee_id,method,amount_cents\r\n", "invalid_csv"),
    (b"committee_id,method,amount_cents,received_on\r\n", "invalid_csv"),
    (b"\xff\xfe", "invalid_csv"),
])
def test_a_file_that_is_not_this_csv_is_refused_whole(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_rows(data, 200)
    assert refused.value.code == code


def test_a_file_over_the_row_limit_is_refused_whole() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_rows(csv_file(*[row(100, key=f"key-number-{n}") for n in range(4)]), 3)
    assert refused.value.code == "too_many_rows"


def test_every_documented_column_is_read_into_the_entry() -> None:
    cells = {c: "" for c in COLUMNS} | row(25_000, method="conduit") | {
        "conduit_name": "ActBlue", "conduit_fec_id": "C00401224",
        "conduit_address_line1": "PO Box 441146", "conduit_city": "Somerville",
        "conduit_state": "MA", "conduit_zip": "02144", "deposit_batch": "dep-7", "phone": "",
        "address_line2": "Apt 2"}
    [read] = read_rows(csv_file(cells, header=COLUMNS), 200)
    assert read.error is None and read.entry is not None
    entry = read.entry
    assert entry.conduit is not None and entry.conduit.fec_id == "C00401224"
    assert entry.donor is not None and entry.donor.address.line2 == "Apt 2"
    assert entry.deposit_batch == "dep-7" and entry.idempotency_key.startswith("csv-")
