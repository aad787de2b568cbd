"""Exports for finance: request one, follow it, download it; the SQS handler that runs it."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response, SQSEvent

from chalicelib import deps, logs, metrics
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated
from chalicelib.config import queue_name
from chalicelib.pages.model import isoformat_utc

if TYPE_CHECKING:
    from chalicelib.exports.service import ExportView

exports = Blueprint(__name__)
FINANCE = ("finance",)


@exports.route("/api/exports", methods=["POST"])
@handles_errors
def request_export() -> Response:
    from chalicelib.exports.input import ExportRequest

    staff = require_staff(exports.current_request, *FINANCE)
    data = validated(ExportRequest, read_json(exports.current_request))
    job = deps.export_service().request(data.kind, data.from_day, data.to_day, data.committee_id,
                                        requested_by=staff.name)
    logs.info("export requested", export_id=job.export_id, kind=job.kind)
    return json_response({"export_id": job.export_id, "status": job.status}, 202,
                         headers={"Location": f"/api/exports/{job.export_id}"})


@exports.route("/api/exports/{export_id}", methods=["GET"])
@handles_errors
def get_export(export_id: str) -> Response:
    require_staff(exports.current_request, *FINANCE)
    return json_response(export_view(deps.export_service().view(export_id)))


@exports.on_sqs_message(queue=queue_name("exports"), batch_size=1)
def run_export(event: SQSEvent) -> None:
    """Run each queued export. A failed run is recorded on the job and not retried (the message
    is consumed); finance requests the export again."""
    for record in event:
        try:
            export_id = str(json.loads(record.body)["export_id"])
        except (ValueError, KeyError, TypeError):
            logs.warning("not an export message")
            continue
        started = time.monotonic()
        try:
            job = deps.export_service().run(export_id)
        except Exception:
            logs.exception("export failed", export_id=export_id)
            continue
        if job is None:
            logs.info("export already taken", export_id=export_id)
        else:
            metrics.count(metrics.EXPORT_SECONDS, round(time.monotonic() - started, 3), kind=job.kind)
            logs.info("export done", export_id=export_id, rows=job.row_count)


def export_view(view: ExportView) -> dict[str, object]:
    job = view.job
    body: dict[str, object] = {
        "export_id": job.export_id,
        "kind": job.kind,
        "status": job.status,
        "committee_id": job.committee_id,
        "from": job.from_day.isoformat(),
        "to": job.to_day.isoformat(),
        "row_count": job.row_count,
        "rows_done": job.rows_done,
        "download_url": view.download_url,
        "expires_at": isoformat_utc(view.expires_at) if view.expires_at else None,
        "summary": job.summary,
        "created_at": isoformat_utc(job.created_at),
        "finished_at": isoformat_utc(job.finished_at) if job.finished_at else None,
    }
    if job.kind == "fec_schedule_a":
        body["jsonl_url"] = view.jsonl_url
    if job.error:
        body["error"] = job.error
    return body
