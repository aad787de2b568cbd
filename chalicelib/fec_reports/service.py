"""Reports to the FEC as a service: request one, build it off the request path, review it,
finalize it, download its files, amend it.

A report is built by a queued job from the ledger (`ledger.transactions`) and the committee's
settings (`committee.filing_committee`) through `filing.report.build_report`; what the build
produced is kept as two files: the records (`build`, read again to finalize) and what finance
sees (`view`). Finalizing signs exactly the records reviewed, validates them again and writes
the `.fec` and JSON Lines files; from then on the report never changes, and a correction is an
amendment (a new report built from the ledger as it is, under the same transaction ids).
Storage, files and the queue are passed in; nothing here knows boto3 or HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.clock import utcnow
from chalicelib.compliance.committees import Committee
from chalicelib.errors import Conflict, DomainError, NotFound, ProviderUnavailable
from chalicelib.exports.service import Files, JobQueue
from chalicelib.fec_reports.committee import filing_committee, opening_cash
from chalicelib.fec_reports.ledger import Ledger, transactions
from chalicelib.fec_reports.model import StoredReport
from chalicelib.filing import fec as writer
from chalicelib.filing.calendar import ReportPeriod, report_period
from chalicelib.filing.forms import Amendment, Signature, sign
from chalicelib.filing.model import FilingCommittee, Name
from chalicelib.filing.report import Report, build_report, earliest_needed
from chalicelib.filing.validation import Finding, validate

URL_TTL = timedelta(minutes=15)
MAX_FINDINGS_IN_ERROR = 50
REPORT_ID = re.compile(r"rpt_[0-9a-f]{24}(-a[0-9]{1,4})?")


class ReportStore(Protocol):
    def start(self, report: StoredReport) -> StoredReport:
        """Record `report` as building: a new one, or a draft or failed one built again.
        Raises `ReportFinal` when it is final."""
        ...

    def create(self, report: StoredReport) -> None:
        """Record a new report (an amendment); raises `Conflict` when the id is taken."""
        ...

    def get(self, report_id: str) -> StoredReport | None: ...

    def of_committee(self, committee_id: str) -> list[StoredReport]: ...

    def built(self, report_id: str, requested_at: datetime, form: str, files: dict[str, str],
              error_count: int, warning_count: int, now: datetime) -> bool:
        """The report asked for at `requested_at` and building becomes a draft; False when it
        is not building any more, or was asked for again since (that request's build counts)."""
        ...

    def failed(self, report_id: str, error: str, now: datetime,
               requested_at: datetime | None = None) -> None:
        """A building report (asked for at `requested_at`, when given) failed."""
        ...

    def finalized(self, report_id: str, files: dict[str, str], treasurer_name: str,
                  date_signed: date, warning_count: int, now: datetime) -> bool:
        """A draft becomes final; False when it was not a draft any more."""
        ...


class Committees(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class ReadableFiles(Files, Protocol):
    def read(self, key: str) -> bytes: ...


class ReportFinal(Conflict):
    """A final report does not change; amend it."""


class NotBuilt(Conflict):
    """The report is still building (or its build failed)."""


class ReportHasErrors(Conflict):
    """A report whose records break the FEC's schemas cannot be filed."""


@dataclass(frozen=True)
class ReportFiles:
    fec_url: str
    jsonl_url: str
    expires_at: datetime



def report_id_for(committee_id: str, report_code: str, from_day: date, to_day: date) -> str:
    """The one id of a committee's report for a period: asking again builds the same report."""
    digest = hashlib.sha256(f"{committee_id}|{report_code}|{from_day}|{to_day}".encode()).hexdigest()
    return "rpt_" + digest[:24]


class ReportService:
    def __init__(self, reports: ReportStore, ledger: Ledger, committees: Committees,
                 files: ReadableFiles, queue: JobQueue, clock: Callable[[], datetime] = utcnow,
                 url_ttl: timedelta = URL_TTL) -> None:
        self.reports = reports
        self.ledger = ledger
        self.committees = committees
        self.files = files
        self.queue = queue
        self.clock = clock
        self.url_ttl = url_ttl

    # --- requests -------------------------------------------------------------------------
    def request(self, committee_id: str, report_code: str, from_day: date, to_day: date,
                requested_by: str) -> StoredReport:
        """Check the period against the committee's filing calendar (400 when it does not fit),
        record the report as building and queue its build. Asking again for a draft builds it
        again from the ledger as it is now."""
        committee = filing_committee(self.committees.get(committee_id))
        report_id = report_id_for(committee_id, report_code, from_day, to_day)
        others = [r for r in self.reports.of_committee(committee_id) if r.report_id != report_id]
        report_period(committee, report_code, from_day, to_day, first_report=not others)
        report = self.reports.start(StoredReport(
            report_id, committee_id, report_code, from_day, to_day, "building", requested_by,
            self.clock()))
        self._queue(report)
        return report

    def amend(self, report_id: str, original_fec_id: str, requested_by: str) -> StoredReport:
        """An amendment of a final report (of the original, when `report_id` is itself an
        amendment): built from the ledger as it is now, its header naming the FEC's id of the
        original filing."""
        report = self._get(report_id)
        if report.status != "final":
            raise Conflict("report_not_final", "Only a final report is amended; finalize this "
                           "one, or build it again.")
        original = self._get(report.amends) if report.amends else report
        number = 1 + max((r.amendment_number for r in self.reports.of_committee(report.committee_id)
                          if r.amends == original.report_id), default=0)
        amendment = StoredReport(
            f"{original.report_id}-a{number}", original.committee_id, original.report_code,
            original.from_day, original.to_day, "building", requested_by, self.clock(),
            amends=original.report_id, original_fec_id=original_fec_id, amendment_number=number)
        self.reports.create(amendment)
        self._queue(amendment)
        return amendment

    def _queue(self, report: StoredReport) -> None:
        try:
            self.queue.send(report.report_id)
        except ProviderUnavailable:
            self.reports.failed(report.report_id, "queue_unavailable", self.clock())
            raise

    def view(self, report_id: str) -> dict[str, Any]:
        """What finance sees of a report: its state and, once built, its lines, counts per
        schedule line, errors and warnings."""
        report = self._get(report_id)
        body = self.summary(report)
        if "view" in report.files and report.status in ("draft", "final"):
            body.update(json.loads(self.files.read(report.files["view"])))
        return body

    @staticmethod
    def summary(report: StoredReport) -> dict[str, Any]:
        """A report's state, without its lines and findings (a listing's row)."""
        body: dict[str, Any] = {
            "report_id": report.report_id, "committee_id": report.committee_id,
            "status": report.status, "report_code": report.report_code,
            "from": report.from_day.isoformat(), "to": report.to_day.isoformat(),
            "form": report.form, "amends": report.amends,
            "original_fec_id": report.original_fec_id,
            "error_count": report.error_count, "warning_count": report.warning_count,
        }
        if report.error:
            body["error"] = report.error
        if report.status == "final":
            body.update(treasurer_name=report.treasurer_name,
                        date_signed=report.date_signed.isoformat() if report.date_signed else None)
        return body

    def of_committee(self, committee_id: str, limit: int = 50) -> list[StoredReport]:
        """A committee's reports and amendments, newest first (a few a year: one query)."""
        found = sorted(self.reports.of_committee(committee_id), key=lambda r: r.created_at, reverse=True)
        return found[:limit]

    def files_of(self, report_id: str) -> ReportFiles:
        """Fresh presigned links to a final report's `.fec` and JSON Lines files."""
        report = self._get(report_id)
        if report.status != "final":
            raise Conflict("report_not_final", "A report's files are made when it is finalized.")
        name = f"{report.committee_id}-{report.report_code}-{report.to_day.isoformat()}"
        if report.amends:
            name += f"-amendment-{report.amendment_number}"
        return ReportFiles(
            self.files.download_url(report.files["fec"], f"{name}.fec", self.url_ttl),
            self.files.download_url(report.files["jsonl"], f"{name}.jsonl", self.url_ttl),
            self.clock() + self.url_ttl)

    # --- the build ------------------------------------------------------------------------
    def run(self, report_id: str) -> StoredReport | None:
        """Build a queued report; None when it is not building (built already, final) or was
        asked for again while this build ran. A failure marks it failed (with the error's code)
        and is raised again."""
        report = self.reports.get(report_id)
        if report is None or report.status != "building":
            return None
        try:
            built = self._build(report)
            files, files_view = self._write_build(report, built)
        except BaseException as exc:
            code = f"{exc.code}: {exc.message}" if isinstance(exc, DomainError) else "internal_error"
            self.reports.failed(report_id, code, self.clock(), report.created_at)
            raise
        if not self.reports.built(report_id, report.created_at, built.form_type, files,
                                  len(files_view["errors"]), len(files_view["warnings"]), self.clock()):
            return None  # asked for again while this build ran: the newer request's build counts
        return self.reports.get(report_id)

    def _build(self, report: StoredReport) -> Report:
        committee = self.committees.get(report.committee_id)
        filing = filing_committee(committee)
        period = self._period(filing, report)
        opening = opening_cash(committee, filing, period)
        txns = transactions(filing, self.ledger, earliest_needed(filing, period, opening),
                            period.coverage_through)
        amendment = (Amendment(report.original_fec_id or "", report.amendment_number)
                     if report.amends else None)
        return build_report(filing, period, txns, opening, amendment=amendment)

    @staticmethod
    def _period(filing: FilingCommittee, report: StoredReport) -> ReportPeriod:
        # Checked against the calendar when requested; here only its due date and election.
        return report_period(filing, report.report_code, report.from_day, report.to_day,
                             last_through=report.from_day - timedelta(days=1))

    def _write_build(self, report: StoredReport,
                     built: Report) -> tuple[dict[str, str], dict[str, Any]]:
        """The build's records and its view, as files. The draft is not signed yet, so the
        form record's missing `date_signed` is left out of its errors (finalizing gives it)."""
        view = built.view()
        view["errors"] = [f.view() for f in built.findings.errors if not _unsigned(f, built)]
        view["warnings"] += [f.view() for f in self._committee_warnings(report)]
        build = {"header": built.header, "form": built.form, "rows": built.rows,
                 "sources": built.sources}
        # Each request's build has files of its own: a build overtaken by a newer request
        # leaves its files unused, never overwriting the newer one's.
        stamp = f"{report.created_at:%Y%m%dT%H%M%S%f}"
        files = {"build": _key(report, f"build-{stamp}.json"), "view": _key(report, f"view-{stamp}.json")}
        self._put(files["build"], json.dumps(build).encode(), "application/json")
        self._put(files["view"], json.dumps(view).encode(), "application/json")
        return files, view

    def _committee_warnings(self, report: StoredReport) -> list[Finding]:
        committee = self.committees.get(report.committee_id)
        if committee.opening_cash_as_of is not None:
            return []
        return [Finding("warning", "committee", "opening_cash_on_hand_cents", "not_set",
                        "The committee's opening cash on hand (and the day it was counted) is not "
                        "set: cash on hand is counted from zero.", "committee")]

    # --- finalizing -----------------------------------------------------------------------
    def finalize(self, report_id: str, treasurer: Name, date_signed: date) -> StoredReport:
        """Sign the draft as reviewed and freeze it: its records, validated again with the
        signature, become the `.fec` and JSON Lines files. 409 while errors remain."""
        report = self._get(report_id)
        if report.status == "final":
            raise ReportFinal("report_final", "This report is final; amend it to change it.")
        if report.status != "draft":
            raise NotBuilt("report_not_built", "The report is not built yet (or its build failed: "
                           "ask for it again).")
        build = json.loads(self.files.read(report.files["build"]))
        signature = Signature(date_signed, treasurer)
        form = sign(build["form"], signature)
        header, rows = build["header"], build["rows"]
        findings = validate([header, form, *rows], build["sources"])
        if findings.errors:
            raise ReportHasErrors(
                "report_has_errors",
                f"The report has {len(findings.errors)} error(s) to fix before it is filed.",
                extra={"errors": [f.view() for f in findings.errors[:MAX_FINDINGS_IN_ERROR]]})
        view = json.loads(self.files.read(report.files["view"]))
        warnings = [*findings.warnings, *self._committee_warnings(report)]
        view.update(errors=[], warnings=[f.view() for f in warnings])
        files = {**report.files, "fec": _key(report, "report.fec"),
                 "jsonl": _key(report, "report.jsonl"), "view": _key(report, "final-view.json")}
        self._put(files["fec"], writer.fec_bytes([header, form, *rows]), "text/plain; charset=us-ascii")
        self._put(files["jsonl"], writer.jsonl_bytes([form, *rows]), "application/x-ndjson")
        self._put(files["view"], json.dumps(view).encode(), "application/json")
        if not self.reports.finalized(report_id, files, treasurer.display, date_signed,
                                      len(warnings), self.clock()):
            raise Conflict("report_changed", "The report changed while it was being finalized; "
                           "look at it again.")
        return self._get(report_id)

    def _get(self, report_id: str) -> StoredReport:
        # Not one of our ids (too long for a key, say): no such report, and nothing is read.
        report = self.reports.get(report_id) if REPORT_ID.fullmatch(report_id) else None
        if report is None:
            raise NotFound("report_not_found", f"No report '{report_id}'.")
        return report

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        sink = self.files.open(key, content_type)
        try:
            sink.write(data)
        except BaseException:
            sink.abort()
            raise
        sink.close()


def _unsigned(finding: Finding, built: Report) -> bool:
    return finding.field == "date_signed" and finding.form_type == built.form_type


def _key(report: StoredReport, name: str) -> str:
    return f"reports/{report.committee_id}/{report.report_id}/{name}"
