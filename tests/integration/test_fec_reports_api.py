"""Reports to the FEC end to end: finance sets the committee's filing settings, asks for a
quarter over HTTP, the SQS handler builds it from the ledger on moto's server, finance reviews
it, finalizes it, downloads its files through presigned URLs and amends it. Gifts are made
through the API and paid, refunded and charged back by signed webhooks whose `created` sets the
movement's time."""

from __future__ import annotations

import json
from typing import Any

import fecfile
import pytest
import requests
from jsonschema import Draft7Validator

from chalicelib.filing.ids import transaction_id
from chalicelib.filing.schemas import schema
from tests.helpers import (
    FINANCE_KEY,
    ORGANIZER_KEY,
    assert_fec_round_trip,
    committee_body,
    run_queues,
    staff,
)
from tests.reports_kit import Campaign, committee_id, configure, donor

pytestmark = pytest.mark.stack

Q2 = {"report_code": "Q2", "from": "2026-05-14", "to": "2026-06-30"}  # after the pre-primary
# The schema each record is checked against (Form 3's refunds as Form 3X's, as validation does).
SCHEMA_OF = {"INDIVIDUAL_RECEIPT": "INDIVIDUAL_RECEIPT", "RETURN_RECEIPT": "RETURN_RECEIPT",
             "REFUND_INDIVIDUAL_CONTRIBUTION": "INDIVIDUAL_REFUNDS"}


def committee(api: Any, **settings: Any) -> Campaign:
    campaign = Campaign(api, committee_id())
    configure(api, campaign, **settings)
    return campaign


def ask(api: Any, campaign: Campaign, period: dict[str, str] = Q2) -> tuple[int, Any]:
    return api.call("POST", "/api/admin/reports", {"committee_id": campaign.committee_id, **period},
                    staff(FINANCE_KEY))


def built(api: Any, report_id: str) -> dict[str, Any]:
    run_queues()
    status, body = api.call("GET", f"/api/admin/reports/{report_id}", headers=staff(FINANCE_KEY))
    assert status == 200, body
    assert body["status"] == "draft", body
    return dict(body)


def files(api: Any, report_id: str) -> tuple[str, list[dict[str, Any]]]:
    status, urls = api.call("GET", f"/api/admin/reports/{report_id}/file", headers=staff(FINANCE_KEY))
    assert status == 200, urls
    got = [requests.get(urls[k], timeout=10) for k in ("fec_url", "jsonl_url")]
    assert [r.status_code for r in got] == [200, 200]
    return got[0].content.decode("ascii"), [json.loads(line) for line in got[1].text.splitlines()]


def finalize(api: Any, report_id: str, **body: Any) -> tuple[int, Any]:
    return api.call("POST", f"/api/admin/reports/{report_id}/finalize",
                    {"treasurer_name": "Dana Okafor", "date_signed": "2026-07-10", **body},
                    staff(FINANCE_KEY))


def test_committee_filing_settings_are_validated_and_kept(api: Any) -> None:
    campaign = committee(api, filing_frequency="monthly", opening_cash_on_hand_cents=125_000,
                         opening_cash_as_of="2025-01-01")
    status, body = api.call("GET", f"/api/admin/committees/{campaign.committee_id}",
                            headers=staff(FINANCE_KEY))
    assert status == 200 and (body["filing_frequency"], body["opening_cash_on_hand_cents"],
                              body["opening_cash_as_of"]) == ("monthly", 125_000, "2025-01-01")
    path = f"/api/admin/committees/{campaign.committee_id}"
    for bad, field in [({"filing_frequency": "weekly"}, "filing_frequency"),
                       ({"opening_cash_on_hand_cents": -1}, "opening_cash_on_hand_cents"),
                       ({"opening_cash_on_hand_cents": "100"}, "opening_cash_on_hand_cents"),
                       ({"opening_cash_on_hand_cents": 100, "opening_cash_as_of": 20250101},
                        "opening_cash_as_of")]:
        status, answer = api.call("PUT", path, committee_body(**bad), staff(FINANCE_KEY))
        assert status == 400 and field in answer["error"]["fields"], answer
    status, answer = api.call("PUT", path, committee_body(opening_cash_on_hand_cents=100),
                              staff(FINANCE_KEY))
    assert status == 400 and "opening_cash_as_of" in json.dumps(answer)


