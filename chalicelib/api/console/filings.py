"""Finance's console pages for reports to the FEC: ask for a period, watch it build, read its
summary lines with their errors and warnings, finalize it, download its files, amend it. The
same service and rules as `/api/admin/reports` (chalicelib/fec_reports/)."""

from __future__ import annotations

from chalice.app import Response

from chalicelib import deps, logs
from chalicelib.api.console.web import (
    FINANCE,
    FORM,
    console,
    field,
    form,
    params,
    redirect,
    render,
    request,
    staff_page,
)
from chalicelib.api.http import validated
from chalicelib.compliance.committees import COMMITTEE_ID
from chalicelib.errors import InvalidInput
from chalicelib.staff.signin import SignedIn

NOTICES_PER_PAGE = 25


@console.route("/admin/filings", methods=["GET"])
@staff_page(FINANCE)
def filings(signed: SignedIn) -> Response:
    committee_id = params(request()).get("committee_id", "").strip()
    return _filings_page(signed, {"committee_id": committee_id}, {})


@console.route("/admin/filings", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def request_filing(signed: SignedIn) -> Response:
    from chalicelib.fec_reports.input import ReportRequest

    data = form(request())
    values = {k: field(data, k) for k in ("committee_id", "report_code", "from", "to")}
    try:
        asked = validated(ReportRequest, {k: v for k, v in values.items() if v})
        report = deps.fec_report_service().request(asked.committee_id, asked.report_code, asked.from_day,
                                                   asked.to_day, requested_by=signed.staff.name)
    except InvalidInput as err:
        return _filings_page(signed, values, err.fields or {"form": err.message}, status=400)
    logs.info("report requested", report_id=report.report_id, report_code=report.report_code, via="console")
    return redirect(f"/admin/filings/{report.report_id}")


def _filings_page(signed: SignedIn, values: dict[str, str], errors: dict[str, str],
                  status: int = 200) -> Response:
    committee_id = values.get("committee_id", "")
    reports = (deps.fec_report_service().of_committee(committee_id)
               if COMMITTEE_ID.fullmatch(committee_id) else [])
    return render("console/filings.html", signed, status, values=values, errors=errors, reports=reports,
                  building=any(r.status == "building" for r in reports))


@console.route("/admin/filings/{report_id}", methods=["GET"])
@staff_page(FINANCE)
def filing(signed: SignedIn, report_id: str) -> Response:
    return _filing_page(signed, report_id, {}, {})


@console.route("/admin/filings/{report_id}/finalize", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def finalize_filing(signed: SignedIn, report_id: str) -> Response:
    from chalicelib.errors import Conflict
    from chalicelib.fec_reports.input import FinalizeRequest

    data = form(request())
    values = {k: field(data, k) for k in ("treasurer_name", "date_signed")}
    try:
        asked = validated(FinalizeRequest, {k: v for k, v in values.items() if v})
        deps.fec_report_service().finalize(report_id, asked.treasurer, asked.date_signed)
    except InvalidInput as err:
        return _filing_page(signed, report_id, values, err.fields or {"form": err.message}, status=400)
    except Conflict as err:
        return _filing_page(signed, report_id, values, {"form": err.message}, status=409)
    logs.info("report finalized", report_id=report_id, via="console")
    return redirect(f"/admin/filings/{report_id}")


@console.route("/admin/filings/{report_id}/amend", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def amend_filing(signed: SignedIn, report_id: str) -> Response:
    from chalicelib.fec_reports.input import AmendRequest

    data = form(request())
    values = {"fec_report_id": field(data, "fec_report_id")}
    try:
        asked = validated(AmendRequest, values)
        amendment = deps.fec_report_service().amend(report_id, asked.fec_report_id, signed.staff.name)
    except InvalidInput as err:
        return _filing_page(signed, report_id, values, err.fields or {"form": err.message}, status=400)
    logs.info("amendment requested", report_id=amendment.report_id, amends=report_id, via="console")
    return redirect(f"/admin/filings/{amendment.report_id}")


@console.route("/admin/filings/{report_id}/download", methods=["GET"])
@staff_page(FINANCE)
def download_filing(signed: SignedIn, report_id: str) -> Response:
    """A fresh presigned link each time: `?file=fec` (the file to upload) or `?file=jsonl`."""
    files = deps.fec_report_service().files_of(report_id)
    url = files.jsonl_url if params(request()).get("file") == "jsonl" else files.fec_url
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       "Referrer-Policy": "no-referrer"})


def _filing_page(signed: SignedIn, report_id: str, values: dict[str, str], errors: dict[str, str],
                 status: int = 200) -> Response:
    from chalicelib.console.views import summary_lines

    report = deps.fec_report_service().view(report_id)
    return render("console/filing.html", signed, status, report=report, values=values, errors=errors,
                  lines=summary_lines(report.get("lines") or {}))


# --- 48-hour notices ------------------------------------------------------------------------
@console.route("/admin/notices", methods=["GET"])
@staff_page(FINANCE)
def notices(signed: SignedIn) -> Response:
    from datetime import datetime, timezone

    listed = deps.notice_service().list(None)
    start = int(after) if (after := params(request()).get("after", "")).isascii() and after.isdigit() else 0
    shown = listed[start:start + NOTICES_PER_PAGE]
    more = start + NOTICES_PER_PAGE < len(listed)
    return render("console/notices.html", signed, notices=shown, now=datetime.now(timezone.utc),
                  pending=sum(1 for n in listed if n.filed_at is None),
                  next_url=f"/admin/notices?after={start + NOTICES_PER_PAGE}" if more else None)


@console.route("/admin/notices/{notice_id}/download", methods=["GET"])
@staff_page(FINANCE)
def download_notice(signed: SignedIn, notice_id: str) -> Response:
    """The notice's Form 6, signed today, as a fresh presigned link."""
    url, _ = deps.notice_service().file_url(notice_id)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       "Referrer-Policy": "no-referrer"})


@console.route("/admin/notices/{notice_id}/filed", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def notice_filed(signed: SignedIn, notice_id: str) -> Response:
    deps.notice_service().mark_filed(notice_id)
    logs.info("notice filed", notice_id=notice_id, via="console")
    return redirect("/admin/notices")
