"""Reports to the FEC for finance: build one, review it, finalize it, download it, amend it; the
SQS handler that builds each; 48-hour notices to list, download and record as filed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from chalice.app import Blueprint, Response, SQSEvent

from chalicelib import deps, logs
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.config import queue_name
from chalicelib.errors import InvalidInput
from chalicelib.pages.model import isoformat_utc

fec_reports = Blueprint(__name__)
FINANCE = ("finance",)


@fec_reports.route("/api/admin/reports", methods=["POST"])
@handles_errors
def request_report() -> Response:
    from chalicelib.fec_reports.input import ReportRequest

    staff = require_staff(fec_reports.current_request, *FINANCE)
    data = validated(ReportRequest, read_json(fec_reports.current_request))
    report = deps.fec_report_service().request(data.committee_id, data.report_code, data.from_day,
                                               data.to_day, requested_by=staff.name)
    logs.info("report requested", report_id=report.report_id, report_code=report.report_code)
    return json_response({"report_id": report.report_id, "status": report.status}, 202,
                         headers={"Location": f"/api/admin/reports/{report.report_id}"})


@fec_reports.route("/api/admin/reports", methods=["GET"])
@handles_errors
def list_reports() -> Response:
    """`?committee_id=` (required): the committee's reports and amendments, newest first."""
    require_staff(fec_reports.current_request, *FINANCE)
    params: Mapping[str, str] = fec_reports.current_request.query_params or {}
    committee_id = _committee_param(params, required=True)
    assert committee_id is not None
    service = deps.fec_report_service()
    return json_response({"reports": [service.summary(r) for r in service.of_committee(committee_id)]})


@fec_reports.route("/api/admin/reports/{report_id}", methods=["GET"])
@handles_errors
def get_report(report_id: str) -> Response:
    require_staff(fec_reports.current_request, *FINANCE)
    return json_response(deps.fec_report_service().view(report_id))


@fec_reports.route("/api/admin/reports/{report_id}/finalize", methods=["POST"])
@handles_errors
def finalize_report(report_id: str) -> Response:
    from chalicelib.fec_reports.input import FinalizeRequest

    require_staff(fec_reports.current_request, *FINANCE)
    data = validated(FinalizeRequest, read_json(fec_reports.current_request))
    service = deps.fec_report_service()
    service.finalize(report_id, data.treasurer, data.date_signed)
    logs.info("report finalized", report_id=report_id)
    return json_response(service.view(report_id))


@fec_reports.route("/api/admin/reports/{report_id}/file", methods=["GET"])
@handles_errors
def report_files(report_id: str) -> Response:
    require_staff(fec_reports.current_request, *FINANCE)
    files = deps.fec_report_service().files_of(report_id)
    return json_response({"fec_url": files.fec_url, "jsonl_url": files.jsonl_url,
                          "expires_at": isoformat_utc(files.expires_at)})


@fec_reports.route("/api/admin/reports/{report_id}/amend", methods=["POST"])
@handles_errors
def amend_report(report_id: str) -> Response:
    from chalicelib.fec_reports.input import AmendRequest

    staff = require_staff(fec_reports.current_request, *FINANCE)
    data = validated(AmendRequest, read_json(fec_reports.current_request))
    amendment = deps.fec_report_service().amend(report_id, data.fec_report_id, staff.name)
    logs.info("amendment requested", report_id=amendment.report_id, amends=report_id)
    return json_response({"report_id": amendment.report_id, "status": amendment.status,
                          "amends": report_id}, 202,
                         headers={"Location": f"/api/admin/reports/{amendment.report_id}"})


@fec_reports.route("/api/admin/notices", methods=["GET"])
@handles_errors
def list_notices() -> Response:
    """`?committee_id=`: that committee's 48-hour notices only."""
    require_staff(fec_reports.current_request, *FINANCE)
    params: Mapping[str, str] = fec_reports.current_request.query_params or {}
    notices = deps.notice_service().list(_committee_param(params, required=False))
    return json_response({"notices": [n.view() for n in notices]})


@fec_reports.route("/api/admin/notices/{notice_id}/file", methods=["GET"])
@handles_errors
def notice_file(notice_id: str) -> Response:
    require_staff(fec_reports.current_request, *FINANCE)
    url, expires_at = deps.notice_service().file_url(notice_id)
    return json_response({"fec_url": url, "expires_at": isoformat_utc(expires_at)})


@fec_reports.route("/api/admin/notices/{notice_id}/filed", methods=["POST"])
@handles_errors
def notice_filed(notice_id: str) -> Response:
    require_staff(fec_reports.current_request, *FINANCE)
    notice = deps.notice_service().mark_filed(notice_id)
    logs.info("notice filed", notice_id=notice_id)
    return json_response(notice.view())


def _committee_param(params: Mapping[str, str], *, required: bool) -> str | None:
    committee_id = params.get("committee_id") or None
    if committee_id is None and required:
        raise InvalidInput("invalid_request", "Name the committee.",
                           fields={"committee_id": "required"})
    if committee_id is not None and not re.fullmatch(r"C\d{8}", committee_id):
        raise InvalidInput("invalid_request", "Unknown committee.",
                           fields={"committee_id": "must be an FEC committee id such as C00123456"})
    return committee_id


@fec_reports.on_sqs_message(queue=queue_name("reports"), batch_size=1)
def build_report(event: SQSEvent) -> None:
    """Build each queued report. A failed build is recorded on the report and not retried (the
    message is consumed); finance asks for the report again."""
    for record in event:
        try:
            report_id = str(json.loads(record.body)["report_id"])
        except (ValueError, KeyError, TypeError):
            logs.warning("not a report message")
            continue
        try:
            report = deps.fec_report_service().run(report_id)
        except Exception:
            logs.exception("report build failed", report_id=report_id)
            continue
        if report is None:
            logs.info("report not building", report_id=report_id)
        else:
            logs.info("report built", report_id=report_id, errors=report.error_count,
                      warnings=report.warning_count)
