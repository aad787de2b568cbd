"""Reports to the FEC as a service, over in-memory twins of their store, the ledger, files and
queue: the calendar decides what may be asked for, the build turns the ledger into Form 3 in
the committee's local dates, finalizing signs exactly what was reviewed and refuses a report
with errors, and an amendment keeps every transaction id."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import fecfile
import pytest

from chalicelib.compliance.committees import Committee
from chalicelib.errors import ProviderUnavailable
from chalicelib.exports.model import DonationFacts, LedgerMovement
from chalicelib.fec_reports.service import NotBuilt, ReportFinal, ReportHasErrors, ReportService
from chalicelib.filing.errors import PeriodNotInCalendar
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import Name
from chalicelib.filing.summary import field_name
from tests.giving_twins import MemoryCommittees
from tests.helpers import assert_fec_round_trip
from tests.reports_kit import (
    Files,
    Ledger,
    MemoryReports,
    Queue,
    donor_facts,
    house_committee,
    ledger_movement,
)

NOW = datetime(2026, 7, 5, 15, tzinfo=timezone.utc)
D = date.fromisoformat
Q2 = ("Q2", D("2026-05-14"), D("2026-06-30"))
DANA = Name("Dana", "Okafor")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def gift(n: int, donor: str, cents: int, at: str, fee: int | None = None) -> LedgerMovement:
    return ledger_movement(f"evt_{n}", "contribution", cents, utc(at), f"don_{n}", donor, fee_cents=fee)


def back(n: int, kind: str, cents: int, at: str, of: int, donor: str) -> LedgerMovement:
    return ledger_movement(f"evt_{n}", kind, cents, utc(at), f"don_{of}", donor)


MOVEMENTS = [
    gift(1, "ana", 15_000, "2026-04-10T17:00", fee=465),  # the 12P period: counts in aggregates
    gift(2, "ana", 10_000, "2026-05-20T17:00", fee=320),  # aggregate $250: itemized
    gift(3, "bo", 5_000, "2026-05-15T17:00", fee=175),  # unitemized
    gift(4, "gil", 40_000, "2026-05-22T17:00", fee=1_190),
    back(5, "refund", -10_000, "2026-05-25T17:00", of=4, donor="gil"),  # a partial refund
    gift(6, "ivy", 370_000, "2026-05-24T17:00", fee=10_760),
    back(7, "refund", -20_000, "2026-05-26T17:00", of=6, donor="ivy"),  # the excess refund
    gift(8, "jo", 30_000, "2026-05-27T17:00", fee=900),
    back(9, "dispute", -30_000, "2026-06-10T17:00", of=8, donor="jo"),  # a chargeback
    gift(10, "lu", 5_000, "2026-07-01T03:00"),  # 10 pm on June 30 in Illinois: in Q2
    gift(11, "mo", 5_000, "2026-07-01T06:00"),  # 1 am on July 1 in Illinois: not
]


def donations(movements: list[LedgerMovement]) -> dict[str, DonationFacts]:
    out = {}
    for m in movements:
        if m.kind == "contribution":
            out[m.donation_id] = DonationFacts(
                m.donation_id, donor_facts(m.donor_id.removeprefix("dnr_")), m.amount_cents, 0,
                "succeeded", "P2026", "page", paid_at=m.occurred_at,
                excess_refund_cents=20_000 if m.donation_id == "don_6" else 0)
    return out


def build(committee: Committee | None = None, movements: list[LedgerMovement] | None = None,
          queue: Queue | None = None) -> tuple[ReportService, MemoryReports, Ledger, Files]:
    movements = list(MOVEMENTS if movements is None else movements)
    reports, ledger, files = MemoryReports(), Ledger(movements, donations(movements)), Files()
    service = ReportService(reports, ledger, MemoryCommittees(committee or house_committee()), files,
                            queue or Queue(), clock=lambda: NOW)
    return service, reports, ledger, files


def built(service: ReportService, *request: Any) -> dict[str, Any]:
    report = service.request("C00123456", *(request or Q2), requested_by="Dana")
    assert service.run(report.report_id) is not None
    return service.view(report.report_id)


def line(view: dict[str, Any], number: str, column: str = "period") -> float:
    return float(view["lines"][field_name("F3", number, column)])


def test_a_period_off_the_committee_calendar_is_refused_and_nothing_is_queued() -> None:
    service, reports, _, _ = build()
    for code, start, end in [("Q2", D("2026-04-01"), D("2026-06-30")),  # Q2 begins after the 12P
                             ("Q4", D("2026-10-01"), D("2026-12-31")),  # no such report
                             ("Q2", D("2026-05-14"), D("2026-06-29"))]:  # Q2 closes June 30
        service.request("C00123456", "12P", D("2026-04-01"), D("2026-05-13"), "Dana")
        with pytest.raises(PeriodNotInCalendar):
            service.request("C00123456", code, start, end, "Dana")
    assert [r.report_code for r in reports.items.values()] == ["12P"]


def test_a_report_is_queued_and_built_off_the_request_path() -> None:
    service, reports, _, _ = build()
    report = service.request("C00123456", *Q2, requested_by="Dana")
    assert report.status == "building" and service.queue.sent == [report.report_id]  # type: ignore[attr-defined]
    assert service.view(report.report_id)["status"] == "building"
    assert "lines" not in service.view(report.report_id)
    assert service.run(report.report_id) is not None
    assert service.run(report.report_id) is None  # a redelivered message builds nothing twice
    assert reports.items[report.report_id].status == "draft"


def test_an_unreachable_queue_fails_the_report_and_says_so() -> None:
    service, reports, _, _ = build(queue=Queue(fail=True))
    with pytest.raises(ProviderUnavailable):
        service.request("C00123456", *Q2, requested_by="Dana")
    assert [(r.status, r.error) for r in reports.items.values()] == [("failed", "queue_unavailable")]


def test_the_quarter_from_the_ledger_in_local_dates_and_its_arithmetic() -> None:
    service, _, _, _ = build()
    view = built(service)
    assert view["status"] == "draft" and view["form"] == "F3N" and view["errors"] == []
    # In the quarter: ana's $100 (aggregate $250), gil $400, ivy $3,700, jo $300 itemized, then
    # jo's chargeback; bo's $50 and lu's $50 (June 30, local) unitemized; mo's is July's.
    assert line(view, "11ai") == 4_200.00
    assert line(view, "11aii") == 100.00
    assert line(view, "11aiii") == line(view, "11ai") + line(view, "11aii")
    assert line(view, "20a") == 300.00  # gil's partial refund and ivy's excess refund
    assert line(view, "17") == (320 + 175 + 1_190 + 10_760 + 900) / 100
    assert line(view, "22") == line(view, "17") + line(view, "20d")
    # Cash: the opening $5,000 plus every movement through June 30 (local), less Stripe's fees.
    through_june = [m for m in MOVEMENTS if m.movement_id != "evt_11#contribution"]
    fees = sum(m.fee_cents or 0 for m in through_june)
    balance = 500_000 + sum(m.amount_cents for m in through_june) - fees
    assert line(view, "27") == balance / 100
    assert line(view, "27") == line(view, "23") + line(view, "16") - line(view, "22")
    assert view["counts"]["SB20A"] == 2 and view["counts"]["SA11AII"] == 2
    assert view["counts"]["SA11AI"] == 5  # four gifts and the chargeback's negative row


def test_a_draft_shows_the_schema_errors_of_what_the_committee_lacks_and_cannot_be_finalized() -> None:
    service, _, _, _ = build(house_committee(treasurer=None, address=None))
    view = built(service)
    assert {(e["field"], e["rule"]) for e in view["errors"]} == {
        ("treasurer_last_name", "required"), ("treasurer_first_name", "required")}
    assert {w["field"] for w in view["warnings"]} >= {"street_1", "city", "zip"}  # fec_recommended
    assert view["error_count"] == 2
    with pytest.raises(ReportHasErrors):  # the name as signed is not the committee's on file
        service.finalize(view["report_id"], Name("", ""), D("2026-07-10"))
    assert service.view(view["report_id"])["status"] == "draft"


def test_without_opening_cash_the_report_warns() -> None:
    service, _, _, _ = build(house_committee(opening_cash_on_hand_cents=0, opening_cash_as_of=None))
    view = built(service)
    assert any(w["field"] == "opening_cash_on_hand_cents" for w in view["warnings"])


def test_finalize_signs_what_was_reviewed_and_freezes_it() -> None:
    service, _, ledger, files = build()
    draft = built(service)
    with pytest.raises(NotBuilt):  # an unbuilt report cannot be signed
        service.finalize(service.request("C00123456", "12P", D("2026-04-01"), D("2026-05-13"),
                                         "Dana").report_id, DANA, D("2026-07-10"))
    ledger.list.append(gift(12, "ned", 9_000, "2026-06-20T17:00"))  # after the review
    ledger.donations_by_id.update(donations([ledger.list[-1]]))
    final = service.finalize(draft["report_id"], Name("Dana", "Okafor", "M"), D("2026-07-10"))
    assert final.status == "final" and final.treasurer_name == "Dana M Okafor"
    view = service.view(draft["report_id"])
    assert view["lines"] == draft["lines"] and view["errors"] == []  # the values reviewed
    text = files.read(final.files["fec"]).decode()
    records = [json.loads(row) for row in files.read(final.files["jsonl"]).decode().splitlines()]
    form = records[0]
    assert form["date_signed"] == "2026-07-10" and form["treasurer_middle_name"] == "M"
    header = {"record_type": "HDR", "ef_type": "FEC", "fec_version": "8.4", "soft_name": "Groundswell",
              "soft_ver": "1.0", "hdrcomment": "F3 Q2 2026-05-14 to 2026-06-30"}
    parsed = assert_fec_round_trip([header, *records], text)
    assert parsed["filing"]["treasurer_last_name"] == "Okafor"
    assert len(parsed["itemizations"]["Schedule A"]) == 5
    with pytest.raises(ReportFinal):
        service.request("C00123456", *Q2, requested_by="Dana")
    with pytest.raises(ReportFinal):
        service.finalize(draft["report_id"], DANA, D("2026-07-11"))
    urls = service.files_of(draft["report_id"])
    assert urls.fec_url.endswith("report.fec?ttl=900") and "report.jsonl" in urls.jsonl_url


def test_an_amendment_keeps_every_transaction_id_and_names_the_original() -> None:
    service, _, ledger, files = build()
    original = built(service)
    service.finalize(original["report_id"], DANA, D("2026-07-10"))
    ledger.list.append(gift(12, "ned", 30_000, "2026-06-20T17:00"))  # found after filing
    ledger.donations_by_id.update(donations([ledger.list[-1]]))
    amendment = service.amend(original["report_id"], "FEC-1234567", "Dana")
    assert amendment.amendment_number == 1 and service.run(amendment.report_id) is not None
    view = service.view(amendment.report_id)
    assert view["form"] == "F3A" and view["amends"] == original["report_id"]
    assert line(view, "11ai") == line(original, "11ai") + 300
    final = service.finalize(amendment.report_id, DANA, D("2026-07-20"))

    def ids(report_files: dict[str, str]) -> list[str]:
        rows = files.read(report_files["jsonl"]).decode().splitlines()[1:]
        return [json.loads(row)["transaction_id"] for row in rows]

    before = ids(service.reports.get(original["report_id"]).files)  # type: ignore[union-attr]
    after = ids(final.files)
    assert set(before) < set(after) and set(after) - set(before) == {transaction_id("SA", "don_12")}
    parsed = fecfile.loads(files.read(final.files["fec"]).decode())
    assert parsed["header"]["report_id"] == "FEC-1234567" and parsed["filing"]["form_type"] == "F3A"
    second = service.amend(amendment.report_id, "FEC-1234568", "Dana")  # amends the original again
    assert second.amends == original["report_id"] and second.amendment_number == 2


def test_a_movement_without_its_donation_fails_the_build_and_says_so() -> None:
    service, reports, ledger, _ = build()
    ledger.donations_by_id.pop("don_4")
    report = service.request("C00123456", *Q2, requested_by="Dana")
    with pytest.raises(Exception, match="has no donation"):
        service.run(report.report_id)
    failed = reports.items[report.report_id]
    assert failed.status == "failed" and failed.error and failed.error.startswith("donation_missing")
    assert replace(failed, status="building") != failed  # asking again rebuilds it
    assert service.request("C00123456", *Q2, requested_by="Dana").status == "building"


def test_finalize_refuses_a_report_whose_errors_remain() -> None:
    # Books opened with nothing on May 1: refunding an April gift leaves negative cash, which the
    # schema refuses (its minimum is 0): the opening cash must be wrong.
    movements = [gift(1, "ana", 50_000, "2026-04-10T17:00"), back(2, "refund", -50_000,
                                                                   "2026-05-20T17:00", of=1, donor="ana")]
    service, _, _, _ = build(house_committee(opening_cash_on_hand_cents=0,
                                             opening_cash_as_of=D("2026-05-01")), movements)
    view = built(service)
    assert line(view, "27") == -500.00
    found = {(e["field"], e["rule"]) for e in view["errors"]}
    assert ("L27_cash_on_hand_at_close_period", "minimum") in found
    with pytest.raises(ReportHasErrors) as refused:
        service.finalize(view["report_id"], DANA, D("2026-07-10"))
    assert "L27_cash_on_hand_at_close_period" in {e["field"] for e in refused.value.extra["errors"]}  # type: ignore[union-attr]
    assert service.view(view["report_id"])["status"] == "draft"


def test_a_best_efforts_answer_after_the_report_is_a_memo_entry_in_the_next() -> None:
    movements = [gift(1, "kim", 25_000, "2026-06-05T17:00")]
    service, _, ledger, files = build(movements=movements)
    answered = replace(ledger.donations_by_id["don_1"], best_efforts_answered_on=D("2026-07-08"))
    ledger.donations_by_id["don_1"] = answered
    q2 = built(service)
    assert q2["counts"]["SA11AI"] == 1  # the gift, showing the answer: no memo in its own report
    q3 = built(service, "Q3", D("2026-07-01"), D("2026-09-30"))
    assert q3["counts"]["SA11AI"] == 1 and line(q3, "11ai") == 0  # a memo counts in no line
    final = service.finalize(q3["report_id"], DANA, D("2026-10-10"))
    (memo,) = [json.loads(r) for r in files.read(final.files["jsonl"]).decode().splitlines()[1:]]
    assert memo["memo_code"] is True and memo["contributor_employer"] == "City Library"
    assert memo["contribution_date"] == "2026-06-05"
    assert "received 2026-07-08" in memo["memo_text_description"]


def test_a_build_overtaken_by_a_newer_request_leaves_the_newer_one_to_count() -> None:
    service, reports, ledger, _ = build()
    moments = iter(NOW + timedelta(seconds=n) for n in range(100))
    service.clock = lambda: next(moments)
    report = service.request("C00123456", *Q2, requested_by="Dana")
    reads = ledger.movements

    def asked_again_meanwhile(*args: Any) -> Any:
        ledger.movements = reads  # type: ignore[method-assign]
        ledger.list.append(gift(12, "ned", 9_000, "2026-06-20T17:00"))  # arrives, and finance
        ledger.donations_by_id.update(donations([ledger.list[-1]]))  # asks for the report again
        service.request("C00123456", *Q2, requested_by="Dana")
        return reads(*args)

    ledger.movements = asked_again_meanwhile  # type: ignore[method-assign]
    assert service.run(report.report_id) is None  # its result is not recorded
    assert reports.items[report.report_id].status == "building"
    assert service.run(report.report_id) is not None  # the newer request's build is
    assert line(service.view(report.report_id), "11aii") == 190.00  # with the gift that arrived


def test_a_pac_files_form_3x_aggregating_by_calendar_year() -> None:
    pac = house_committee(type="pac", name="Springfield Neighbors PAC", candidate=None, elections=(),
                          previous_general_date=None, limit_cents=500_000)
    movements = [gift(1, "ana", 15_000, "2025-12-10T17:00"),  # last year: not in 2026's aggregate
                 gift(2, "ana", 10_000, "2026-05-20T17:00", fee=320),
                 gift(3, "bo", 30_000, "2026-05-21T17:00", fee=900),
                 back(4, "refund", -5_000, "2026-05-22T17:00", of=3, donor="bo")]
    service, _, _, _ = build(pac, movements)
    view = built(service, "Q2", D("2026-04-01"), D("2026-06-30"))
    lines = view["lines"]
    assert view["form"] == "F3XN" and view["errors"] == []
    assert lines[field_name("F3X", "11ai")] == 300.00  # Bo's; Ana's $100 is her first of 2026
    assert lines[field_name("F3X", "11aii")] == 100.00
    assert lines[field_name("F3X", "28a")] == 50.00
    assert lines[field_name("F3X", "21b")] == 12.20
    assert lines[field_name("F3X", "8")] == (500_000 + 15_000 + 40_000 - 5_000 - 1_220) / 100
    assert view["counts"]["SB28A"] == 1 and view["counts"]["SA11AI"] == 1


def test_a_reattribution_reaches_the_report_as_its_memo_entries_with_each_persons_aggregate() -> None:
    movements = [gift(1, "kim", 400_000, "2026-06-01T17:00"),  # $500 over the primary's limit
                 gift(2, "lee", 10_000, "2026-06-02T17:00")]  # the other card holder gave $100 too
    service, _, ledger, files = build(movements=movements)
    ledger.donations_by_id["don_1"] = replace(
        ledger.donations_by_id["don_1"], reattributed_cents=50_000, reattributed_to=donor_facts("lee"),
        reattributed_donor_id="dnr_lee", reattributed_on=D("2026-06-03"))
    view = built(service)
    assert view["errors"] == [] and line(view, "11ai") == 4_000.00  # memos count in no line
    assert line(view, "11aii") == 100.00  # Lee's own $100 came before the move: unitemized
    final = service.finalize(view["report_id"], DANA, D("2026-07-10"))
    records = [json.loads(r) for r in files.read(final.files["jsonl"]).decode().splitlines()]
    by_tag = {r.get("reattribution_redesignation_tag"): r for r in records[1:]}
    assert by_tag["REATTRIBUTED"]["transaction_id"] == transaction_id("SA", "don_1")
    out, into = by_tag["REATTRIBUTION_FROM"], by_tag["REATTRIBUTION_TO"]
    assert (out["contribution_amount"], out["contribution_aggregate"], out["memo_text_description"]) == \
        (-500.0, 3_500.0, "REATTRIBUTION TO LEE NUNEZ")
    assert (into["contribution_amount"], into["contributor_first_name"], into["memo_text_description"]) == \
        (500.0, "Lee", "REATTRIBUTION FROM KIM NUNEZ")
    assert into["contribution_aggregate"] == 600.0  # Lee's after the move: their $100 and the $500
    assert out["memo_code"] is True and into["memo_code"] is True
    assert into["back_reference_tran_id_number"] == by_tag["REATTRIBUTED"]["transaction_id"]
    header = {"record_type": "HDR", "ef_type": "FEC", "fec_version": "8.4", "soft_name": "Groundswell",
              "soft_ver": "1.0", "hdrcomment": "F3 Q2 2026-05-14 to 2026-06-30"}
    parsed = assert_fec_round_trip([header, *records], files.read(final.files["fec"]).decode())
    assert len(parsed["itemizations"]["Schedule A"]) == 3


def test_a_refund_after_a_reattribution_takes_the_other_persons_part_last() -> None:
    movements = [gift(1, "kim", 400_000, "2026-06-01T17:00"),
                 gift(2, "lee", 10_000, "2026-06-02T17:00"),
                 back(3, "refund", -400_000, "2026-06-05T17:00", of=1, donor="kim"),  # all of it back
                 gift(4, "lee", 10_000, "2026-06-10T17:00")]
    service, _, ledger, _ = build(movements=movements)
    ledger.donations_by_id["don_1"] = replace(
        ledger.donations_by_id["don_1"], reattributed_cents=50_000, reattributed_to=donor_facts("lee"),
        reattributed_donor_id="dnr_lee", reattributed_on=D("2026-06-03"))
    view = built(service)
    # Kim's own $3,500 left first, then Lee's $500: Lee is back at $100 before the June 10 gift,
    # which leaves Lee at $200, not itemized (counted with $500 still Lee's, it would be).
    assert view["errors"] == [] and line(view, "11aii") == 200.00 and line(view, "11ai") == 4_000.00


def test_a_presumptive_redesignation_reaches_the_report_as_its_memo_entries() -> None:
    movements = [gift(1, "kim", 400_000, "2026-06-01T17:00")]  # $500 over the primary's limit
    service, _, ledger, files = build(movements=movements)
    ledger.donations_by_id["don_1"] = replace(ledger.donations_by_id["don_1"], redesignated_cents=50_000,
                                              redesignated_to="G2026", redesignated_on=D("2026-06-01"))
    view = built(service)
    assert view["errors"] == [] and line(view, "11ai") == 4_000.00  # memos count in no line
    final = service.finalize(view["report_id"], DANA, D("2026-07-10"))
    records = [json.loads(r) for r in files.read(final.files["jsonl"]).decode().splitlines()]
    by_tag = {r.get("reattribution_redesignation_tag"): r for r in records[1:]}
    assert by_tag["REDESIGNATED"]["transaction_id"] == transaction_id("SA", "don_1")
    out, into = by_tag["REDESIGNATION_FROM"], by_tag["REDESIGNATION_TO"]
    assert (out["contribution_amount"], out["election_code"], out["memo_text_description"]) == \
        (-500.0, "P2026", "REDESIGNATION TO GENERAL")
    assert (into["contribution_amount"], into["election_code"], into["memo_text_description"]) == \
        (500.0, "G2026", "REDESIGNATION FROM PRIMARY")
    assert out["memo_code"] is True
    assert into["back_reference_tran_id_number"] == by_tag["REDESIGNATED"]["transaction_id"]
    header = {"record_type": "HDR", "ef_type": "FEC", "fec_version": "8.4", "soft_name": "Groundswell",
              "soft_ver": "1.0", "hdrcomment": "F3 Q2 2026-05-14 to 2026-06-30"}
    parsed = assert_fec_round_trip([header, *records], files.read(final.files["fec"]).decode())
    assert len(parsed["itemizations"]["Schedule A"]) == 3
