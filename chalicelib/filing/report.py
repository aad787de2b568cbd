"""A report, built: the period's summary, its records, the files, and what is wrong with them.

`build_report` is the whole pipeline: the summary lines (`summary`), the itemized rows
(`schedules`), the header and form record (`forms`), validation against the FEC's schemas
(`validation`), and the two files (`fec`). It is a pure function of its inputs, so building the
same report again gives the same file, and an amendment built from the same transactions keeps
every unchanged row's transaction id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from chalicelib.filing import fec
from chalicelib.filing.calendar import ReportPeriod
from chalicelib.filing.forms import Amendment, Signature, form_type, header, report_form
from chalicelib.filing.model import FilingCommittee, OpeningCash, Transaction
from chalicelib.filing.records import Record
from chalicelib.filing.schedules import schedules
from chalicelib.filing.summary import Summary, summarize
from chalicelib.filing.validation import Findings, validate


@dataclass(frozen=True)
class Report:
    """A report ready to review or file."""

    committee: FilingCommittee
    period: ReportPeriod
    form_type: str
    summary: Summary
    header: Record
    form: Record
    rows: list[Record]
    counts: dict[str, int]
    findings: Findings
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> dict[str, float]:
        """Every summary line of columns A and B in dollars, under its schema name."""
        return self.summary.dollars()

    @property
    def records(self) -> list[Record]:
        """The form record, then every row (the JSON Lines file's order)."""
        return [self.form, *self.rows]

    def transaction_ids(self) -> list[str]:
        return [row["transaction_id"] for row in self.rows]

    def fec_bytes(self) -> bytes:
        """The `.fec` file: `HDR`, the form record, the rows."""
        return fec.fec_bytes([self.header, *self.records])

    def jsonl_bytes(self) -> bytes:
        """The JSON Lines file: one object per record, the form record first."""
        return fec.jsonl_bytes(self.records)

    def view(self) -> dict[str, Any]:
        """What the API shows of a report."""
        return {"form": self.form_type, "report_code": self.period.report_code,
                "coverage_from": self.period.coverage_from.isoformat(),
                "coverage_through": self.period.coverage_through.isoformat(),
                "due": self.period.due.isoformat(), "lines": self.lines, "counts": self.counts,
                "errors": [f.view() for f in self.findings.errors],
                "warnings": [f.view() for f in self.findings.warnings]}


def earliest_needed(committee: FilingCommittee, period: ReportPeriod, opening: OpeningCash) -> date:
    """The first day whose transactions `build_report` needs: the start of column B and of the
    aggregation period, or the day the opening cash is counted from, whichever is earlier."""
    return min(committee.aggregation_start(period.coverage_from), opening.as_of)


def build_report(committee: FilingCommittee, period: ReportPeriod, transactions: Iterable[Transaction],
                 opening: OpeningCash, *, signature: Signature | None = None,
                 amendment: Amendment | None = None) -> Report:
    """The report of `period`. `transactions` must hold every transaction from
    `earliest_needed(…)` through the period's end (later ones are left out). Without a
    `signature` the form record has no `date_signed`, which validation reports as an error: a
    report is signed to be filed."""
    kept = [t for t in transactions if t.date <= period.coverage_through]
    summary = summarize(committee, period, kept, opening)
    rows = schedules(committee, period, kept)
    head = header(f"{committee.form} {period.report_code} {period.coverage_from.isoformat()} to "
                  f"{period.coverage_through.isoformat()}", amendment)
    form = report_form(committee, period, summary, signature, amendment)
    findings = validate([head, form, *rows.rows], rows.sources)
    return Report(committee, period, form_type(committee, amendment), summary, head, form, rows.rows,
                  rows.counts(), findings, rows.sources)
