"""Organizers' console pages: the dashboard, the page editor with its live preview, A/B results,
the refcode report (finance too), actions with their invitations, and the recruiters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from chalice.app import Response

from chalicelib import deps
from chalicelib.api.console.web import (
    FORM,
    ORGANIZERS,
    PII_ROLES,
    STAFF,
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
from chalicelib.staff.auth import may
from chalicelib.staff.signin import SignedIn

PAGE_SIZE = 10


def _limit() -> int:
    return PAGE_SIZE


def _after() -> str | None:
    return params(request()).get("after") or None


# --- dashboard ----------------------------------------------------------------------------
@console.route("/admin", methods=["GET"])
@staff_page(ORGANIZERS)
def dashboard(signed: SignedIn) -> Response:
    from chalicelib.console.views import hourly_chart

    overview = deps.dashboard().overview(_limit(), _after())
    charts = {row.page.slug: hourly_chart(row) for row in overview.items}
    return render("console/dashboard.html", signed, rows=overview.items, charts=charts,
                  next_url=f"/admin?after={overview.after}" if overview.after else None)


# --- the page editor ----------------------------------------------------------------------
@console.route("/admin/pages/new", methods=["GET"])
@staff_page(ORGANIZERS)
def new_page(signed: SignedIn) -> Response:
    from chalicelib.console.forms import page_values

    return _editor(signed, None, page_values(None, _now()), {})


@console.route("/admin/pages", methods=["POST"], content_types=[FORM])
@staff_page(ORGANIZERS)
def create_page(signed: SignedIn) -> Response:
    from chalicelib.console.forms import page_body, submitted_values
    from chalicelib.pages.input import PageCreate

    data = form(request())
    body, errors = page_body(data, creating=True, zone=_zone(data))
    try:
        if errors:
            raise InvalidInput("invalid_request", "Some fields are missing or invalid.", fields=errors)
        page = deps.page_service().create(validated(PageCreate, body), changed_by=signed.staff.name)
    except InvalidInput as err:
        return _editor(signed, None, submitted_values(data), _errors(err), status=400)
    return redirect(f"/admin/pages/{page.slug}?saved=created")


@console.route("/admin/pages/{slug}", methods=["GET"])
@staff_page(ORGANIZERS)
def edit_page(signed: SignedIn, slug: str) -> Response:
    from chalicelib.console.forms import page_values

    service = deps.page_service()
    page = service.get(slug)
    return _editor(signed, page, page_values(page, _now(), service.time_zone(page)), {},
                   saved=params(request()).get("saved"))


@console.route("/admin/pages/{slug}", methods=["POST"], content_types=[FORM])
@staff_page(ORGANIZERS)
def update_page(signed: SignedIn, slug: str) -> Response:
    from chalicelib.console.forms import changes, page_body, submitted_values
    from chalicelib.pages.input import PageUpdate

    service = deps.page_service()
    page = service.get(slug, consistent=True)
    data = form(request())
    body, errors = page_body(data, creating=False, zone=_zone(data))
    try:
        if errors:
            raise InvalidInput("invalid_request", "Some fields are missing or invalid.", fields=errors)
        changed = changes(body, page, _now())
        if not changed:
            return redirect(f"/admin/pages/{slug}?saved=unchanged")
        service.update(slug, validated(PageUpdate, changed), changed_by=signed.staff.name)
    except InvalidInput as err:
        return _editor(signed, page, submitted_values(data), _errors(err), status=400)
    return redirect(f"/admin/pages/{slug}?saved=updated")


@console.route("/admin/preview", methods=["GET"])
@staff_page(ORGANIZERS)
def preview(signed: SignedIn) -> Response:
    """The donation page as the editor's (unsaved) fields would show it, for the 360 px frame.
    Reads nothing but the query string and writes nothing; invalid fields show as a notice."""
    from chalicelib.console.views import preview_html

    html, status = preview_html(params(request()), _now())
    return Response(body=html, status_code=status, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "frame-ancestors 'self'; script-src 'none'; form-action 'none'"})


def _editor(signed: SignedIn, page: Any, values: dict[str, str], errors: dict[str, str],
            status: int = 200, saved: str | None = None) -> Response:
    from urllib.parse import urlencode

    from chalicelib.console.forms import VARIANT_ROWS

    service = deps.page_service()
    history = service.history(page.slug)["history"] if page is not None else []
    preview_query = urlencode({k: v for k, v in values.items() if k != "csrf"})
    committee_id = values.get("committee_id", "")
    return render("console/page_edit.html", signed, status, page=page, values=values, errors=errors,
                  history=history, variant_rows=range(VARIANT_ROWS), saved=saved,
                  preview_url=f"/admin/preview?{preview_query}",
                  extended=page.extended(_now()) if page is not None else False,
                  zone=service.committee_zone(committee_id) if committee_id else None,
                  calendar=service.calendar(committee_id))


def _zone(data: dict[str, list[str]]) -> str:
    """The time zone the form's times are typed in: its committee's."""
    return deps.page_service().committee_zone((data.get("committee_id") or [""])[-1].strip())


def _errors(err: InvalidInput) -> dict[str, str]:
    from chalicelib.console.forms import form_errors

    found = form_errors(err.fields)
    return found or {"form": err.message}


# --- A/B results --------------------------------------------------------------------------
@console.route("/admin/pages/{slug}/results", methods=["GET"])
@staff_page(ORGANIZERS)
def page_results(signed: SignedIn, slug: str) -> Response:
    from chalicelib.console.views import results_chart

    results = deps.page_service().results(slug)
    return render("console/results.html", signed, slug=slug, results=results,
                  chart=results_chart(results))


# --- refcodes -----------------------------------------------------------------------------
@console.route("/admin/reports/refcodes", methods=["GET"])
@staff_page(STAFF)
def refcodes(signed: SignedIn) -> Response:
    from chalicelib.console.views import refcode_chart

    query = params(request())
    page_slug = query.get("page") or None
    committee_id = query.get("committee_id") or None
    report = None
    if page_slug or committee_id:
        if page_slug:
            deps.page_service().get(page_slug)
        report = deps.report_service().report(page_slug, query.get("from"), query.get("to"),
                                              committee_id=committee_id)
    return render("console/refcodes.html", signed, query=query, report=report,
                  chart=refcode_chart(report) if report and report["refcodes"] else None)


# --- participation funnel ------------------------------------------------------------------
@console.route("/admin/reports/participation", methods=["GET"])
@staff_page(ORGANIZERS)
def participation(signed: SignedIn) -> Response:
    from chalicelib.console.views import participation_chart

    query = params(request())
    action_id, page_slug = query.get("action_id") or None, query.get("page_slug") or None
    funnel = deps.participation_report()
    report = (funnel.for_action(action_id) if action_id else
              funnel.for_page(page_slug, query.get("refcode") or None, query.get("from") or None,
                              query.get("to") or None) if page_slug else None)
    return render("console/participation.html", signed, query=query, report=report,
                  chart=participation_chart(report) if report else None)


# --- actions ------------------------------------------------------------------------------
@console.route("/admin/actions", methods=["GET"])
@staff_page(ORGANIZERS)
def actions(signed: SignedIn) -> Response:
    listed = deps.actions().actions_page(PAGE_SIZE * 2, _after())
    return render("console/actions.html", signed, actions=listed.items, now=_now(),
                  next_url=f"/admin/actions?after={listed.after}" if listed.after else None)


@console.route("/admin/actions/{action_id}", methods=["GET"])
@staff_page(ORGANIZERS)
def action(signed: SignedIn, action_id: str) -> Response:
    detail = deps.actions().action_page(action_id, 50, _after())
    return render("console/action.html", signed, detail=detail,
                  next_url=(f"/admin/actions/{action_id}?after={detail.invitations.after}"
                            if detail.invitations.after else None))


# --- recruiters ---------------------------------------------------------------------------
@console.route("/admin/recruiters", methods=["GET"])
@staff_page(ORGANIZERS)
def recruiters(signed: SignedIn) -> Response:
    board = deps.audience().recruiters(50, with_contact=may(signed.staff.role, PII_ROLES))
    return render("console/recruiters.html", signed, board=board)


def _now() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["field"]
