"""FEC Schedule A (and, for PACs, Schedule B line 28(a)) rows and the `.fec` file they make.

Each row is built once, as a dict keyed by the FEC's JSON field names (fecfile-validate's
INDIVIDUAL_RECEIPT / INDIVIDUAL_REFUNDS schemas); the JSON Lines file writes it as it is and
the `.fec` line (electronic filing format 8.4, fields separated by ASCII 28) places the same
values in the format's field order. A `.fec` file is: the `HDR` record, one summary record
(F3N for a candidate committee, F3XN for a PAC) carrying the period and the line 11(a) totals,
then one line per row. See docs/exports.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.exports import fec_text as t
from chalicelib.exports.model import ExportEntry

FEC_VERSION = "8.4"
SEPARATOR = "\x1c"
SOFTWARE = "Groundswell"
SOFTWARE_VERSION = "1.0"

# Field order of the format's records, version 8.4 (the FEC's layouts; fecfile reads them back).
HDR_FIELDS = ("record_type", "ef_type", "fec_version", "soft_name", "soft_ver", "report_id",
              "report_number", "comment")
SA11AI_FIELDS = (
    "form_type", "filer_committee_id_number", "transaction_id", "back_reference_tran_id_number",
    "back_reference_sched_name", "entity_type", "contributor_organization_name",
    "contributor_last_name", "contributor_first_name", "contributor_middle_name",
    "contributor_prefix", "contributor_suffix", "contributor_street_1", "contributor_street_2",
    "contributor_city", "contributor_state", "contributor_zip_code", "election_code",
    "election_other_description", "contribution_date", "contribution_amount",
    "contribution_aggregate", "contribution_purpose_descrip", "contributor_employer",
    "contributor_occupation", "donor_committee_fec_id", "donor_committee_name",
    "donor_candidate_fec_id", "donor_candidate_last_name", "donor_candidate_first_name",
    "donor_candidate_middle_name", "donor_candidate_prefix", "donor_candidate_suffix",
    "donor_candidate_office", "donor_candidate_state", "donor_candidate_district", "conduit_name",
    "conduit_street1", "conduit_street2", "conduit_city", "conduit_state", "conduit_zip_code",
    "memo_code", "memo_text_description", "reference_code",
)
SB28A_FIELDS = (
    "form_type", "filer_committee_id_number", "transaction_id_number",
    "back_reference_tran_id_number", "back_reference_sched_name", "entity_type",
    "payee_organization_name", "payee_last_name", "payee_first_name", "payee_middle_name",
    "payee_prefix", "payee_suffix", "payee_street_1", "payee_street_2", "payee_city",
    "payee_state", "payee_zip_code", "election_code", "election_other_description",
    "expenditure_date", "expenditure_amount", "semi_annual_refunded_bundled_amt",
    "expenditure_purpose_descrip", "category_code", "beneficiary_committee_fec_id",
    "beneficiary_committee_name", "beneficiary_candidate_fec_id",
    "beneficiary_candidate_last_name", "beneficiary_candidate_first_name",
    "beneficiary_candidate_middle_name", "beneficiary_candidate_prefix",
    "beneficiary_candidate_suffix", "beneficiary_candidate_office", "beneficiary_candidate_state",
    "beneficiary_candidate_district", "conduit_name", "conduit_street_1", "conduit_street_2",
    "conduit_city", "conduit_state", "conduit_zip_code", "memo_code", "memo_text_description",
    "reference_to_si_or_sl_system_code_that_identifies_the_account",
)
# Where the JSON names differ from the format's names.
_FEC_NAME = {"contributor_zip": "contributor_zip_code", "payee_zip": "payee_zip_code",
             "transaction_id@SB28A": "transaction_id_number"}


@dataclass(frozen=True)
class SummaryLayout:
    """The summary record (F3 or F3X): its length and the positions this export fills."""

    form_type: str
    length: int
    positions: Mapping[str, int]


# Only the period and the individual-contribution lines are known to an export; the rest of
# the report (cash, expenditures, treasurer, signature) is completed in the filing software.
F3_SUMMARY = SummaryLayout("F3N", 93, {
    "committee_name": 2, "coverage_from_date": 15, "coverage_through_date": 16,
    "itemized": 32, "unitemized": 33, "total": 34, "refunds": 51,
})
F3X_SUMMARY = SummaryLayout("F3XN", 123, {
    "committee_name": 2, "coverage_from_date": 13, "coverage_through_date": 14,
    "itemized": 29, "unitemized": 30, "total": 31, "refunds": 56,
})


def report_form(committee_type: str) -> str:
    """The report a committee files: Form 3 (candidate) or Form 3X (PAC)."""
    return "F3X" if committee_type == "pac" else "F3"


def transaction_id(kind: str, source_id: str) -> str:
    """A stable id of at most 20 uppercase characters, the same in every re-export, so
    amendments line up: `SA` + a digest of the donation, `SB` + a digest of the refund."""
    return kind + hashlib.sha256(source_id.encode()).hexdigest()[:18].upper()


def dollars(cents: int) -> float:
    """Dollars with cents as a JSON number (exact to the cent: `2700` → `27.0`)."""
    return round(cents / 100, 2)


def dollars_text(cents: int) -> str:
    """Dollars with two decimals, from integer cents without floating point (`-70` → `-0.70`)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def schedule_a(entry: ExportEntry, committee_id: str, committee_type: str) -> dict[str, Any]:
    """An itemized individual contribution (form type SA11AI) in the FEC's JSON field names."""
    m, donor = entry.movement, entry.donation.donor
    first, middle = t.first_and_middle(donor.first_name)
    street_1, street_2 = t.streets(donor.address_line1, donor.address_line2)
    row: dict[str, Any] = {
        "form_type": "SA11AI",
        "report_type": report_form(committee_type),
        "filer_committee_id_number": committee_id,
        "transaction_type_identifier": "INDIVIDUAL_RECEIPT",
        "transaction_id": transaction_id("SA", m.donation_id),
        "back_reference_tran_id_number": None,
        "back_reference_sched_name": None,
        "entity_type": "IND",
        "contributor_last_name": t.last_name(donor.last_name),
        "contributor_first_name": first,
        "contributor_middle_name": middle,
        "contributor_prefix": None,
        "contributor_suffix": None,
        "contributor_street_1": street_1,
        "contributor_street_2": street_2,
        "contributor_city": t.fit(donor.city, t.CITY),
        "contributor_state": t.state(donor.state),
        "contributor_zip": t.zip_code(donor.zip),
        "contribution_date": m.occurred_at.date().isoformat(),
        "contribution_amount": dollars(m.amount_cents),
        "contribution_aggregate": dollars(entry.aggregate_cents),
        "aggregation_group": "GENERAL",
        "contribution_purpose_descrip": None,
        "contributor_employer": t.employer_or_occupation(donor.employer, t.EMPLOYER),
        "contributor_occupation": t.employer_or_occupation(donor.occupation, t.OCCUPATION),
        "memo_code": None,
        "memo_text_description": None,
    }
    if committee_type != "pac":
        # Form 3 reports which election a contribution is for (`P2026`, `G2026`).
        row["election_code"] = t.fit(entry.donation.election or m.election, 5) or None
    return row


