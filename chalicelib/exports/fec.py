"""The `fec_schedule_a` export's rows and file, written by the filing package's one FEC writer.

The export is an extract for the committee's filing software, not a report: the movements of a
date range become `SA11AI` rows (and, for a PAC, `SB28A` refunds) through `chalicelib.filing`'s
row builders, and its `.fec` file is the `HDR` record, a summary record (F3N or F3XN) carrying
only the coverage dates and the line 11(a) and refund totals, then the rows. The complete report
(every line, the treasurer, amendments) is `chalicelib.filing.report`. See docs/exports.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from chalicelib.exports.model import DonorFacts, ExportEntry
from chalicelib.filing import fec as writer
from chalicelib.filing import forms, records
from chalicelib.filing import text as t
from chalicelib.filing.ids import transaction_id
from chalicelib.filing.model import (
    Address,
    Contributor,
    FormName,
    Name,
    Reattribution,
    Receipt,
    Redesignation,
    Refund,
)
from chalicelib.filing.money import dollars, dollars_text
from chalicelib.filing.schemas import layout
from chalicelib.filing.summary import field_name

FEC_VERSION = writer.FEC_VERSION
SEPARATOR = writer.SEPARATOR
lines_bytes = writer.lines_bytes
__all__ = ["FEC_VERSION", "SEPARATOR", "dollars", "dollars_text", "fec_line", "header_line",
           "lines_bytes", "report_form", "schedule_a", "schedule_b_refund", "summary_line",
           "transaction_id"]


def __getattr__(name: str) -> tuple[str | None, ...]:
    # The layouts come from the FEC's schemas, read on first use rather than at import.
    if name == "SA11AI_FIELDS":
        return layout("SA11AI").fields
    if name == "SB28A_FIELDS":
        return layout("SB28A").fields
    raise AttributeError(name)


def report_form(committee_type: str) -> FormName:
    """The report a committee files: Form 3 (candidate) or Form 3X (PAC)."""
    return "F3X" if committee_type == "pac" else "F3"


def contributor(donor: DonorFacts) -> Contributor:
    """The donor as the FEC's contributor fields take them."""
    return Contributor(Name(donor.first_name, donor.last_name),
                       Address(donor.address_line1, donor.city, donor.state, donor.zip,
                               donor.address_line2),
                       donor.employer, donor.occupation)


def schedule_a(entry: ExportEntry, committee_id: str, committee_type: str) -> dict[str, Any]:
    """An itemized individual contribution (form type SA11AI) in the FEC's JSON field names;
    its date is the contribution's UTC day, as the export's range is in UTC days."""
    return schedule_a_rows(entry, committee_id, committee_type)[0]


def schedule_a_rows(entry: ExportEntry, committee_id: str, committee_type: str,
                    their_aggregate_cents: int = 0) -> list[dict[str, Any]]:
    """The contribution's SA11AI row and, for a standing redesignation or a confirmed
    reattribution of part of it, the row tagged REDESIGNATED / REATTRIBUTED and followed by
    its two memo entries (the report's own builders, `records.redesignation_memos` and
    `reattribution_memos`, with the ids the report gives them). `their_aggregate_cents` is the
    other person's aggregate before a reattribution, as the export replays it."""
    m, d = entry.movement, entry.donation
    filer = records.Filer(committee_id, report_form(committee_type))
    election = d.election or m.election
    receipt = Receipt(transaction_id("SA", m.donation_id), m.occurred_at.date(), m.amount_cents,
                      contributor(d.donor), entry.aggregate_cents, election=election)
    memos: list[Redesignation | Reattribution] = []
    if d.redesignated_cents and d.redesignated_to and d.redesignated_on and election:
        memos.append(Redesignation(transaction_id("SA", f"{m.donation_id}#redesignation"),
                                   d.redesignated_on, receipt, d.redesignated_cents, election,
                                   d.redesignated_to))
    if d.reattributed_cents and d.reattributed_to and d.reattributed_on:
        memos.append(Reattribution(transaction_id("SA", f"{m.donation_id}#reattribution"),
                                   d.reattributed_on, receipt, d.reattributed_cents,
                                   contributor(d.reattributed_to),
                                   entry.aggregate_cents - d.reattributed_cents,
                                   their_aggregate_cents + d.reattributed_cents))
    tag: records.Tag | None = None
    if memos:
        tag = "REDESIGNATED" if isinstance(memos[0], Redesignation) else "REATTRIBUTED"
    rows = [records.receipt_row(filer, receipt, tag=tag)]
    for memo in memos:
        rows += (records.redesignation_memos(filer, memo) if isinstance(memo, Redesignation)
                 else records.reattribution_memos(filer, memo))
    return rows


def schedule_b_refund(entry: ExportEntry, committee_id: str) -> dict[str, Any]:
    """A PAC's refund of an individual's contribution (form type SB28A), amount positive."""
    m, d = entry.movement, entry.donation
    refund = Refund(transaction_id("SB", m.movement_id), m.occurred_at.date(), -m.amount_cents,
                    contributor(d.donor), (d.paid_at or m.occurred_at).date(),
                    excess=bool(d.excess_refund_reason))
    return records.refund_row(records.Filer(committee_id, "F3X"), refund)


def fec_line(row: Mapping[str, Any]) -> str:
    """One `.fec` record (no line end)."""
    return writer.fec_line(row)


def header_line(comment: str) -> str:
    """The `HDR` record that opens every `.fec` file."""
    return writer.fec_line(forms.header(comment))


def summary_line(committee_id: str, committee_name: str, committee_type: str, from_day: date,
                 to_day: date, itemized_cents: int, unitemized_cents: int,
                 refunds_cents: int) -> str:
    """The export's summary record: coverage dates and line 11(a)(i) itemized, 11(a)(ii)
    unitemized, 11(a)(iii) total individual contributions, and refunds to individuals (F3 line
    20(a), F3X line 28(a)); the rest of the report is completed in the filing software."""
    form = report_form(committee_type)
    lines = {"11ai": itemized_cents, "11aii": unitemized_cents,
             "11aiii": itemized_cents + unitemized_cents, "20a" if form == "F3" else "28a": refunds_cents}
    record = {"form_type": form + "N", "filer_committee_id_number": committee_id,
              "committee_name": t.fit(committee_name, forms.COMMITTEE_NAME),
              "coverage_from_date": from_day.isoformat(), "coverage_through_date": to_day.isoformat(),
              **{field_name(form, line): dollars(cents) for line, cents in lines.items()}}
    return writer.fec_line(record)