def test_a_period_off_the_calendar_is_400_and_writes_nothing(api: Any) -> None:
    campaign = committee(api)
    status, answer = ask(api, campaign, {"report_code": "Q2", "from": "2026-05-14", "to": "2026-06-29"})
    assert status == 400 and answer["error"]["code"] == "period_not_in_calendar"
    assert answer["error"]["fields"] == {"to": "2026-06-30"}
    status, answer = ask(api, campaign, {"report_code": "12G", "from": "2026-07-01", "to": "2026-09-30"})
    assert status == 400 and answer["error"]["fields"] == {"to": "2026-10-14"}
    for bad in [{"report_code": "Q9"}, {"from": "April 1"}, {"to": 20260630}, {"extra": 1}]:
        status, answer = ask(api, campaign, {**Q2, **bad})
        assert status == 400 and answer["error"]["code"] == "invalid_request", answer
    status, answer = api.call("POST", "/api/admin/reports", {"committee_id": campaign.committee_id, **Q2},
                              staff(ORGANIZER_KEY))
    assert status == 403
    assert run_queues() == 0  # nothing was queued
    for unknown in ("rpt_nothing", "rpt_" + "0" * 24, "x" * 3000):
        status, answer = api.call("GET", f"/api/admin/reports/{unknown}", headers=staff(FINANCE_KEY))
        assert status == 404 and answer["error"]["code"] == "report_not_found"
        status, answer = api.call("POST", f"/api/admin/reports/{unknown}/amend",
                                  {"fec_report_id": "FEC-1"}, staff(FINANCE_KEY))
        assert status == 404, answer


def reattributed(donation_id: str, cents: int, to: str, on: str) -> None:
    """A reattribution both people confirmed (compliance/reattribution.py), as the donation
    records it. Written here directly: the links that make one need an election still ahead
    (tests/integration/test_reattribution.py walks them), and this quarter's are held."""
    from chalicelib.storage.models import DonationModel

    person = donor(to)
    a = person["address"]
    m = DonationModel
    DonationModel(donation_id).update(actions=[
        m.reattribution_status.set("confirmed"), m.reattribution_cents.set(cents),
        m.reattributed_donor_id.set(f"dnr_{to.lower()}"), m.reattributed_on.set(on),
        m.reattributed_to.set({"first_name": person["first_name"], "last_name": person["last_name"],
                               "email": person["email"], "address_line1": a["line1"],
                               "address_line2": a.get("line2"), "city": a["city"], "state": a["state"],
                               "zip": a["zip"], "employer": person["employer"],
                               "occupation": person["occupation"]})])


def redesignated(donation_id: str, cents: int, to: str, on: str) -> None:
    """A redesignation as the donation records it (compliance/remedies.py), written directly for
    the same reason as `reattributed` (tests/integration/test_redesignation.py walks one)."""
    from chalicelib.storage.models import DonationModel

    m = DonationModel
    DonationModel(donation_id).update(actions=[
        m.redesignated_cents.set(cents), m.redesignated_to.set(to), m.redesignated_on.set(on),
        m.redesignation_status.set("presumed")])


