"""Reports for staff: refcodes (where donations come from and how well each source converts)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response
from chalicelib.errors import InvalidInput

reports = Blueprint(__name__)
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_COMMITTEE = re.compile(r"^C\d{8}$")
_ACTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@reports.route("/api/admin/reports/refcodes", methods=["GET"])
@handles_errors
def refcode_report() -> Response:
    """`?page=&from=&to=` or `?committee_id=&from=&to=` (UTC days, inclusive; default the last 30
    days): per refcode, donations, amount, visitors, conversion rate, new and returning donors.
    One of `page` and `committee_id` is required: the ledger is read by committee and day."""
    require_staff(reports.current_request, "organizer", "finance")
    params: Mapping[str, str] = reports.current_request.query_params or {}
    page, committee_id = params.get("page") or None, params.get("committee_id") or None
    if page is not None and not _SLUG.fullmatch(page):
        raise InvalidInput("invalid_request", "Unknown page.", fields={"page": "must be a page slug"})
    if committee_id is not None and not _COMMITTEE.fullmatch(committee_id):
        raise InvalidInput("invalid_request", "Unknown committee.",
                           fields={"committee_id": "must be an FEC committee id such as C00123456"})
    if page is None and committee_id is None:
        raise InvalidInput("invalid_request", "Name a page or a committee.",
                           fields={"page": "page or committee_id is required"})
    if page is not None:
        deps.page_service().get(page)  # 404 for a page that does not exist
    return json_response(deps.report_service().report(page, params.get("from"), params.get("to"),
                                                      committee_id=committee_id))


@reports.route("/api/admin/reports/participation", methods=["GET"])
@handles_errors
def participation_report() -> Response:
    """`?action_id=`: distinct people at each stage of the action's funnel, invited -> rsvp_yes
    -> confirmed -> attended -> hosted_or_raised; or `?page_slug=&refcode=&from=&to=`: the same
    for the donors of a page (and refcode), with `donors` first (docs/participation.md)."""
    require_staff(reports.current_request, "organizer", "finance", "admin")
    params: Mapping[str, str] = reports.current_request.query_params or {}
    action_id = params.get("action_id") or None
    page_slug, refcode = params.get("page_slug") or None, params.get("refcode") or None
    if page_slug is not None and action_id is None:
        return json_response(deps.participation_report().for_page(
            page_slug, refcode, params.get("from"), params.get("to")))
    if refcode is not None:
        raise InvalidInput("invalid_request", "A refcode's funnel is per page.",
                           fields={"page_slug": "required with refcode"})
    if action_id is None or not _ACTION.fullmatch(action_id):
        raise InvalidInput("invalid_request", "Name an action.",
                           fields={"action_id": "action_id is required"})
    return json_response(deps.participation_report().for_action(action_id))
