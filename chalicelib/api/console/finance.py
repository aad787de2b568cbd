"""Finance's console pages: exports (request, progress, download, history), payouts with what
did not match, and the donation lookup with each donation's movements."""

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
from chalicelib.errors import InvalidInput
from chalicelib.staff.signin import SignedIn

PAGE_SIZE = 20
EXPORT_KINDS = {"contributions_csv": "Contributions (CSV)", "fec_schedule_a": "FEC Schedule A (.fec)",
                "ledger_csv": "Accounting ledger with payouts (CSV)"}


def _after() -> str | None:
    return params(request()).get("after") or None


# --- exports ------------------------------------------------------------------------------
@console.route("/admin/exports", methods=["GET"])
@staff_page(FINANCE)
def exports(signed: SignedIn) -> Response:
    return _exports_page(signed, {}, {})


@console.route("/admin/exports", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def request_export(signed: SignedIn) -> Response:
    from chalicelib.exports.input import ExportRequest

    data = form(request())
    values = {k: field(data, k) for k in ("kind", "from", "to", "committee_id")}
    body = {k: v for k, v in values.items() if v}
    try:
        asked = validated(ExportRequest, body)
        job = deps.export_service().request(asked.kind, asked.from_day, asked.to_day, asked.committee_id,
                                            requested_by=signed.staff.name)
    except InvalidInput as err:
        return _exports_page(signed, values, err.fields or {"form": err.message}, status=400)
    logs.info("export requested", export_id=job.export_id, kind=job.kind, via="console")
    return redirect(f"/admin/exports/{job.export_id}")


@console.route("/admin/exports/{export_id}", methods=["GET"])
@staff_page(FINANCE)
def export(signed: SignedIn, export_id: str) -> Response:
    view = deps.export_service().view(export_id)
    return render("console/export.html", signed, job=view.job, kinds=EXPORT_KINDS,
                  ready=view.download_url is not None)


@console.route("/admin/exports/{export_id}/download", methods=["GET"])
@staff_page(FINANCE)
def download_export(signed: SignedIn, export_id: str) -> Response:
    """A fresh presigned link each time (they last 15 minutes): the button never goes stale.
    `?file=jsonl` for the FEC export's JSON lines."""
    view = deps.export_service().view(export_id)
    url = view.jsonl_url if params(request()).get("file") == "jsonl" else view.download_url
    if url is None:
        return render("console/error.html", signed, 409, heading="Not ready yet",
                      message="This export has no file to download (yet).")
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       "Referrer-Policy": "no-referrer"})


def _exports_page(signed: SignedIn, values: dict[str, str], errors: dict[str, str],
                  status: int = 200) -> Response:
    from datetime import date, timedelta

    history = deps.export_service().history(PAGE_SIZE, _after())
    today = date.today()
    defaults = {"kind": "contributions_csv", "from": (today - timedelta(days=30)).isoformat(),
                "to": today.isoformat(), "committee_id": ""}
    running = any(j.status in ("queued", "running") for j in history.items)
    return render("console/exports.html", signed, status, values={**defaults, **values},
                  errors=errors, history=history.items, kinds=EXPORT_KINDS, running=running,
                  next_url=f"/admin/exports?after={history.after}" if history.after else None)


# --- payouts ------------------------------------------------------------------------------
@console.route("/admin/payouts", methods=["GET"])
@staff_page(FINANCE)
def payouts(signed: SignedIn) -> Response:
    listed = deps.payout_service().page(PAGE_SIZE, _after())
    return render("console/payouts.html", signed, payouts=listed.items,
                  next_url=f"/admin/payouts?after={listed.after}" if listed.after else None)


@console.route("/admin/payouts/{payout_id}", methods=["GET"])
@staff_page(FINANCE)
def payout(signed: SignedIn, payout_id: str) -> Response:
    return render("console/payout.html", signed, record=deps.payout_service().view(payout_id))


# --- donations ----------------------------------------------------------------------------
@console.route("/admin/donations", methods=["GET"])
@staff_page(FINANCE)
def donations(signed: SignedIn) -> Response:
    query = params(request())
    text = (query.get("q") or "").strip()
    found = deps.giving_service().lookup(text, PAGE_SIZE, _after()) if text else None
    next_url = None
    if found is not None and found.after:
        from urllib.parse import urlencode

        next_url = "/admin/donations?" + urlencode({"q": text, "after": found.after})
    return render("console/donations.html", signed, q=text, found=found, next_url=next_url)


@console.route("/admin/donors/{donor_id}", methods=["GET"])
@staff_page(FINANCE)
def donor(signed: SignedIn, donor_id: str) -> Response:
    listed = deps.giving_service().donor_donations(donor_id, PAGE_SIZE, _after())
    return render("console/donor.html", signed, donor_id=donor_id, donations=listed.items,
                  next_url=f"/admin/donors/{donor_id}?after={listed.after}" if listed.after else None)


@console.route("/admin/donations/{donation_id}", methods=["GET"])
@staff_page(FINANCE)
def donation(signed: SignedIn, donation_id: str) -> Response:
    service = deps.giving_service()
    found = service.donation(donation_id)
    return render("console/donation.html", signed, d=found, movements=service.movements(donation_id))


# --- the review queue ---------------------------------------------------------------------
@console.route("/admin/reviews", methods=["GET"])
@staff_page(FINANCE)
def reviews(signed: SignedIn) -> Response:
    listed = deps.reviews().queue(PAGE_SIZE, _after())
    return render("console/reviews.html", signed, reviews=listed.items,
                  decided=params(request()).get("decided"),
                  next_url=f"/admin/reviews?after={listed.after}" if listed.after else None)


@console.route("/admin/reviews/{donation_id}", methods=["POST"], content_types=[FORM])
@staff_page(FINANCE)
def decide_review(signed: SignedIn, donation_id: str) -> Response:
    from urllib.parse import quote

    decided = deps.reviews().decide(donation_id, field(form(request()), "decision"), signed.staff.name)
    logs.info("review decided", donation_id=decided.donation_id, decision=decided.review_status,
              via="console")
    return redirect(f"/admin/reviews?decided={quote(decided.donation_id)}")
