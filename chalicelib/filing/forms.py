"""The records that open a file: the `HDR` header and the report's form record (F3N/F3A,
F3XN/F3XA) with the committee, treasurer, report code, coverage, election and every summary line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.filing import text as t
from chalicelib.filing.calendar import ReportPeriod
from chalicelib.filing.fec import FEC_VERSION
from chalicelib.filing.model import FilingCommittee, Name
from chalicelib.filing.records import Record, compact, name_fields
from chalicelib.filing.summary import Summary

SOFTWARE = "Groundswell"
SOFTWARE_VERSION = "1.0"
COMMITTEE_NAME = 200
COMMENT = 200


@dataclass(frozen=True)
class Amendment:
    """An amendment of a report already filed: the FEC's id of that report (`FEC-1234567`) and
    which amendment this is."""

    original_report_id: str
    number: int = 1


@dataclass(frozen=True)
class Signature:
    """The treasurer's signature: the day signed and, when not the committee's treasurer on
    file, the name as signed."""

    date_signed: date
    treasurer: Name | None = None


def header(comment: str = "", amendment: Amendment | None = None) -> Record:
    """The `HDR` record that opens every `.fec` file; an amendment's names the report it amends."""
    return compact({
        "record_type": "HDR", "ef_type": "FEC", "fec_version": FEC_VERSION,
        "soft_name": SOFTWARE, "soft_ver": SOFTWARE_VERSION,
        "rpt_id": amendment.original_report_id if amendment else None,
        "rpt_number": str(amendment.number) if amendment else None,
        "hdrcomment": t.fit(comment, COMMENT) or None,
    })


def form_type(committee: FilingCommittee, amendment: Amendment | None) -> str:
    """`F3N`/`F3XN` for a new report, `F3A`/`F3XA` for an amendment."""
    return committee.form + ("A" if amendment else "N")


def report_form(committee: FilingCommittee, period: ReportPeriod, summary: Summary,
                signature: Signature | None = None, amendment: Amendment | None = None) -> Record:
    """The form record: who files, for which period and election, signed by whom, and every
    line of columns A and B."""
    treasurer = (signature.treasurer if signature and signature.treasurer else committee.treasurer)
    a = committee.address
    street_1, street_2 = t.streets(a.line1, a.line2)
    record: Record = {
        "form_type": form_type(committee, amendment),
        "filer_committee_id_number": committee.fec_id,
        "committee_name": t.fit(committee.name, COMMITTEE_NAME),
        "street_1": street_1, "street_2": street_2,
        "city": t.fit(a.city, t.CITY), "state": t.state(a.state), "zip": t.zip_code(a.zip),
        "report_code": period.report_code,
        "coverage_from_date": period.coverage_from.isoformat(),
        "coverage_through_date": period.coverage_through.isoformat(),
        **name_fields(treasurer, "treasurer"),
        "date_signed": signature.date_signed.isoformat() if signature else None,
    }
    candidate = committee.candidate
    if committee.form == "F3" and candidate:
        record["election_state"] = t.state(candidate.state)
        record["election_district"] = candidate.district if candidate.office == "H" else None
    if period.election:
        election = period.election
        state = election.state or (candidate.state if candidate else None)
        record.update({"election_code": election.code, "date_of_election": election.date.isoformat(),
                       "state_of_election": t.state(state) if state else None})
    if committee.form == "F3X":
        record["L6a_year_for_above_ytd"] = str(summary.year)
    record.update(summary.dollars())
    return compact(record)


def sign(form: Record, signature: Signature) -> Record:
    """The form record `form` (as `report_form` made it) signed: dated, and under the
    treasurer's name as signed when it is given. Nothing else changes, so a report reviewed as a
    draft is filed with exactly the values reviewed."""
    signed = {k: v for k, v in form.items()
              if not (signature.treasurer and k.startswith("treasurer_"))}
    if signature.treasurer:
        signed.update(name_fields(signature.treasurer, "treasurer"))
    signed["date_signed"] = signature.date_signed.isoformat()
    return compact(signed)
