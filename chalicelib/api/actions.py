"""Staff routes of follow-ups: organizers manage actions and see who answered; a donor's
recruiting record (what their share link brought in)."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated

actions = Blueprint(__name__)
ORGANIZERS = ("organizer",)
DONOR_VIEWERS = ("organizer", "finance")
PII_ROLES = ("finance", "admin")
ACTION_STATUSES = ("proposed", "declined", "active", "closed")


@actions.route("/api/admin/actions", methods=["POST"])
@handles_errors
def create_action() -> Response:
    from chalicelib.followups.input import ActionCreate
    from chalicelib.followups.model import Host

    staff = require_staff(actions.current_request, *ORGANIZERS)
    data = validated(ActionCreate, read_json(actions.current_request))
    host = Host("staff", staff.key_hash[:16], staff.name)  # the organizer hosts until they hand it on
    return json_response(deps.actions().create_action(data, host).view(), 201)


@actions.route("/api/admin/actions", methods=["GET"])
@handles_errors
def list_actions() -> Response:
    """Every action, or only those of one `status` (`proposed`: supporters' offers to host,
    waiting for approval; `declined`, `active`, `closed`)."""
    from chalicelib.errors import InvalidInput

    require_staff(actions.current_request, *ORGANIZERS)
    found = deps.actions().list_actions()
    params: Mapping[str, str] = actions.current_request.query_params or {}
    status = params.get("status")
    if status is not None:
        if status not in ACTION_STATUSES:
            raise InvalidInput("invalid_request", "Unknown status.",
                               fields={"status": " or ".join(ACTION_STATUSES)})
        found = deps.actions().proposals(found, status)
    return json_response({"actions": [a.view() for a in found]})


@actions.route("/api/admin/actions/{action_id}/approve", methods=["POST"])
@handles_errors
def approve_action(action_id: str) -> Response:
    """Open a supporter's proposed action (its host is told, with their host link)."""
    require_staff(actions.current_request, *ORGANIZERS)
    return json_response(deps.actions().review(action_id, "approved").view())


@actions.route("/api/admin/actions/{action_id}/decline", methods=["POST"])
@handles_errors
def decline_action(action_id: str) -> Response:
    """Decline a supporter's proposed action (they are told, kindly)."""
    require_staff(actions.current_request, *ORGANIZERS)
    return json_response(deps.actions().review(action_id, "declined").view())


@actions.route("/api/admin/actions/{action_id}", methods=["GET"])
@handles_errors
def get_action(action_id: str) -> Response:
    require_staff(actions.current_request, *ORGANIZERS)
    detail = deps.actions().action_detail(action_id)
    return json_response({**detail, "host_url": deps.hosting().host_url(deps.actions().action(action_id))})


@actions.route("/api/admin/actions/{action_id}", methods=["PUT"])
@handles_errors
def update_action(action_id: str) -> Response:
    from chalicelib.followups.input import ActionUpdate

    require_staff(actions.current_request, *ORGANIZERS)
    data = validated(ActionUpdate, read_json(actions.current_request))
    host = deps.hosting().supporter_host(data.host_person_id) if data.host_person_id else None
    return json_response(deps.actions().update_action(action_id, data, host).view())


@actions.route("/api/admin/donors/{donor_id}", methods=["GET"])
@handles_errors
def get_donor(donor_id: str) -> Response:
    """A donor's participation: consent, interests and what their share link brought in.
    Contact details only for finance and admin."""
    staff = require_staff(actions.current_request, *DONOR_VIEWERS)
    return json_response(deps.audience().donor_participation(
        donor_id, with_contact=staff.role in PII_ROLES))
