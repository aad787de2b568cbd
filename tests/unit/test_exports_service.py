"""The export job's flow with in-memory storage, files and queue: claim once, survey then
write, progress, summary, and failures that leave no file behind."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import fecfile
import pytest

from chalicelib.compliance.committees import Committee, CommitteeDefaults, default_committee
from chalicelib.errors import InvalidInput, NotFound, ProviderUnavailable
from chalicelib.exports.model import DonationFacts, DonorFacts, ExportJob, LedgerMovement
from chalicelib.exports.service import ExportFailed, ExportService, LedgerChanged
from chalicelib.payouts.model import PayoutFacts, PayoutRecord
from tests.reports_kit import Files, Ledger, Queue

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


class Jobs:
    def __init__(self) -> None:
        self.jobs: dict[str, ExportJob] = {}
        self.progress_calls: list[tuple[int, int | None]] = []

    def create(self, job: ExportJob) -> None:
        self.jobs[job.export_id] = job

    def get(self, export_id: str) -> ExportJob | None:
        return self.jobs.get(export_id)

    def claim(self, export_id: str, now: datetime, lease_until: datetime) -> ExportJob | None:
        job = self.jobs.get(export_id)
        if job is None or job.status != "queued":
            return None
        self.jobs[export_id] = replace(job, status="running", started_at=now)
        return self.jobs[export_id]

    def progress(self, export_id: str, rows_done: int, row_count: int | None, lease_until: datetime) -> None:
        self.progress_calls.append((rows_done, row_count))
        self.jobs[export_id] = replace(self.jobs[export_id], rows_done=rows_done, row_count=row_count)

    def succeed(self, export_id: str, row_count: int, summary: dict[str, int], files: dict[str, str],
                now: datetime) -> ExportJob:
        self.jobs[export_id] = replace(self.jobs[export_id], status="succeeded", row_count=row_count,
                                       rows_done=row_count, summary=summary, files=files, finished_at=now)
        return self.jobs[export_id]

    def fail(self, export_id: str, error: str, now: datetime) -> None:
        self.jobs[export_id] = replace(self.jobs[export_id], status="failed", error=error)


class Committees:
    def __init__(self, *committees: Committee) -> None:
        self.by_id = {c.committee_id: c for c in committees}

    def get(self, committee_id: str) -> Committee:
        return self.by_id.get(committee_id) or default_committee(committee_id, CommitteeDefaults())


def donation(donation_id: str, donor: str) -> DonationFacts:
    return DonationFacts(donation_id, DonorFacts(donor.title(), "Núñez", f"{donor}@example.org", "1 Main St",
                                                 "Springfield", "IL", "62701", "Library", "Librarian"),
                         10000, 0, "succeeded", "P2026", "page")


def movement(n: int, kind: str, cents: int, day: int, donor: str = "ana", committee: str = "C00000001",
             donation_id: str | None = None) -> LedgerMovement:
    return LedgerMovement(f"evt_{n}#{kind}", kind, cents,  # type: ignore[arg-type]
                          datetime(2026, 1, day, 12, tzinfo=timezone.utc), donation_id or f"don_{n}",
                          f"dnr_{donor}", committee, "P2026", "page", f"evt_{n}")


def build(movements: list[LedgerMovement], *committees: Committee, progress_every: int = 1000,
          queue: Queue | None = None) -> tuple[ExportService, Jobs, Ledger, Files]:
    donations = {m.donation_id: donation(m.donation_id, m.donor_id.removeprefix("dnr_")) for m in movements}
    jobs, ledger, files = Jobs(), Ledger(list(movements), donations), Files()  # a copy: tests grow it
    service = ExportService(jobs, ledger, Committees(*committees), files, queue or Queue(),
                            clock=lambda: NOW, progress_every=progress_every)
    return service, jobs, ledger, files


DATA = [
    movement(1, "contribution", 15000, 2),                  # before the range: counts in aggregates
    movement(2, "contribution", 10000, 10),                 # crosses $200: itemized (250.00)
    movement(3, "refund", -10000, 11, donation_id="don_2"),  # aggregate back to 150.00
    movement(4, "contribution", 2500, 12),                  # 175.00: not itemized
    movement(5, "contribution", 5000, 13),                  # 225.00: itemized
    movement(6, "contribution", 300, 14, donor="ben"),      # another donor, unitemized
    movement(7, "dispute", -300, 15, donor="ben", donation_id="don_6"),
]


def test_request_queues_the_job_and_an_fec_export_needs_a_committee() -> None:
    service, jobs, _, _ = build([])
    queue = service.queue
    job = service.request("contributions_csv", date(2026, 1, 1), date(2026, 1, 31), None, "finance-1")
    assert job.status == "queued" and jobs.get(job.export_id) == job
    assert queue.sent == [job.export_id]  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as err:
        service.request("fec_schedule_a", date(2026, 1, 1), date(2026, 1, 31), None, "finance-1")
    assert "committee_id" in err.value.fields


def test_an_unreachable_queue_fails_the_job_and_says_so() -> None:
    service, jobs, _, _ = build([], queue=Queue(fail=True))
    with pytest.raises(ProviderUnavailable):
        service.request("contributions_csv", date(2026, 1, 1), date(2026, 1, 31), None, "finance-1")
    assert [j.status for j in jobs.jobs.values()] == ["failed"]


def test_csv_rows_aggregates_and_summary() -> None:
    service, jobs, ledger, files = build(DATA, progress_every=2)
    job = service.request("contributions_csv", date(2026, 1, 5), date(2026, 1, 31), "C00000001", "fin")
    done = service.run(job.export_id)
    assert done is not None and done.status == "succeeded" and done.row_count == 6
    rows = list(csv.DictReader(io.StringIO(files.text(".csv"))))
    assert [(r["row_type"], r["amount_cents"], r["aggregate_cents"], r["itemized"]) for r in rows] == [
        ("contribution", "10000", "25000", "true"), ("refund", "-10000", "15000", ""),
        ("contribution", "2500", "17500", "false"), ("contribution", "5000", "22500", "true"),
        ("contribution", "300", "300", "false"), ("dispute", "-300", "0", ""),
    ]
    assert rows[0]["fec_transaction_id"].startswith("SA") and rows[2]["fec_transaction_id"] == ""
    assert done.summary == {"movements": 6, "itemized_count": 2, "itemized_cents": 15000,
                            "unitemized_count": 2, "unitemized_cents": 2800, "refunds_count": 1,
                            "refunds_cents": 10000, "disputes_net_cents": -300}
    assert jobs.progress_calls[0] == (0, 6) and jobs.progress_calls[-1] == (6, 6)
    assert all(s.state == "closed" for s in files.sinks.values())
    assert ledger.batch_sizes == [4]  # the distinct donations of the range, in one read


def test_without_a_committee_the_csv_covers_every_committee() -> None:
    other = movement(9, "contribution", 700, 20, donor="cy", committee="C00000002")
    service, _, _, files = build([*DATA, other])
    job = service.request("contributions_csv", date(2026, 1, 1), date(2026, 1, 31), None, "fin")
    assert service.run(job.export_id).row_count == 8  # type: ignore[union-attr]
    rows = list(csv.DictReader(io.StringIO(files.text(".csv"))))
    assert [r["committee_id"] for r in rows] == ["C00000001"] * 7 + ["C00000002"]


def test_fec_export_for_a_pac_has_schedule_a_and_refunds_as_schedule_b() -> None:
    pac = default_committee("C00000001", CommitteeDefaults(), type="pac", name="People's PAC")
    service, _, _, files = build(DATA, pac)
    job = service.request("fec_schedule_a", date(2026, 1, 5), date(2026, 1, 31), "C00000001", "fin")
    done = service.run(job.export_id)
    assert done is not None and done.row_count == 3 and set(done.files) == {"download", "jsonl"}
    jsonl = [json.loads(line) for line in files.text(".jsonl").splitlines()]
    assert [(r["form_type"], r.get("contribution_aggregate")) for r in jsonl] == [
        ("SA11AI", 250.0), ("SB28A", None), ("SA11AI", 225.0)]
    parsed = fecfile.loads(files.text(".fec"))
    assert parsed["filing"]["form_type"] == "F3XN"
    assert parsed["filing"]["col_a_individuals_unitemized"] == 28.0
    assert parsed["filing"]["col_a_individuals_itemized"] == 150.0
    assert len(parsed["itemizations"]["Schedule A"]) == 2 and len(parsed["itemizations"]["Schedule B"]) == 1
    assert "unitemized 28.00 in 2 contributions" in parsed["header"]["comment"]


def test_a_run_claims_the_job_once() -> None:
    service, _, _, _ = build(DATA)
    job = service.request("contributions_csv", date(2026, 1, 1), date(2026, 1, 31), "C00000001", "fin")
    assert service.run(job.export_id) is not None
    assert service.run(job.export_id) is None
    assert service.run("exp_unknown") is None


def test_a_missing_donation_fails_the_job_and_leaves_no_file() -> None:
    service, jobs, ledger, files = build(DATA)
    del ledger.donations_by_id["don_4"]
    job = service.request("contributions_csv", date(2026, 1, 1), date(2026, 1, 31), "C00000001", "fin")
    with pytest.raises(ExportFailed):
        service.run(job.export_id)
    failed = jobs.get(job.export_id)
    assert failed is not None and failed.status == "failed" and failed.error.startswith("donation_missing")  # type: ignore[union-attr]
    assert [s.state for s in files.sinks.values()] == ["aborted"]


def test_a_ledger_that_changes_under_an_fec_export_is_retried_then_fails() -> None:
    service, jobs, ledger, _ = build(DATA)

    class Growing(Ledger):
        def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerMovement]:
            self.list.append(movement(100 + self.reads, "contribution", 50000, 20, donor=f"x{self.reads}"))
            self.donations_by_id.update({m.donation_id: donation(m.donation_id, "x") for m in self.list})
            return super().movements(committee_id, start, end)

    service.ledger = Growing(ledger.list, ledger.donations_by_id)
    job = service.request("fec_schedule_a", date(2026, 1, 1), date(2026, 1, 31), "C00000001", "fin")
    with pytest.raises(LedgerChanged):
        service.run(job.export_id)
    assert jobs.get(job.export_id).error.startswith("ledger_changed")  # type: ignore[union-attr]


def test_the_view_links_files_only_once_the_job_succeeded() -> None:
    service, _, _, _ = build(DATA)
    job = service.request("fec_schedule_a", date(2026, 1, 1), date(2026, 1, 31), "C00000001", "fin")
    assert service.view(job.export_id).download_url is None
    service.run(job.export_id)
    view = service.view(job.export_id)
    assert view.download_url and view.download_url.endswith(".fec?ttl=900")
    assert view.jsonl_url and view.jsonl_url.endswith(".jsonl?ttl=900")
    assert view.expires_at == NOW + timedelta(minutes=15)
    with pytest.raises(NotFound):
        service.view("exp_unknown")


class Payouts:
    def __init__(self, *records: PayoutRecord) -> None:
        self.records = records

    def between(self, start: datetime, end: datetime) -> list[PayoutRecord]:
        return [r for r in self.records if r.facts.created_at < end]


def test_the_ledger_merges_committees_and_payouts_with_a_running_balance() -> None:
    paid = [replace(m, fee_cents=f, net_cents=m.amount_cents - f, payout_id="po_1")
            for m, f in ((DATA[1], 320), (DATA[2], 0))]
    other = movement(9, "contribution", 700, 20, donor="cy", committee="C00000002")
    payout = PayoutRecord(PayoutFacts("po_1", 9680 - 10000, "usd", "paid",
                                      datetime(2026, 1, 16, tzinfo=timezone.utc),
                                      datetime(2026, 1, 16, 9, tzinfo=timezone.utc)))
    service, _, _, files = build([DATA[0], *paid, *DATA[3:], other])
    service.payouts = Payouts(payout)
    job = service.request("ledger_csv", date(2026, 1, 5), date(2026, 1, 31), None, "fin")
    done = service.run(job.export_id)
    assert done is not None and done.row_count == 8
    rows = list(csv.DictReader(io.StringIO(files.text(".csv"))))
    assert [(r["type"], r["gross_cents"], r["fee_cents"], r["net_cents"], r["payout_id"],
             r["balance_cents"]) for r in rows] == [
        ("contribution", "10000", "320", "9680", "po_1", "9680"),
        ("refund", "-10000", "0", "-10000", "po_1", "-320"),
        ("contribution", "2500", "", "", "", "2180"),
        ("contribution", "5000", "", "", "", "7180"),
        ("contribution", "300", "", "", "", "7480"),
        ("dispute", "-300", "", "", "", "7180"),
        ("payout", "320", "0", "320", "po_1", "7500"),
        ("contribution", "700", "", "", "", "8200"),
    ]
    assert rows[0]["donor_name"] == "Ana Núñez" and rows[-1]["committee_id"] == "C00000002"
    assert sum(int(r["net_cents"]) for r in rows if r["payout_id"] == "po_1" and r["type"] != "payout") \
        == payout.facts.amount_cents
    assert done.summary == {"movements": 7, "payouts": 1, "gross_cents": 8200, "fee_cents": 320,
                            "net_cents": 7880, "paid_out_cents": -320, "balance_cents": 8200}


def test_fec_export_carries_a_reattribution_with_both_aggregates_as_replayed() -> None:
    """Issue 13: the export shows the remedy. Ana's itemized $100 gift (aggregate $250) has $50
    reattributed to Ben, who gave $20 before the range: the gift's row is tagged and its memo
    rows carry Ana's $200 and Ben's $70, the aggregates the export replays."""
    from dataclasses import replace

    data = [DATA[0], movement(8, "contribution", 2000, 3, donor="ben"), *DATA[1:]]
    service, _, ledger, files = build(data)
    ben = ledger.donations_by_id["don_8"].donor
    ledger.donations_by_id["don_2"] = replace(
        ledger.donations_by_id["don_2"], reattributed_cents=5000, reattributed_to=ben,
        reattributed_donor_id="dnr_ben", reattributed_on=date(2026, 1, 20))
    job = service.request("fec_schedule_a", date(2026, 1, 5), date(2026, 1, 31), "C00000001", "fin")
    done = service.run(job.export_id)
    assert done is not None and done.status == "succeeded"
    jsonl = [json.loads(line) for line in files.text(".jsonl").splitlines()]
    tagged = [(r.get("reattribution_redesignation_tag"), r["contribution_amount"],
               r["contribution_aggregate"]) for r in jsonl]
    assert tagged == [("REATTRIBUTED", 100.0, 250.0), ("REATTRIBUTION_FROM", -50.0, 200.0),
                      ("REATTRIBUTION_TO", 50.0, 70.0), (None, 50.0, 225.0)]
    parsed = fecfile.loads(files.text(".fec"))
    # fecfile's 8.4 layout has no tag column: the memo rows read back by their memo code and text.
    assert [(r["contribution_amount"], r["memo_code"], r["memo_text_description"])
            for r in parsed["itemizations"]["Schedule A"]] == [
        (100.0, "", ""), (-50.0, "X", "REATTRIBUTION TO BEN NUNEZ"),
        (50.0, "X", "REATTRIBUTION FROM ANA NUNEZ"), (50.0, "", "")]