def schedule_b_refund(entry: ExportEntry, committee_id: str) -> dict[str, Any]:
    """A PAC's refund of an individual's contribution (form type SB28A), amount positive."""
    m, d = entry.movement, entry.donation
    donor = d.donor
    first, middle = t.first_and_middle(donor.first_name)
    street_1, street_2 = t.streets(donor.address_line1, donor.address_line2)
    purpose = "Refund of excess contribution" if d.excess_refund_reason else "Refund of contribution"
    received = d.paid_at.date().isoformat() if d.paid_at else None
    return {
        "form_type": "SB28A",
        "report_type": "F3X",
        "filer_committee_id_number": committee_id,
        "transaction_type_identifier": "REFUND_INDIVIDUAL_CONTRIBUTION",
        "transaction_id": transaction_id("SB", m.movement_id),
        "back_reference_tran_id_number": None,
        "back_reference_sched_name": None,
        "entity_type": "IND",
        "payee_organization_name": None,
        "payee_last_name": t.last_name(donor.last_name),
        "payee_first_name": first,
        "payee_middle_name": middle,
        "payee_prefix": None,
        "payee_suffix": None,
        "payee_street_1": street_1,
        "payee_street_2": street_2,
        "payee_city": t.fit(donor.city, t.CITY),
        "payee_state": t.state(donor.state),
        "payee_zip": t.zip_code(donor.zip),
        "expenditure_date": m.occurred_at.date().isoformat(),
        "expenditure_amount": dollars(-m.amount_cents),
        "aggregation_group": "GENERAL",
        "expenditure_purpose_descrip": purpose,
        "category_code": None,
        "memo_code": None,
        "memo_text_description": t.fit(f"Contribution received {received}", t.MEMO) if received else None,
    }


