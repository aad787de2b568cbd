"""Pages: the public view with live totals, and organizers' create/update/list, each page's
deadline and goal history, and its A/B results."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api import caching, visitors
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated

pages = Blueprint(__name__)
ORGANIZERS = ("organizer",)


@pages.route("/api/pages/{slug}", methods=["GET"])
@handles_errors
def public_page(slug: str) -> Response:
    """The page as this visitor sees it: their bucket's A/B variant (without the edge in front
    the cookie is set if absent), a returning donor's own ladder with `?t=` (never cached), and
    `?amount=` echoed as the preselected amount. Counts nothing: the page's beacon does."""
    request = pages.current_request
    audience = visitors.audience(request)
    view = deps.page_service().public(slug, visitors.visit(request, audience.bucket))
    return json_response(view, headers=audience.headers)


@pages.route("/api/pages/{slug}/progress", methods=["GET"])
@handles_errors
def page_progress(slug: str) -> Response:
    """The thermometer and the clock (raised, count, goal, seconds left, status): the same for
    every visitor, so the edge keeps one copy per page."""
    return json_response(deps.page_service().progress(slug),
                         headers={"Cache-Control": caching.SHARED})


@pages.route("/api/pages/{slug}/visits", methods=["POST"])
@handles_errors
def page_visit(slug: str) -> Response:
    """The page's beacon: counts this visitor (their `gs_vid` cookie) once for their variant's
    impression and, with `{"refcode": …}`, once for that refcode. Never cached; without a
    visitor cookie nothing is counted."""
    from chalicelib.pages.input import VisitBeacon

    request = pages.current_request
    body = read_json(request)
    beacon = validated(VisitBeacon, {} if body is None else body)
    service = deps.page_service()
    visitor = visitors.visitor_id(request)
    if visitor is None:
        service.get(slug)  # an unknown page is still a 404
        return json_response({"variant_id": None, "impression": False, "refcode": False})
    counted = service.record_visit(slug, visitor, beacon.refcode)
    return json_response({"variant_id": counted.variant_id, "impression": counted.impression,
                          "refcode": counted.refcode})


@pages.route("/api/admin/pages", methods=["POST"])
@handles_errors
def create_page() -> Response:
    from chalicelib.pages.input import PageCreate

    staff = require_staff(pages.current_request, *ORGANIZERS)
    data = validated(PageCreate, read_json(pages.current_request))
    return json_response(deps.page_service().create(data, changed_by=staff.name).admin_view(), 201)


@pages.route("/api/admin/pages/{slug}", methods=["PUT"])
@handles_errors
def update_page(slug: str) -> Response:
    from chalicelib.pages.input import PageUpdate

    staff = require_staff(pages.current_request, *ORGANIZERS)
    data = validated(PageUpdate, read_json(pages.current_request))
    return json_response(deps.page_service().update(slug, data, changed_by=staff.name).admin_view())


@pages.route("/api/admin/pages/{slug}", methods=["GET"])
@handles_errors
def get_page(slug: str) -> Response:
    require_staff(pages.current_request, *ORGANIZERS)
    return json_response(deps.page_service().get(slug).admin_view())


@pages.route("/api/admin/pages", methods=["GET"])
@handles_errors
def list_pages() -> Response:
    require_staff(pages.current_request, *ORGANIZERS)
    return json_response({"pages": [p.admin_view() for p in deps.page_service().list()]})


@pages.route("/api/admin/pages/{slug}/history", methods=["GET"])
@handles_errors
def page_history(slug: str) -> Response:
    """Every change to the page's deadline or goal, oldest first, with who made it."""
    require_staff(pages.current_request, *ORGANIZERS)
    return json_response(deps.page_service().history(slug))


@pages.route("/api/admin/pages/{slug}/results", methods=["GET"])
@handles_errors
def page_results(slug: str) -> Response:
    """The page's A/B test: per variant, visitors, donations and the probability of beating the
    control; `winner` stays null below the minimum sample (AB_MIN_SAMPLE)."""
    require_staff(pages.current_request, *ORGANIZERS)
    return json_response(deps.page_service().results(slug))
