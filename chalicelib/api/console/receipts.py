"""Finance's console pages for receipts from outside the pages (issue 14): one gift entered by
hand (a check, cash, a wire, in kind, through a conduit) and a CSV import checked, then
committed. The same models, rules and services as `POST /api/admin/contributions` and
`POST /api/admin/contributions/import` (docs/reports.md)."""

from __future__ import annotations

import uuid

from chalice.app import Response

from chalicelib import deps, logs
from chalicelib.api.console.web import (
    FINANCE,
    FORM,
    console,
    field,
    form,
    redirect,
    render,
    request,
    staff_page,
)
from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.staff.signin import SignedIn

METHODS = (("check", "Check"), ("cash", "Cash"), ("wire", "Wire"), ("in_kind", "In kind"),
           ("conduit", "Through a conduit (earmarked)"))


@console.route("/admin/receipts", methods=["GET"])
@staff_page(FINANCE)
def receipts(signed: SignedIn) -> Response:
    return _entry_page(signed, {"method": "check", "idempotency_key": _new_key()}, {})


@console.route("/admin/receipts", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def record_receipt(signed: SignedIn) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.console.forms import cents
    from chalicelib.giving.imports import COLUMNS, column_of, entry_body
    from chalicelib.giving.offline import OfflineContribution

    data = form(request())
    values = {name: field(data, name) for name in (*COLUMNS, "amount")}
    values["idempotency_key"] = values["idempotency_key"] or _new_key()
    amount = cents(values["amount"]) if values["amount"] else None
    if amount is None:
        return _entry_page(signed, values, {"amount": "an amount in dollars, such as 250 or 25.50"},
                           status=400)
    try:
        entry = validated(OfflineContribution, entry_body({**values, "amount_cents": str(amount)}))
        donation = deps.giving_service().record_offline(entry)
    except DomainError as err:
        errors = {("amount" if column_of(k) == "amount_cents" else column_of(k)): v
                  for k, v in err.fields.items()}
        rule = err.extra.get("rule")
        errors["form"] = err.message + (f" ({rule})" if rule else "")
        return _entry_page(signed, values, errors, status=400 if err.kind == "invalid" else 422)
    logs.info("offline contribution recorded", donation_id=donation.donation_id,
              method=entry.method, amount_cents=donation.amount_cents, via="console")
    return redirect(f"/admin/donations/{donation.donation_id}")


def _entry_page(signed: SignedIn, values: dict[str, str], errors: dict[str, str],
                status: int = 200) -> Response:
    return render("console/receipts.html", signed, status, values=values, errors=errors,
                  methods=METHODS)


def _new_key() -> str:
    """One form, one gift: the key is made with the form, so sending it twice records once."""
    return "console-" + uuid.uuid4().hex


@console.route("/admin/receipts/import", methods=["GET"])
@staff_page(FINANCE)
def receipts_import(signed: SignedIn) -> Response:
    return _import_page(signed, "", None, None)


@console.route("/admin/receipts/import", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def run_import(signed: SignedIn) -> Response:
    from chalicelib.giving.imports import read_rows
    from chalicelib.giving.offline_import import ImportHasErrors

    data = form(request())
    text, commit = field(data, "csv"), field(data, "action") == "commit"
    try:
        rows = read_rows(text.encode("utf-8"), settings().import_max_rows)
        report = deps.offline_import().run(rows, dry_run=not commit)
    except ImportHasErrors as err:
        return _import_page(signed, text, err.extra["report"], None, status=422)
    except DomainError as err:
        details = "; ".join(f"{k}: {v}" for k, v in err.fields.items())
        problem = err.message + (f" ({details})" if details else "")
        if "line" in err.extra:
            problem = f"Line {err.extra['line']}: {problem}"
        return _import_page(signed, text, None, problem, status=400 if err.kind == "invalid" else 422)
    logs.info("contributions import", dry_run=report.dry_run, rows=report.rows,
              errors=len(report.errors), committed=report.committed, via="console")
    return _import_page(signed, text, report.view(), None)


def _import_page(signed: SignedIn, text: str, report: object, problem: str | None,
                 status: int = 200) -> Response:
    from chalicelib.giving.imports import COLUMNS, REQUIRED_COLUMNS

    return render("console/receipts_import.html", signed, status, text=text, report=report,
                  problem=problem, columns=COLUMNS, required=REQUIRED_COLUMNS,
                  max_rows=settings().import_max_rows)