def test_a_quarter_built_reviewed_finalized_downloaded_and_amended(api: Any) -> None:
    # Gifts are designated when made, from the calendar as it is then: its elections (held by
    # the time this test runs) are entered after the quarter's gifts.
    books = {"opening_cash_on_hand_cents": 500_000, "opening_cash_as_of": "2024-11-06"}
    campaign = committee(api, elections=None, **books)
    ana, bo, gil, ivy, jo, lu = (donor(name) for name in ("Ana", "Bo", "Gil", "Ivy", "Jo", "Lu"))
    campaign.give(ana, 15_000, "2026-03-10")  # Q1: counts in Ana's aggregate
    redesignated(campaign.give(ana, 10_000, "2026-05-20")["donation_id"],  # aggregate $250: itemized
                 5_000, "G2026", "2026-05-21")  # $50 of it moved to the general
    campaign.give(bo, 5_000, "2026-05-15")  # unitemized
    gift = campaign.give(gil, 40_000, "2026-05-22")
    campaign.refund(gift, 10_000, "2026-05-25")  # a partial refund
    reattributed(gift["donation_id"], 10_000, "Hal", "2026-05-26")  # $100 of Gil's is Hal's
    charged_back = campaign.give(jo, 30_000, "2026-05-27")
    # Over the limit once paid (the limit was lowered after intake): the excess is refunded.
    over = campaign.start(ivy, 30_000)
    configure(api, campaign, elections=None, limit_cents=20_000, **books)
    campaign.pay(over, "2026-05-28")
    assert api.donation(over["donation_id"])["excess_refund_cents"] == 10_000
    configure(api, campaign, elections=None, **books)
    campaign.refund(over, 10_000, "2026-05-29")  # Stripe's refund of the excess, as it lands
    campaign.dispute(charged_back, "2026-06-10")  # a chargeback
    campaign.give(lu, 5_000, "2026-07-01", hour=3)  # 10 pm on June 30 in Illinois: in Q2
    configure(api, campaign, **books)

    status, answer = ask(api, campaign)
    assert status == 202 and answer["status"] == "building", answer
    report_id = answer["report_id"]
    draft = built(api, report_id)
    lines = draft["lines"]
    assert draft["form"] == "F3N" and draft["report_code"] == "Q2"
    assert lines["L11ai_individuals_itemized_period"] == 800.00  # 100 + 400 + 300 + 300 - 300
    assert lines["L11aii_individuals_unitemized_period"] == 100.00
    assert lines["L20a_refunds_to_individuals_period"] == 200.00  # Gil's 100, Ivy's excess 100
    assert lines["L27_cash_on_hand_at_close_period"] == 5_850.00  # 5,000 + the ledger's net
    # The redesignation's and the reattribution's two memo rows each are itemized and count in
    # no line.
    assert draft["counts"] == {"SA11AI": 9, "SB20A": 2, "SA11AII": 2}
    assert draft["errors"] == [] and draft["warnings"] == [], draft

    status, answer = api.call("GET", f"/api/admin/reports/{report_id}/file", headers=staff(FINANCE_KEY))
    assert status == 409 and answer["error"]["code"] == "report_not_final"
    status, answer = finalize(api, report_id, treasurer_name="Dana")
    assert status == 400 and "treasurer_name" in answer["error"]["fields"]
    status, final = finalize(api, report_id)
    assert status == 200 and final["status"] == "final" and final["errors"] == [], final
    assert final["lines"] == lines and final["treasurer_name"] == "Dana Okafor"
    status, answer = finalize(api, report_id)
    assert status == 409 and answer["error"]["code"] == "report_final"
    status, answer = ask(api, campaign)
    assert status == 409 and answer["error"]["code"] == "report_final"
    status, listed = api.call("GET", f"/api/admin/reports?committee_id={campaign.committee_id}",
                              headers=staff(FINANCE_KEY))
    assert status == 200 and [(r["report_id"], r["status"]) for r in listed["reports"]] == [
        (report_id, "final")]
    assert api.call("GET", "/api/admin/reports", headers=staff(FINANCE_KEY))[0] == 400

    text, records = files(api, report_id)
    form, rows = records[0], records[1:]
    assert form["form_type"] == "F3N" and form["date_signed"] == "2026-07-10"
    assert Draft7Validator(schema("F3")).is_valid(form)
    for row in rows:
        checked = {**row, "form_type": "SB28A"} if row["form_type"] == "SB20A" else row
        validator = Draft7Validator(schema(SCHEMA_OF[row["transaction_type_identifier"]]))
        errors = list(validator.iter_errors(checked))
        assert not errors, (row["transaction_type_identifier"], [e.message for e in errors])
    parsed = fecfile.loads(text)
    assert parsed["filing"]["col_a_cash_on_hand_close_of_period"] == 5_850.00
    schedule_a = parsed["itemizations"]["Schedule A"]
    assert [r["contribution_amount"] for r in schedule_a if not r.get("memo_code")] == [
        100.0, 400.0, 300.0, 300.0, -300.0]
    by_tag = {r.get("reattribution_redesignation_tag"): r for r in rows}
    ana_row = by_tag["REDESIGNATED"]
    moved_out, moved_in = by_tag["REDESIGNATION_FROM"], by_tag["REDESIGNATION_TO"]
    assert (moved_out["contribution_amount"], moved_out["memo_code"], moved_in["contribution_amount"],
            moved_in["election_code"]) == (-50.0, True, 50.0, "G2026")
    assert moved_out["back_reference_tran_id_number"] == ana_row["transaction_id"]
    assert moved_in["memo_text_description"] == "REDESIGNATION FROM PRIMARY"
    gil = by_tag["REATTRIBUTED"]
    assert gil["transaction_id"] == transaction_id("SA", gift["donation_id"])
    out, into = by_tag["REATTRIBUTION_FROM"], by_tag["REATTRIBUTION_TO"]
    # Gil's aggregate after the move (400 - the refund's 100 - Hal's 100), Hal's is the 100.
    assert (out["contribution_amount"], out["contribution_aggregate"], out["memo_code"]) == \
        (-100.0, 200.0, True)
    assert (into["contribution_amount"], into["contribution_aggregate"], into["contributor_first_name"],
            into["memo_code"]) == (100.0, 100.0, "Hal", True)
    assert out["back_reference_tran_id_number"] == gil["transaction_id"]
    assert into["back_reference_tran_id_number"] == gil["transaction_id"]
    refunds = {r["expenditure_purpose_descrip"]: r["expenditure_amount"]
               for r in parsed["itemizations"]["Schedule B"]}
    assert refunds == {"Refund of contribution": 100.0, "Refund of excess contribution": 100.0}
    assert_fec_round_trip([_header(text), *records], text)

    # A gift found after filing: the amendment has it, and every earlier row keeps its id.
    configure(api, campaign, elections=None, **books)
    late = campaign.give(donor("Ned"), 25_000, "2026-06-20")
    configure(api, campaign, **books)
    status, answer = api.call("POST", f"/api/admin/reports/{report_id}/amend",
                              {"fec_report_id": "FEC-1234567"}, staff(FINANCE_KEY))
    assert status == 202 and answer["amends"] == report_id, answer
    amendment = built(api, answer["report_id"])
    assert amendment["form"] == "F3A" and amendment["amends"] == report_id
    assert amendment["lines"]["L11ai_individuals_itemized_period"] == 1_050.00
    assert finalize(api, amendment["report_id"], date_signed="2026-07-20")[0] == 200
    amended_text, amended = files(api, amendment["report_id"])
    before = [r["transaction_id"] for r in rows]
    after = [r["transaction_id"] for r in amended[1:]]
    assert set(before) < set(after)
    assert set(after) - set(before) == {transaction_id("SA", late["donation_id"])}
    parsed = fecfile.loads(amended_text)
    assert parsed["header"]["report_id"] == "FEC-1234567" and parsed["filing"]["form_type"] == "F3A"
    assert_fec_round_trip([_header(amended_text), *amended], amended_text)


def _header(text: str) -> dict[str, Any]:
    """The file's HDR record as the FEC's schema names its fields."""
    from chalicelib.filing.schemas import layout

    values = text.split("\n", 1)[0].split("\x1c")
    return {name: value for name, value in zip(layout("HDR").fields, values, strict=False)
            if name and value}
