"""Importing a file of offline contributions: every row checked before anything is written,
then (unless it is a dry run) each row recorded through the single entry's own path
(`GivingService.record_offline`), so a committed row is idempotent by its key.

The check is the single entry's, row by row (`plan_offline`: the model, anonymous gifts, the
designation, a reused key), plus the limits the commit would enforce, counted across the rows
of the file as well as against what is already given: each person's net giving for the limit
period (`compliance.limits.ceiling`) and their cash for the election (`CASH_LIMIT_CENTS`). Rows
recorded before (the same key, the same content) add nothing and are reported as such."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.compliance.limits import OverLimit, ceiling
from chalicelib.compliance.offline import CASH_LIMIT_CENTS, CashOverLimit, cash_scope
from chalicelib.errors import DomainError, InvalidInput
from chalicelib.giving.imports import ImportRow, RowError
from chalicelib.giving.service import GivingService, OfflinePlan


@dataclass(frozen=True)
class RowResult:
    line: int
    donation_id: str
    idempotency_key: str
    key_derived: bool
    status: str  # "new" (dry run: would be recorded), "recorded", "already_recorded"

    def view(self) -> dict[str, Any]:
        return {"line": self.line, "donation_id": self.donation_id,
                "idempotency_key": self.idempotency_key, "key_derived": self.key_derived,
                "status": self.status}


@dataclass(frozen=True)
class ImportReport:
    dry_run: bool
    rows: int
    errors: list[RowError] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)
    total_cents: int = 0  # of the rows new in this file

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def committed(self) -> bool:
        return not self.dry_run and self.ok

    def view(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "committed": self.committed, "ok": self.ok,
                "rows": self.rows, "total_cents": self.total_cents,
                "errors": [e.view() for e in self.errors],
                "results": [r.view() for r in self.results]}


class ImportHasErrors(DomainError):
    kind = "rule"

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import_has_errors",
                         f"{len(report.errors)} row(s) have errors; nothing was written.",
                         extra={"report": report.view()})


class OfflineImport:
    def __init__(self, giving: GivingService) -> None:
        self.giving = giving

    def run(self, rows: Sequence[ImportRow], dry_run: bool = True) -> ImportReport:
        """Check every row; then, unless `dry_run`, record each. A commit with any error
        writes nothing (ImportHasErrors, 422, with the report)."""
        checked = self.check(rows)
        if dry_run:
            return checked
        if not checked.ok:
            raise ImportHasErrors(checked)
        results: list[RowResult] = []
        for row, result in zip(rows, checked.results, strict=True):
            assert row.entry is not None
            try:
                recorded = self.giving.record_offline(row.entry)
            except DomainError as err:  # changed since the check (another gift used the limit)
                err.extra = {**err.extra, "line": row.line,
                             "recorded": [r.view() for r in results]}
                raise
            results.append(RowResult(row.line, recorded.donation_id, row.entry.idempotency_key,
                                     row.derived_key,
                                     "recorded" if result.status == "new" else result.status))
        return ImportReport(False, checked.rows, [], results, checked.total_cents)

    def check(self, rows: Sequence[ImportRow]) -> ImportReport:
        errors: list[RowError] = []
        results: list[RowResult] = []
        seen: dict[str, int] = {}  # donation id -> the line that has it
        counted: dict[tuple[str, str], int] = {}  # (person, scope) -> net so far, this file in
        total = 0
        for row in rows:
            if row.error is not None:
                errors.append(row.error)
                continue
            entry = row.entry
            assert entry is not None
            try:
                planned = self.giving.plan_offline(entry)
            except DomainError as err:
                errors.append(RowError.of(row.line, err))
                continue
            donation = planned.donation
            first = seen.setdefault(donation.donation_id, row.line)
            if first != row.line:
                errors.append(RowError.of(row.line, _repeated(first, row.derived_key)))
                continue
            if planned.existing is None:
                problem = self._over_a_limit(planned, counted)
                if problem is not None:
                    errors.append(RowError.of(row.line, problem))
                    continue
                total += donation.amount_cents
            results.append(RowResult(row.line, donation.donation_id, entry.idempotency_key,
                                     row.derived_key,
                                     "new" if planned.existing is None else "already_recorded"))
        return ImportReport(True, len(rows), errors, results if not errors else [], total)

    def _over_a_limit(self, planned: OfflinePlan,
                      counted: dict[tuple[str, str], int]) -> DomainError | None:
        """The limits the commit enforces, with the file's earlier rows counted in: the person's
        net giving for the period, and for cash their cash for the election. Counts the row
        when it fits."""
        d, limit = planned.donation, planned.committee.limit_cents
        cents = d.amount_cents
        checks: list[tuple[tuple[str, str], int, DomainError]] = [
            ((d.donor_id, d.limit_scope), limit, OverLimit())]
        if d.channel == "cash":
            checks.append(((d.donor_id, cash_scope(d.limit_scope, d.election)), CASH_LIMIT_CENTS,
                           CashOverLimit()))
        for key, at_most, error in checks:
            if key not in counted:
                counted[key] = self.giving.store.aggregate_net(*key)
            if not ceiling(at_most, cents).allows(counted[key]):
                return error
        for key, _, _ in checks:
            counted[key] += cents
        return None


def _repeated(first_line: int, derived: bool) -> InvalidInput:
    if derived:
        return InvalidInput("duplicate_row", f"This row is the same as line {first_line}. Two "
                            "gifts alike need an idempotency_key each.",
                            fields={"idempotency_key": f"same content as line {first_line}"})
    return InvalidInput("duplicate_row", f"This row's idempotency_key is line {first_line}'s.",
                        fields={"idempotency_key": f"already used on line {first_line}"})

