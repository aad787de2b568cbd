"""Pages: the public view with live totals, and organizers' create/update/list."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated

pages = Blueprint(__name__)
ORGANIZERS = ("organizer",)


@pages.route("/api/pages/{slug}", methods=["GET"])
@handles_errors
def public_page(slug: str) -> Response:
    return json_response(deps.page_service().public(slug), headers={"Cache-Control": "no-cache"})


@pages.route("/api/admin/pages", methods=["POST"])
@handles_errors
def create_page() -> Response:
    from chalicelib.pages.input import PageCreate

    require_staff(pages.current_request, *ORGANIZERS)
    data = validated(PageCreate, read_json(pages.current_request))
    return json_response(deps.page_service().create(data).admin_view(), 201)


@pages.route("/api/admin/pages/{slug}", methods=["PUT"])
@handles_errors
def update_page(slug: str) -> Response:
    from chalicelib.pages.input import PageUpdate

    require_staff(pages.current_request, *ORGANIZERS)
    data = validated(PageUpdate, read_json(pages.current_request))
    return json_response(deps.page_service().update(slug, data).admin_view())


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
