"""What finance enters reaches the quarter it files (issue 14's "a quarter with online and
offline gifts"): checks, cash and an in-kind gift entered through `POST /api/admin/contributions`
beside an online gift are in the Q2 report the SQS handler builds on moto's server, with their
own transaction types, the cash and a first small check unitemized, a gift passing the person's
$200 aggregate itemized, the form's arithmetic holding and line 27 equal to the opening cash plus what was
entered; every record validates against the FEC's schemas and the file parses back."""

from __future__ import annotations

import uuid
from typing import Any

import fecfile
import pytest
from jsonschema import Draft7Validator

from chalicelib.filing.ids import transaction_id
from chalicelib.filing.schemas import schema
from tests.helpers import FINANCE_KEY, assert_fec_round_trip, staff
from tests.integration.test_fec_reports_api import _header, ask, built, committee, files, finalize
from tests.reports_kit import configure, donor

pytestmark = pytest.mark.stack

BOOKS = {"opening_cash_on_hand_cents": 500_000, "opening_cash_as_of": "2024-11-06"}
# The schema each record is checked against; Form 3's operating expenditures (what the in-kind
# gift paid for) have none of their own and are checked as Form 3X's, as validation does.
SCHEMA_OF = {"INDIVIDUAL_RECEIPT": ("INDIVIDUAL_RECEIPT", {}),
             "IN_KIND_RECEIPT": ("IN_KIND_RECEIPT", {}),
             "IN_KIND_OUT": ("DISBURSEMENTS", {"form_type": "SB21B",
                                               "transaction_type_identifier": "OPERATING_EXPENDITURE"})}


def enter(api: Any, cid: str, who: dict[str, Any], method: str, cents: int, day: str,
          **more: Any) -> str:
    body = {"committee_id": cid, "method": method, "amount_cents": cents, "received_on": day,
            "election": "P2026", "idempotency_key": f"offline-{uuid.uuid4().hex}", "donor": who,
            **more}
    status, made = api.call("POST", "/api/admin/contributions", body, staff(FINANCE_KEY))
    assert status == 201, made
    return str(made["donation_id"])


def test_checks_cash_and_in_kind_entered_by_finance_are_in_the_quarter_they_file(api: Any) -> None:
    # The online gift is designated when made, from the calendar as it is then (its elections
    # are held by now): they are entered after it. Offline gifts take their received_on's.
    campaign = committee(api, elections=None, **BOOKS)
    online = campaign.give(donor("Ana"), 5_000, "2026-05-20")  # unitemized
    configure(api, campaign, **BOOKS)
    cid = campaign.committee_id
    bo, cy, dee, eve = donor("Bo"), donor("Cy"), donor("Dee"), donor("Eve")
    big_check = enter(api, cid, bo, "check", 25_000, "2026-05-20", reference="1042")
    cash = enter(api, cid, cy, "cash", 10_000, "2026-05-21")  # $100 in currency: allowed
    first = enter(api, cid, dee, "check", 15_000, "2026-05-22", reference="1043")
    second = enter(api, cid, dee, "wire", 10_000, "2026-06-10", reference="W-7")  # aggregate $250
    in_kind = enter(api, cid, eve, "in_kind", 30_000, "2026-06-12",
                    in_kind_description="Printing of yard signs")
    status, refused = api.call("POST", "/api/admin/contributions", {
        "committee_id": cid, "method": "cash", "amount_cents": 100, "received_on": "2026-06-15",
        "election": "P2026", "idempotency_key": f"offline-{uuid.uuid4().hex}", "donor": cy},
        staff(FINANCE_KEY))
    assert status == 422 and refused["error"]["code"] == "cash_over_limit", refused  # $101 in all

    status, answer = ask(api, campaign)
    assert status == 202, answer
    draft = built(api, answer["report_id"])
    lines = draft["lines"]
    assert draft["errors"] == [], draft["errors"]
    # Itemized: Bo's check, Dee's wire (her aggregate passes $200 with it) and Eve's in-kind;
    # Dee's first check stays unitemized (docs/reports.md, "Which rows are itemized").
    assert lines["L11ai_individuals_itemized_period"] == 650.00
    assert lines["L11aii_individuals_unitemized_period"] == 300.00  # Ana 50, Cy 100, Dee 150
    assert lines["L11aiii_total_individual_period"] == 950.00
    assert lines["L17_operating_expenditures_period"] == 300.00  # the in-kind gift, spent as given
    # Line 27 is the ledger: the opening $5,000, the $950 received, the in-kind's $300 spent.
    assert lines["L27_cash_on_hand_at_close_period"] == 5_650.00
    assert lines["L24_total_receipts_period"] == 950.00
    assert lines["L27_cash_on_hand_at_close_period"] == round(
        lines["L25_subtotals_period"] - lines["L26_total_disbursements_period"], 2)

    assert finalize(api, answer["report_id"])[0] == 200
    text, records = files(api, answer["report_id"])
    rows = records[1:]
    assert records[0]["form_type"] == "F3N"
    assert [e.message for e in Draft7Validator(schema("F3")).iter_errors(records[0])] == []
    receipts = {r["transaction_id"]: r for r in rows if r["form_type"].startswith("SA")}
    itemized = {transaction_id("SA", d): d for d in (big_check, second, in_kind)}
    assert set(itemized) <= set(receipts)
    kinds = {itemized[t]: receipts[t]["transaction_type_identifier"] for t in itemized}
    assert kinds == {big_check: "INDIVIDUAL_RECEIPT", second: "INDIVIDUAL_RECEIPT",
                     in_kind: "IN_KIND_RECEIPT"}
    assert receipts[transaction_id("SA", second)]["contribution_aggregate"] == 250.0
    assert {transaction_id("SA", d) for d in (cash, first, online["donation_id"])}.isdisjoint(receipts)
    (spent,) = [r for r in rows if r["form_type"] == "SB17"]
    assert (spent["transaction_type_identifier"], spent["expenditure_amount"],
            spent["back_reference_tran_id_number"]) == ("IN_KIND_OUT", 300.0, transaction_id("SA", in_kind))
    for row in rows:
        name, replaced = SCHEMA_OF[row["transaction_type_identifier"]]
        errors = Draft7Validator(schema(name)).iter_errors({**row, **replaced})
        assert [e.message for e in errors] == [], row
    parsed = fecfile.loads(text)
    assert parsed["filing"]["col_a_cash_on_hand_close_of_period"] == 5_650.00
    assert_fec_round_trip([_header(text), *records], text)
