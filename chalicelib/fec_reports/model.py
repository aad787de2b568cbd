"""A treasurer's report as stored: what was asked for, where it stands, and where its files are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

# building: queued or being built; draft: built, to review; final: signed and frozen;
# failed: the build could not finish (asking again rebuilds it).
ReportStatus = Literal["building", "draft", "final", "failed"]


@dataclass(frozen=True)
class StoredReport:
    """One report of one committee's calendar, or an amendment of one (`amends` names the report
    it amends, `original_fec_id` the id the FEC gave that report's filing)."""

    report_id: str
    committee_id: str
    report_code: str
    from_day: date
    to_day: date
    status: ReportStatus
    requested_by: str
    created_at: datetime
    form: str | None = None  # F3N, F3XN, F3A, F3XA once built
    amends: str | None = None
    original_fec_id: str | None = None
    amendment_number: int = 0
    # role -> object key: "build" (the records, for finalizing), "view" (what GET shows),
    # and once final "fec" and "jsonl" (the files to upload).
    files: dict[str, str] = field(default_factory=dict)
    error_count: int = 0
    warning_count: int = 0
    error: str | None = None
    built_at: datetime | None = None
    treasurer_name: str | None = None
    date_signed: date | None = None
    finalized_at: datetime | None = None
