"""Treasurers' reports in DynamoDB: one item each, state changes guarded by conditions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.errors import Conflict
from chalicelib.fec_reports.model import StoredReport
from chalicelib.fec_reports.service import ReportFinal
from chalicelib.storage.errors import condition_failed
from chalicelib.storage.models import FilingReportModel


class ReportRepository:
    def start(self, report: StoredReport) -> StoredReport:
        m = FilingReportModel
        item = _item(report)
        try:
            item.save(condition=m.report_id.does_not_exist() | (m.status != "final"))
        except PutError as exc:
            if condition_failed(exc):
                raise ReportFinal("report_final", "This report is final; amend it to change "
                                  "it.") from None
            raise
        return report

    def create(self, report: StoredReport) -> None:
        try:
            _item(report).save(condition=FilingReportModel.report_id.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise Conflict("report_exists", "That amendment is being made already; look "
                               "at the committee's reports.") from None
            raise

    def get(self, report_id: str) -> StoredReport | None:
        try:
            return _report(FilingReportModel.get(report_id, consistent_read=True))
        except DoesNotExist:
            return None

    def of_committee(self, committee_id: str) -> list[StoredReport]:
        return [_report(i) for i in FilingReportModel.by_committee.query(committee_id)]

    def built(self, report_id: str, requested_at: datetime, form: str, files: dict[str, str],
              error_count: int, warning_count: int, now: datetime) -> bool:
        m = FilingReportModel
        return _update(report_id, [m.status.set("draft"), m.form.set(form), m.files.set(files),
                                   m.error_count.set(error_count),
                                   m.warning_count.set(warning_count), m.built_at.set(now),
                                   m.error.remove()],
                       (m.status == "building") & (m.created_at == requested_at))

    def failed(self, report_id: str, error: str, now: datetime,
               requested_at: datetime | None = None) -> None:
        m = FilingReportModel
        condition = m.status == "building"
        if requested_at is not None:
            condition = condition & (m.created_at == requested_at)
        _update(report_id, [m.status.set("failed"), m.error.set(error[:500]), m.built_at.set(now)],
                condition)

    def finalized(self, report_id: str, files: dict[str, str], treasurer_name: str,
                  date_signed: date, warning_count: int, now: datetime) -> bool:
        m = FilingReportModel
        return _update(report_id, [m.status.set("final"), m.files.set(files),
                                   m.treasurer_name.set(treasurer_name),
                                   m.date_signed.set(date_signed.isoformat()),
                                   m.error_count.set(0), m.warning_count.set(warning_count),
                                   m.finalized_at.set(now)], m.status == "draft")


def _update(report_id: str, actions: list[Any], condition: Any) -> bool:
    try:
        FilingReportModel(report_id).update(
            actions=actions, condition=FilingReportModel.report_id.exists() & condition)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _item(r: StoredReport) -> FilingReportModel:
    return FilingReportModel(
        r.report_id, committee_id=r.committee_id, report_code=r.report_code,
        from_day=r.from_day.isoformat(), to_day=r.to_day.isoformat(), status=r.status,
        requested_by=r.requested_by, created_at=r.created_at, form=r.form, amends=r.amends,
        original_fec_id=r.original_fec_id, amendment_number=r.amendment_number,
        files=r.files or None, error_count=r.error_count, warning_count=r.warning_count)


def _report(i: FilingReportModel) -> StoredReport:
    return StoredReport(
        report_id=i.report_id, committee_id=i.committee_id, report_code=i.report_code,
        from_day=date.fromisoformat(i.from_day), to_day=date.fromisoformat(i.to_day),
        status=i.status,  # type: ignore[arg-type]
        requested_by=i.requested_by, created_at=i.created_at, form=i.form, amends=i.amends,
        original_fec_id=i.original_fec_id, amendment_number=int(i.amendment_number or 0),
        files=dict(i.files or {}), error_count=int(i.error_count or 0),
        warning_count=int(i.warning_count or 0), error=i.error, built_at=i.built_at,
        treasurer_name=i.treasurer_name,
        date_signed=date.fromisoformat(i.date_signed) if i.date_signed else None,
        finalized_at=i.finalized_at)
