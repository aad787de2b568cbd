"""Staff routes of follow-ups: organizers manage actions and see who answered; a donor's
recruiting record (what their share link brought in)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import require_staff
from chalicelib.api.http import handles_errors, json_response, read_json, validated

actions = Blueprint(__name__)
ORGANIZERS = ("organizer",)
DONOR_VIEWERS = ("organizer", "finance")
PII_ROLES = ("finance", "admin")


@actions.route("/api/admin/actions", methods=["POST"])
@handles_errors
def create_action() -> Response:
    from chalicelib.followups.input import ActionCreate
    from chalicelib.followups.model import Host

    staff = require_staff(actions.current_request, *ORGANIZERS)
    data = validated(ActionCreate, read_json(actions.current_request))
    host = Host("staff", staff.key_hash[:16], staff.name)  # the organizer hosts until they hand it on
    return json_response(deps.followups().create_action(data, host).view(), 201)


@actions.route("/api/admin/actions", methods=["GET"])
@handles_errors
def list_actions() -> Response:
    require_staff(actions.current_request, *ORGANIZERS)
    return json_response({"actions": [a.view() for a in deps.followups().list_actions()]})


@actions.route("/api/admin/actions/{action_id}", methods=["GET"])
@handles_errors
def get_action(action_id: str) -> Response:
    require_staff(actions.current_request, *ORGANIZERS)
    detail = deps.followups().action_detail(action_id)
    return json_response({**detail, "host_url": deps.hosting().host_url(deps.followups().action(action_id))})


@actions.route("/api/admin/actions/{action_id}", methods=["PUT"])
@handles_errors
def update_action(action_id: str) -> Response:
    from chalicelib.followups.input import ActionUpdate

    require_staff(actions.current_request, *ORGANIZERS)
    data = validated(ActionUpdate, read_json(actions.current_request))
    host = deps.hosting().supporter_host(data.host_person_id) if data.host_person_id else None
    return json_response(deps.followups().update_action(action_id, data, host).view())


@actions.route("/api/admin/donors/{donor_id}", methods=["GET"])
@handles_errors
def get_donor(donor_id: str) -> Response:
    """A donor's participation: consent, interests and what their share link brought in.
    Contact details only for finance and admin."""
    staff = require_staff(actions.current_request, *DONOR_VIEWERS)
    return json_response(deps.followups().donor_participation(
        donor_id, with_contact=staff.role in PII_ROLES))