def _fec_value(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "X" if value else ""
    if name.endswith(("_amount", "_aggregate")) and isinstance(value, int | float):
        return dollars_text(round(value * 100))
    if name.endswith("_date") and isinstance(value, str):
        return value.replace("-", "")  # YYYY-MM-DD → YYYYMMDD
    return _clean(str(value))


def _clean(value: str) -> str:
    # The separator and line ends must never appear inside a field; rows are ASCII already.
    return value.replace(SEPARATOR, " ").replace("\r", " ").replace("\n", " ")


def fec_line(row: Mapping[str, Any]) -> str:
    """One `.fec` record (no line end) for a row built by `schedule_a` or `schedule_b_refund`."""
    form = row["form_type"]
    fields = SB28A_FIELDS if form == "SB28A" else SA11AI_FIELDS
    by_fec_name: dict[str, Any] = {}
    for name, value in row.items():
        fec_name = _FEC_NAME.get(f"{name}@{form}") or _FEC_NAME.get(name) or name
        by_fec_name[fec_name] = value
    return SEPARATOR.join(_fec_value(name, by_fec_name.get(name)) for name in fields)


def header_line(comment: str) -> str:
    """The `HDR` record that opens every `.fec` file."""
    values = {"record_type": "HDR", "ef_type": "FEC", "fec_version": FEC_VERSION,
              "soft_name": SOFTWARE, "soft_ver": SOFTWARE_VERSION,
              "comment": t.fit(comment, 200)}
    return SEPARATOR.join(_clean(str(values.get(name, ""))) for name in HDR_FIELDS)


def summary_line(committee_id: str, committee_name: str, committee_type: str, from_day: date,
                 to_day: date, itemized_cents: int, unitemized_cents: int,
                 refunds_cents: int) -> str:
    """The report record: coverage dates and line 11(a)(i) itemized, 11(a)(ii) unitemized,
    11(a)(iii) total individual contributions, and refunds to individuals (F3 line 20(a),
    F3X line 28(a))."""
    layout = F3X_SUMMARY if committee_type == "pac" else F3_SUMMARY
    fields = [""] * layout.length
    fields[0] = layout.form_type
    fields[1] = committee_id
    p = layout.positions
    fields[p["committee_name"]] = _clean(t.fit(committee_name, 200))
    fields[p["coverage_from_date"]] = from_day.strftime("%Y%m%d")
    fields[p["coverage_through_date"]] = to_day.strftime("%Y%m%d")
    fields[p["itemized"]] = dollars_text(itemized_cents)
    fields[p["unitemized"]] = dollars_text(unitemized_cents)
    fields[p["total"]] = dollars_text(itemized_cents + unitemized_cents)
    fields[p["refunds"]] = dollars_text(refunds_cents)
    return SEPARATOR.join(fields)


def lines_bytes(lines: Sequence[str]) -> bytes:
    """Records as the file's bytes: ASCII, one per line, LF line ends."""
    return "".join(line + "\n" for line in lines).encode("ascii", errors="replace")
