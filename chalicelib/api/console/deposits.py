"""Finance's deposits page: bank deposits of the gifts entered by hand, looked up by batch or
chosen from the latest declared, each with what its entries add up to against the slip's total
(`reconciled` only to the cent), and the form that records the bank's deposit. The same service
and model as `GET/PUT /api/admin/deposits/{batch}` (docs/reports.md, "Deposits")."""

from __future__ import annotations

from urllib.parse import quote

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
from chalicelib.clock import utcnow
from chalicelib.errors import DomainError, NotFound
from chalicelib.staff.signin import SignedIn

PAGE_SIZE = 20
FIELDS = ("committee_id", "expected_total", "deposited_on")


@console.route("/admin/deposits", methods=["GET"])
@staff_page(FINANCE)
def deposits(signed: SignedIn) -> Response:
    query = params(request())
    batch = (query.get("batch") or "").strip()
    if batch:
        return redirect(f"/admin/deposits/{quote(_batch(batch), safe='')}")
    listed = deps.deposits().recent(PAGE_SIZE, query.get("after") or None)
    return render("console/deposits.html", signed, deposits=listed.items,
                  next_url=f"/admin/deposits?after={listed.after}" if listed.after else None)


@console.route("/admin/deposits/{batch}", methods=["GET"])
@staff_page(FINANCE)
def deposit(signed: SignedIn, batch: str) -> Response:
    return _deposit_page(signed, _batch(batch), {}, {}, saved=params(request()).get("saved") == "1")


@console.route("/admin/deposits/{batch}", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def declare_deposit(signed: SignedIn, batch: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.console.forms import cents
    from chalicelib.giving.deposits import Deposit
    from chalicelib.giving.offline import DepositDeclaration

    batch = _batch(batch)
    data = form(request())
    values = {name: field(data, name) for name in FIELDS}
    amount = cents(values["expected_total"])
    if amount is None:
        return _deposit_page(signed, batch, values, {
            "expected_total": "the slip's total in dollars, such as 1250 or 1,250.50"}, status=400)
    try:
        body = validated(DepositDeclaration, {"committee_id": values["committee_id"],
                                              "expected_total_cents": amount,
                                              "deposited_on": values["deposited_on"] or None})
    except DomainError as err:
        errors = {("expected_total" if k == "expected_total_cents" else k): v for k, v in err.fields.items()}
        return _deposit_page(signed, batch, values, errors or {"form": err.message}, status=400)
    deps.deposits().declare(Deposit(batch, body.committee_id, body.expected_total_cents,
                                    signed.staff.name or signed.staff.role, utcnow(), body.deposited_on))
    logs.info("deposit declared", batch=batch, expected_total_cents=body.expected_total_cents,
              via="console")
    return redirect(f"/admin/deposits/{quote(batch, safe='')}?saved=1")


def _deposit_page(signed: SignedIn, batch: str, values: dict[str, str], errors: dict[str, str],
                  status: int = 200, saved: bool = False) -> Response:
    from chalicelib.console.render import dollars

    try:
        view = deps.deposits().view(batch)
    except NotFound:
        view = None  # nothing names it yet: the form can still declare it
    if not values and view is not None and view.deposit is not None:
        d = view.deposit
        values = {"committee_id": d.committee_id, "expected_total": dollars(d.expected_total_cents),
                  "deposited_on": d.deposited_on.isoformat() if d.deposited_on else ""}
    elif not values and view is not None and view.entries:
        values = {"committee_id": view.entries[0].committee_id}
    return render("console/deposit.html", signed, status if view or status != 200 else 404,
                  batch=batch, view=view, values=values, errors=errors, saved=saved)


def _batch(batch: str) -> str:
    from chalicelib.giving.offline import checked_batch

    return checked_batch(batch)
